/** What one account holds right now: asset → amount (a positive decimal string). */
export type Holdings = Map<string, string>;

/**
 * An account's holdings summed over the wallets read (what is priced and valued), and what each
 * wallet held (kept with the snapshot). A chain address is one wallet: `wallets` is empty.
 */
export interface AccountHoldings {
  total: Holdings;
  /** Wallet name → its holdings, for an exchange account; every wallet read, empty ones too. */
  wallets: Map<string, Holdings>;
}

/** A deposit or withdrawal as the exchange reports it. */
export interface SourceTransfer {
  /** Unique per account and kind: makes recording it idempotent. */
  id: string;
  kind: 'deposit' | 'withdrawal';
  asset: string;
  amount: string;
  at: Date;
}
