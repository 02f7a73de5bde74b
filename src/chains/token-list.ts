import { readFileSync } from 'node:fs';
import { getAddress } from 'viem';
import { Type, type Static } from 'typebox';
import { validate } from '../validation.ts';

export const Token = Type.Object({
  chain: Type.Literal('ethereum'),
  address: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }),
  symbol: Type.String({ minLength: 1, maxLength: 32 }),
  decimals: Type.Integer({ minimum: 0, maximum: 36 }),
});
export const TokenList = Type.Array(Token);
export type Token = Static<typeof Token>;

/** The ERC-20 tokens a wallet is read for: `tokens.json` next to this file (a data file). */
export function loadTokenList(file = new URL('./tokens.json', import.meta.url)): Token[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  // Stored with their EIP-55 checksums, which `getAddress` verifies: a typo fails loudly here
  // instead of reading the wrong contract.
  return validate(TokenList, parsed, 'Invalid token list').map((token) => ({
    ...token,
    address: getAddress(token.address),
  }));
}
