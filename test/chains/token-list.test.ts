import { describe, expect, it } from 'vitest';
import { isAddress } from 'viem';
import { loadTokenList } from '../../src/chains/token-list.ts';

describe('the shipped token list', () => {
  it('has the main dollar stablecoins and WBTC, each address with a valid EIP-55 checksum', () => {
    const tokens = loadTokenList();
    expect(tokens.map((t) => [t.symbol, t.decimals])).toEqual([
      ['USDT', 6],
      ['USDC', 6],
      ['DAI', 18],
      ['WBTC', 8],
    ]);
    for (const token of tokens) {
      // Mixed case, so the checksum is really there to verify.
      expect(token.address).not.toBe(token.address.toLowerCase());
      expect(isAddress(token.address, { strict: true })).toBe(true);
    }
  });
});
