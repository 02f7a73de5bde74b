/** The markets issue 3 requires the catalog to support. */
export const REQUIRED_EXCHANGES = [
  'binance',
  'binance_us',
  'bybit_spot',
  'okex',
  'coinbase',
  'kraken',
  'kucoin',
  'gate_io',
  'bitfinex',
];
export const REQUIRED_WALLETS = ['ethereumwallet', 'bitcoinwallet'];
