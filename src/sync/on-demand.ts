import { invalid } from '../errors.ts';
import { metrics } from '../ops/metrics.ts';
import type { Storage } from '../storage/database.ts';
import type { AccountRow } from '../storage/schema.ts';
import { isLive, type AccountSync, type SyncOutcome } from './account-sync.ts';
import { claimOne, newClaimToken } from './claims.ts';

const WAIT_STEP_MS = 50;

/**
 * "Load balances now": claims the account like a worker would (waiting while a worker holds it,
 * so one account is never read twice at once), then reads it, transfers included.
 */
export class OnDemandSync {
  constructor(
    private readonly storage: Storage,
    private readonly sync: AccountSync,
    private readonly leaseMs: number,
  ) {}

  async syncNow(account: AccountRow): Promise<SyncOutcome> {
    if (!isLive(account)) {
      throw invalid('account_id', 'is a manual account: it has no API keys or address to read');
    }
    const token = newClaimToken('on-demand');
    const deadline = Date.now() + this.leaseMs;
    for (;;) {
      const claimed = await claimOne(this.storage, account.id, token, this.leaseMs);
      if (claimed) return counted(await this.sync.run(claimed, token, true));
      if (Date.now() > deadline) return counted({ status: 'lost' });
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }
}

function counted(outcome: SyncOutcome): SyncOutcome {
  metrics.syncs.inc({ outcome: outcome.status, trigger: 'on_demand' });
  return outcome;
}
