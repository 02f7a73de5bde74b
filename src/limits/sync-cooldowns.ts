import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors.ts';
import { metrics } from '../ops/metrics.ts';
import { describeDuration } from './ban-ladder.ts';
import type { CounterStore } from './counters.ts';
import { refusal } from './request-limiter.ts';

/**
 * Connect attempts one user may make per cooldown period. Each checks keys against an
 * exchange, so they are limited; a few at once still lets a user add several accounts in a go.
 */
export const CONNECTS_PER_COOLDOWN = 5;

/**
 * On-demand operations that call an exchange, paced so that no caller can make us hammer an
 * exchange with its keys (and get them, or our IP, limited there): one on-demand sync per
 * account per cooldown (`load_balances`), and `CONNECTS_PER_COOLDOWN` connect attempts
 * (`accounts/new`) per user per cooldown. Counted before the exchange is called, whatever the
 * outcome: a failed attempt called the exchange too.
 */
export class SyncCooldowns {
  private readonly syncs: RateLimiterAbstract;
  private readonly connects: RateLimiterAbstract;

  constructor(
    store: CounterStore,
    private readonly cooldownMs: number,
  ) {
    this.syncs = store.counter({ name: 'sync', points: 1, durationMs: cooldownMs });
    this.connects = store.counter({
      name: 'connect',
      points: CONNECTS_PER_COOLDOWN,
      durationMs: cooldownMs,
    });
  }

  /** Before an on-demand sync of `accountId`; throws 429 when the last one was too recent. */
  async onDemandSync(accountId: number): Promise<void> {
    const refused = await refusal(this.syncs.consume(accountId));
    if (!refused) return;
    this.refuse();
    throw new AppError(
      'rate_limit_exceeded',
      `Balances of account ${accountId} were loaded on demand less than ` +
        `${describeDuration(this.cooldownMs)} ago; retry in ${describeDuration(refused.msBeforeNext)}.`,
    ).retryAfter(refused.msBeforeNext);
  }

  /** Before connecting an account for `userId`; throws 429 past the connects allowed. */
  async connect(userId: number): Promise<void> {
    const refused = await refusal(this.connects.consume(userId));
    if (!refused) return;
    this.refuse();
    throw new AppError(
      'rate_limit_exceeded',
      `At most ${CONNECTS_PER_COOLDOWN} accounts may be connected per ` +
        `${describeDuration(this.cooldownMs)}; retry in ${describeDuration(refused.msBeforeNext)}.`,
    ).retryAfter(refused.msBeforeNext);
  }

  /** Counted here; logged once by whoever answers the refusal (the HTTP error handler). */
  private refuse(): void {
    metrics.refusals.inc({ reason: 'cooldown' });
  }
}
