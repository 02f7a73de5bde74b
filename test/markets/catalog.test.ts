import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REQUIRED_EXCHANGES, REQUIRED_WALLETS } from '../support/markets.ts';
import { findMarket, isValidAddress, listMarkets, type Market } from '../../src/markets/index.ts';

type SeedAccount = Record<string, unknown>;
const seed = JSON.parse(
  readFileSync(new URL('../fixtures/seed-accounts-response.json', import.meta.url), 'utf8'),
) as SeedAccount[];

function market(code: string): Market {
  const found = findMarket(code);
  if (!found) throw new Error(`market ${code} missing from the catalog`);
  return found;
}

describe('market catalog', () => {
  describe.each(seed.map((account) => [account['market_code'] as string, account] as const))(
    'seed account on %s',
    (code, account) => {
      const m = market(code);

      it('has the seed’s display fields', () => {
        expect(m.market_code).toBe(account['market_code']);
        expect(m.market_icon).toBe(account['market_icon']);
        expect(m.pretty_display_type).toBe(account['pretty_display_type']);
        expect(m.exchange_name).toBe(account['exchange_name']);
        expect(m.supported_market_types).toEqual(account['supported_market_types']);
      });

      it('has the seed’s capability flags', () => {
        const keys = Object.keys(m.capabilities);
        expect(keys).toHaveLength(17);
        for (const key of keys) {
          expect(account, key).toHaveProperty(key);
          // deposit_enabled is the market's flag AND working credentials: the seed's Bybit
          // account has an invalid key, hence false there (see accounts/view.ts).
          const expected =
            key === 'deposit_enabled' ? account[key] || account['api_key_invalid'] : account[key];
          expect(m.capabilities[key as keyof Market['capabilities']], key).toBe(expected);
        }
      });
    },
  );

  it.each(REQUIRED_EXCHANGES)('has exchange %s with a ccxt connector and API keys', (code) => {
    const m = market(code);
    expect(m.kind).toBe('exchange');
    expect(m.connector.type).toBe('ccxt');
    expect(m.credentials).not.toBe('address');
    expect(m.supported_market_types).toEqual(['spot']);
    expect(m.capabilities.trading_supported).toBe(true);
    expect(m.capabilities.hedge_mode_available).toBe(false);
    expect(m.market_icon).toMatch(/^https:\/\/3commas\.io\/img\/exchanges\/[a-z_]+\.png$/);
  });

  it('maps market codes to ccxt ids', () => {
    const ids = Object.fromEntries(
      listMarkets().flatMap((m) =>
        m.connector.type === 'ccxt' ? [[m.market_code, m.connector.exchangeId]] : [],
      ),
    );
    expect(ids).toMatchObject({
      binance: 'binance',
      binance_us: 'binanceus',
      bybit_spot: 'bybit',
      okex: 'okx',
      coinbase: 'coinbase',
      kraken: 'kraken',
      kucoin: 'kucoin',
      gate_io: 'gate',
      bitfinex: 'bitfinex',
    });
    expect(market('bybit_spot').connector).toMatchObject({ options: { defaultType: 'spot' } });
  });

  it('asks for a passphrase where ccxt needs one', () => {
    expect(market('okex').credentials).toBe('api_key_passphrase');
    expect(market('kucoin').credentials).toBe('api_key_passphrase');
    expect(market('binance').credentials).toBe('api_key');
  });

  it.each([
    ['ethereumwallet', 'ethereum', 'Ethereum Wallet', 'EthereumWallet'],
    ['bitcoinwallet', 'bitcoin', 'Bitcoin Wallet', 'BitcoinWallet'],
  ])('has wallet %s on chain %s', (code, chain, exchangeName, prettyType) => {
    const m = market(code);
    expect(m.kind).toBe('wallet');
    expect(m.connector).toEqual({ type: 'chain', chain });
    expect(m.credentials).toBe('address');
    expect(m.exchange_name).toBe(exchangeName);
    expect(m.pretty_display_type).toBe(prettyType);
    expect(m.supported_market_types).toEqual([]);
  });

  it.each(REQUIRED_WALLETS)('wallet %s has every trading flag false', (code) => {
    const { stats_supported, available_include_in_summary, ...rest } = market(code).capabilities;
    expect(stats_supported).toBe(true);
    expect(available_include_in_summary).toBe(true);
    expect(Object.values(rest).every((flag) => flag === false)).toBe(true);
    expect(Object.keys(rest)).toHaveLength(15);
  });

  it('lists unique market codes in a stable order', () => {
    const codes = listMarkets().map((m) => m.market_code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual([...codes].sort());
    expect(codes).toEqual(expect.arrayContaining([...REQUIRED_EXCHANGES, ...REQUIRED_WALLETS]));
    expect(listMarkets()).toBe(listMarkets());
  });

  it('returns undefined for an unknown code', () => {
    expect(findMarket('nope')).toBeUndefined();
    expect(findMarket('')).toBeUndefined();
    expect(findMarket('BINANCE')).toBeUndefined();
  });
});

describe('isValidAddress', () => {
  const eth = market('ethereumwallet');
  const btc = market('bitcoinwallet');

  it.each([
    '0x742d35cc6634c0532925a3b844bc454e4438f44e',
    '0x742D35CC6634C0532925A3B844BC454E4438F44E',
    '0x742d35Cc6634C0532925a3b844Bc454e4438f44e', // EIP-55 checksummed
    '0x0000000000000000000000000000000000000000',
  ])('accepts Ethereum address %s', (address) => {
    expect(isValidAddress(eth, address)).toBe(true);
  });

  it.each([
    '742d35cc6634c0532925a3b844bc454e4438f44e', // no 0x
    '0X742d35cc6634c0532925a3b844bc454e4438f44e',
    '0x742d35cc6634c0532925a3b844bc454e4438f44', // 39 digits
    '0x742d35cc6634c0532925a3b844bc454e4438f44e0', // 41 digits
    '0x742d35cc6634c0532925a3b844bc454e4438f44g',
    ' 0x742d35cc6634c0532925a3b844bc454e4438f44e',
    '0x742d35cc6634c0532925a3b844bc454e4438f44e\n',
    '',
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
    '0x742d35CC6634C0532925a3b844Bc454e4438f44e', // mixed case with a wrong EIP-55 checksum
  ])('rejects Ethereum address %j', (address) => {
    expect(isValidAddress(eth, address)).toBe(false);
  });

  it.each([
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', // P2PKH
    '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', // P2SH
    'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', // P2WPKH
    'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3', // P2WSH
    'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297', // P2TR (bech32m)
  ])('accepts Bitcoin address %s', (address) => {
    expect(isValidAddress(btc, address)).toBe(true);
  });

  it.each([
    '2A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', // wrong version prefix
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na', // 0 is not base58
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivlNa', // l is not base58
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaXXX', // 37 chars
    '1A1zP1eP5QGefi2DMPT', // too short
    'BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ', // uppercase
    'bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', // mixed case
    'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdb', // b is not in the bech32 charset
    'bc1qar0sr', // too short
    'tb1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', // testnet
    '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', // base58check checksum wrong
    '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz', // base58check checksum wrong
    'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr', // bech32 checksum wrong
    'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3298', // bech32m checksum wrong
    '0x742d35cc6634c0532925a3b844bc454e4438f44e',
    '',
  ])('rejects Bitcoin address %j', (address) => {
    expect(isValidAddress(btc, address)).toBe(false);
  });

  it('rejects any address for an exchange market', () => {
    expect(isValidAddress(market('binance'), '0x742d35cc6634c0532925a3b844bc454e4438f44e')).toBe(
      false,
    );
  });
});
