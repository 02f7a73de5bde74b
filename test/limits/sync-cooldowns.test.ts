import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { CONNECTS_PER_COOLDOWN, SyncCooldowns } from '../../src/limits/sync-cooldowns.ts';
import { countersOnFakedClock } from '../support/limits.ts';

const COOLDOWN_MS = 30_000;
let cooldowns: SyncCooldowns;

const { advance } = countersOnFakedClock((store) => {
  cooldowns = new SyncCooldowns(store, COOLDOWN_MS);
});
const refusal = (attempt: Promise<void>) =>
  attempt.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('on-demand syncs of one account', () => {
  it('are one per cooldown; another account is not held back', async () => {
    expect(await refusal(cooldowns.onDemandSync(1))).toBeUndefined();
    advance(10_000);
    const refused = await refusal(cooldowns.onDemandSync(1));
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('rate_limit_exceeded');
    expect((refused as AppError).retryAfterSeconds).toBe(20);
    expect(await refusal(cooldowns.onDemandSync(2))).toBeUndefined();
    advance(20_000);
    expect(await refusal(cooldowns.onDemandSync(1))).toBeUndefined();
  });
});

describe('connecting accounts', () => {
  it(`allows a user ${CONNECTS_PER_COOLDOWN} attempts per cooldown`, async () => {
    for (let i = 0; i < CONNECTS_PER_COOLDOWN; i++) {
      expect(await refusal(cooldowns.connect(7))).toBeUndefined();
    }
    expect(((await refusal(cooldowns.connect(7))) as AppError).code).toBe('rate_limit_exceeded');
    expect(await refusal(cooldowns.connect(8))).toBeUndefined();
    advance(COOLDOWN_MS);
    expect(await refusal(cooldowns.connect(7))).toBeUndefined();
  });
});
