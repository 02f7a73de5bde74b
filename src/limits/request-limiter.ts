import { LRUCache } from 'lru-cache';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimitsConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metrics } from '../ops/metrics.ts';
import { LADDER_MEMORY_MS, banLengthMs, describeDuration } from './ban-ladder.ts';
import type { CounterStore } from './counters.ts';

/** Requests refused during one mitigation period before the caller's IP is banned. */
export const STRIKES_BEFORE_BAN = 10;
/**
 * Marks a ban in an IP's gate counter: no failed-authentication budget reaches it, so one read
 * of one row tells "banned", "refused for failed authentications" and "fine" apart.
 */
const BANNED = 2_000_000_000;
/** IP and key states remembered in this process, so that most requests cost no extra round trip. */
const MEMO_ENTRIES = 10_000;
/**
 * How long an IP found in good standing is believed so without asking the store again. Its
 * own refusals and bans this process learns at once; one imposed by another process (PostgreSQL)
 * is honoured here within this time. It spares the hot path one round trip of two.
 */
const GOOD_STANDING_MS = 1000;

type IpState = { until: number; standing: 'good' | 'refused' | 'banned' };

/**
 * Points of a key this process took from the shared store ahead of use: `left` requests may be
 * served without a round trip until `until` (the end of the store's window). A lease is a
 * fraction of what the store had left, and one point near the limit, so the processes together
 * never serve a key more than its limit; they may refuse it a little early when another process
 * holds unused points.
 */
type Lease = { left: number; until: number; remaining: number };
/** A lease is at most this share of the points the store has left… */
const LEASE_SHARE = 8;
/** …and at most this many points. */
const LARGEST_LEASE = 100;

type Rate = NonNullable<LimitsConfig['rate']>;

/**
 * 3Commas' request limits. Per API key: `rate.points` requests per window; past it the key is
 * refused for the mitigation period (`blockMs`). Per IP: the same budget of failed
 * authentications, then the same mitigation. Requests that keep arriving while refused are
 * strikes: more than ten in one mitigation period ban the IP (`ban-ladder.ts`), for every key.
 *
 * The order in a request: `admit` (before the key is looked up: a refused or banned IP is
 * answered without touching the keys), then either `authenticationFailed` or `spend`. Each
 * returns the error to answer, or undefined. Each refusal is counted in the metrics; the HTTP
 * error handler logs every refused request once, with the description given here (which names
 * the IP and the limit, never a key, secret or signature). A new ban is also logged here, at
 * warn, with its step on the ladder: an event an operator wants to see on its own.
 */
export class RequestLimiter {
  private readonly gate: RateLimiterAbstract;
  private readonly keys: RateLimiterAbstract;
  private readonly strikes: RateLimiterAbstract;
  private readonly ladder: RateLimiterAbstract;
  /** IP → its standing as last learnt, and until when that holds. */
  private readonly ips = new LRUCache<string, IpState>({ max: MEMO_ENTRIES });
  /** Key id → until when it is refused here. */
  private readonly refusedKeys = new LRUCache<number, number>({ max: MEMO_ENTRIES });
  /** Key id → points leased ahead (shared stores only: in memory a point costs nothing). */
  private readonly leases: LRUCache<number, Lease> | undefined;

  constructor(
    store: CounterStore,
    private readonly rate: Rate,
    private readonly blockMs: number,
    private readonly logger: Logger,
  ) {
    if (rate.points >= BANNED / 2) {
      throw new RangeError(`a rate limit of ${rate.points} requests is beyond what is counted`);
    }
    const budget = { points: rate.points, durationMs: rate.windowMs, blockMs };
    if (store.kind === 'postgres') this.leases = new LRUCache({ max: MEMO_ENTRIES });
    this.gate = store.counter({ name: 'ip', ...budget });
    this.keys = store.counter({ name: 'key', ...budget });
    this.strikes = store.counter({
      name: 'strikes',
      points: STRIKES_BEFORE_BAN,
      durationMs: blockMs,
    });
    this.ladder = store.counter({ name: 'bans', points: BANNED, durationMs: LADDER_MEMORY_MS });
  }

  /** For logs and the benchmark: what is enforced. */
  describe(): string {
    return (
      `${this.rate.points} requests per ${describeDuration(this.rate.windowMs)} per key ` +
      `(and failed authentications per IP), refused for ${describeDuration(this.blockMs)} past it`
    );
  }

  /** Before authentication: answers a banned IP (418) or one refused for failed authentications. */
  async admit(ip: string): Promise<AppError | undefined> {
    const now = Date.now();
    let known = this.ips.get(ip);
    if (known === undefined || known.until <= now) {
      const state = live(await this.gate.get(ip));
      known =
        !state || state.consumedPoints <= this.rate.points
          ? { until: now + GOOD_STANDING_MS, standing: 'good' }
          : {
              until: now + state.msBeforeNext,
              standing: state.consumedPoints >= BANNED ? 'banned' : 'refused',
            };
      this.ips.set(ip, known);
    }
    if (known.standing === 'good') return undefined;
    if (known.standing === 'banned') return this.bannedAnswer(ip, known.until - now);
    return this.strike(ip, known.until - now, 'ip');
  }

  /** After an unknown key, a bad signature or a missing header: spends one of the IP's points. */
  async authenticationFailed(ip: string): Promise<AppError | undefined> {
    const refused = await refusal(this.gate.consume(ip));
    if (!refused) return undefined;
    const banned = refused.consumedPoints >= BANNED;
    const standing = banned ? 'banned' : 'refused';
    this.ips.set(ip, { until: Date.now() + refused.msBeforeNext, standing });
    if (banned) return this.bannedAnswer(ip, refused.msBeforeNext);
    if (refused.consumedPoints > this.rate.points + 1) {
      return this.strike(ip, refused.msBeforeNext, 'ip');
    }
    metrics.refusals.inc({ reason: 'ip' });
    return this.ipOverLimit(ip, refused.msBeforeNext);
  }

  /** After authentication: spends one of the key's points. */
  async spend(keyId: number, ip: string): Promise<AppError | undefined> {
    const now = Date.now();
    const memo = this.refusedKeys.get(keyId);
    if (memo !== undefined && memo > now) return this.strike(ip, memo - now, 'key');
    const lease = this.leases?.get(keyId);
    const current = lease !== undefined && lease.until > now ? lease : undefined;
    if (current !== undefined && current.left > 0) {
      current.left -= 1;
      return undefined;
    }
    // Unknown standing (a new window): one point, which tells how many the store has left.
    const size = current
      ? Math.max(1, Math.min(LARGEST_LEASE, Math.floor(current.remaining / LEASE_SHARE)))
      : 1;
    const refused = await refusal(
      this.keys.consume(keyId, size).then((res) => {
        this.addLease(keyId, size - 1, Date.now() + res.msBeforeNext, res.remainingPoints);
        return res;
      }),
    );
    if (!refused) return undefined;
    // A lease that went past the limit: its points up to the limit are still this process's.
    const granted = size - (refused.consumedPoints - this.rate.points);
    if (granted > 0) {
      const until = Date.now() + Math.min(refused.msBeforeNext, this.rate.windowMs);
      this.addLease(keyId, granted - 1, until, 0);
      return undefined;
    }
    this.refusedKeys.set(keyId, Date.now() + refused.msBeforeNext);
    // The request that crossed the limit starts the mitigation period; later ones are strikes.
    if (refused.consumedPoints - size > this.rate.points) {
      return this.strike(ip, refused.msBeforeNext, 'key');
    }
    metrics.refusals.inc({ reason: 'key' });
    return this.keyOverLimit(refused.msBeforeNext);
  }

  /** Concurrent requests may each lease points: what one leased must not overwrite another's. */
  private addLease(keyId: number, points: number, until: number, remaining: number): void {
    if (!this.leases) return;
    const held = this.leases.get(keyId);
    const left = held !== undefined && held.until > Date.now() ? held.left + points : points;
    this.leases.set(keyId, { left, until, remaining });
  }

  /** A request arriving while refused. The strike that is one too many bans the IP. */
  private async strike(ip: string, msLeft: number, reason: 'ip' | 'key'): Promise<AppError> {
    const over = await refusal(this.strikes.consume(ip));
    // Exactly the crossing one bans: concurrent strikes beyond it (other processes) do not
    // climb the ladder twice.
    if (over && over.consumedPoints === STRIKES_BEFORE_BAN + 1) return this.ban(ip);
    metrics.refusals.inc({ reason });
    return reason === 'key' ? this.keyOverLimit(msLeft) : this.ipOverLimit(ip, msLeft);
  }

  private async ban(ip: string): Promise<AppError> {
    const level = (live(await this.ladder.get(ip))?.consumedPoints ?? 0) + 1;
    const banMs = banLengthMs(level);
    await this.ladder.set(ip, level, (banMs + LADDER_MEMORY_MS) / 1000);
    await this.gate.set(ip, BANNED, banMs / 1000);
    await this.strikes.delete(ip);
    this.ips.set(ip, { until: Date.now() + banMs, standing: 'banned' });
    metrics.bans.inc();
    metrics.refusals.inc({ reason: 'banned' });
    this.logger.warn(
      { reason: 'banned', ip, banLevel: level, banS: seconds(banMs) },
      'IP banned: it kept sending requests while refused',
    );
    return this.bannedError(ip, banMs, level);
  }

  private bannedAnswer(ip: string, msLeft: number): AppError {
    metrics.refusals.inc({ reason: 'banned' });
    return this.bannedError(ip, msLeft);
  }

  private bannedError(ip: string, msLeft: number, level?: number): AppError {
    const why = level === undefined ? '' : ` (ban ${level}: each further ban doubles)`;
    return new AppError(
      'ip_banned',
      `IP ${ip} is banned for ${describeDuration(msLeft)}${why}: it kept sending requests ` +
        'while refused for exceeding a rate limit.',
    ).retryAfter(msLeft);
  }

  private keyOverLimit(msLeft: number): AppError {
    return new AppError(
      'rate_limit_exceeded',
      `Rate limit exceeded: an API key may make ${this.rate.points} requests per ` +
        `${describeDuration(this.rate.windowMs)}. This key is refused for ` +
        `${describeDuration(msLeft)}; requests sent meanwhile lead to an IP ban.`,
    ).retryAfter(msLeft);
  }

  private ipOverLimit(ip: string, msLeft: number): AppError {
    return new AppError(
      'rate_limit_exceeded',
      `Too many failed authentications from ${ip} (at most ${this.rate.points} per ` +
        `${describeDuration(this.rate.windowMs)}): this IP is refused for ` +
        `${describeDuration(msLeft)}; requests sent meanwhile lead to a ban.`,
    ).retryAfter(msLeft);
  }
}

const seconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * A counter's state if it is still running. The memory store forgets expired entries by timer,
 * so under a faked clock a `get` may return one past its end.
 */
const live = (res: RateLimiterRes | null) => (res && res.msBeforeNext > 0 ? res : null);

/** rate-limiter-flexible rejects with a RateLimiterRes when over the limit; undefined if not. */
export async function refusal(
  consumed: Promise<RateLimiterRes>,
): Promise<RateLimiterRes | undefined> {
  try {
    await consumed;
    return undefined;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection;
    throw rejection;
  }
}
