/** The permission types of the 3Commas API; an API key carries a set of them. */
export const PERMISSIONS = [
  'NONE',
  'BOTS_READ',
  'BOTS_WRITE',
  'ACCOUNTS_READ',
  'ACCOUNTS_WRITE',
  'SMART_TRADES_READ',
  'SMART_TRADES_WRITE',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const isPermission = (value: string): value is Permission =>
  (PERMISSIONS as readonly string[]).includes(value);
