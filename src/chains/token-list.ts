import { getAddress } from 'viem';
import { Type, type Static } from 'typebox';
import { validate } from '../validation.ts';
// Imported, not read from beside this file: the build bundles it with the code that uses it.
import tokens from './tokens.json' with { type: 'json' };

export const Token = Type.Object({
  chain: Type.Literal('ethereum'),
  address: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' }),
  symbol: Type.String({ minLength: 1, maxLength: 32 }),
  decimals: Type.Integer({ minimum: 0, maximum: 36 }),
});
export const TokenList = Type.Array(Token);
export type Token = Static<typeof Token>;

/** The ERC-20 tokens a wallet is read for: `tokens.json` (a data file), or the list given. */
export function loadTokenList(parsed: unknown = tokens): Token[] {
  // Stored with their EIP-55 checksums, which `getAddress` verifies: a typo fails loudly here
  // instead of reading the wrong contract.
  return validate(TokenList, parsed, 'Invalid token list').map((token) => ({
    ...token,
    address: getAddress(token.address),
  }));
}
