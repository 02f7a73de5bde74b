import type { Market } from './catalog.ts';

// Format checks only: they catch typos of shape (wrong length, stray characters, wrong
// network prefix), not every typo. Checksums are left to live sync, which talks to the chain.

const ETHEREUM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

// Base58 has no 0, O, I or l. P2PKH starts with 1, P2SH with 3.
const BITCOIN_BASE58 = /^[13][1-9A-HJ-NP-Za-km-z]{25,34}$/;

// Bech32/bech32m (BIP 173/350) mainnet: `bc1`, then the bech32 charset. Lowercase only: the
// all-uppercase form is valid for QR codes but nobody pastes it into a form.
const BITCOIN_BECH32 = /^bc1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{14,74}$/;

/**
 * Whether `address` looks like an address of the wallet market's chain (always false for an
 * exchange market, which takes API keys instead).
 *
 * Ethereum: `0x` and 40 hex digits. A mixed-case address carries an EIP-55 checksum, which
 * needs Keccak-256; node:crypto only has SHA3-256 (different padding), so the checksum is
 * verified by the sync issue, which brings viem. All-lower and all-upper carry no checksum.
 *
 * Bitcoin: base58 P2PKH/P2SH (1…/3…, 26–35 characters) or bech32/bech32m (bc1…); the base58
 * and bech32 checksums are not verified here.
 */
export function isValidAddress(market: Market, address: string): boolean {
  if (market.connector.type !== 'chain') return false;
  switch (market.connector.chain) {
    case 'ethereum':
      return ETHEREUM_ADDRESS.test(address);
    case 'bitcoin':
      return BITCOIN_BASE58.test(address) || BITCOIN_BECH32.test(address);
  }
}
