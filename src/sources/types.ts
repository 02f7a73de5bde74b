/** What one account holds right now: asset → amount (a positive decimal string). */
export type Holdings = Map<string, string>;

/** A deposit or withdrawal as the exchange reports it. */
export interface SourceTransfer {
  /** Unique per account and kind: makes recording it idempotent. */
  id: string;
  kind: 'deposit' | 'withdrawal';
  asset: string;
  amount: string;
  at: Date;
}
