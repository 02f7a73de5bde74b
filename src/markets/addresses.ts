import { createHash } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { base58check, bech32, bech32m } from '@scure/base';
import type { Market } from './catalog.ts';

/**
 * Whether `address` is an address of the wallet market's chain, checksum included (always false
 * for an exchange market, which takes API keys instead).
 *
 * Ethereum: `0x` and 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum
 * (all-lower and all-upper carry none).
 *
 * Bitcoin mainnet: base58check P2PKH (1…) or P2SH (3…), bech32 segwit v0 (bc1q…, 20 or 32
 * bytes) or bech32m v1+ (bc1p…, taproot), each with its checksum verified.
 */
export function isValidAddress(market: Market, address: string): boolean {
  if (market.connector.type !== 'chain') return false;
  switch (market.connector.chain) {
    case 'ethereum':
      return isEthereumAddress(address);
    case 'bitcoin':
      return isBitcoinAddress(address);
  }
}

const ETHEREUM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function isEthereumAddress(address: string): boolean {
  if (!ETHEREUM_ADDRESS.test(address)) return false;
  const hex = address.slice(2);
  const unchecksummed = hex === hex.toLowerCase() || hex === hex.toUpperCase();
  return unchecksummed || hex === eip55(hex);
}

/**
 * EIP-55: each letter of the address is upper-case where the matching hex digit of the
 * keccak-256 of its lower-case form is 8 or more. (Checked here rather than with viem, which
 * costs a third of a second to load, for a process that may never read a chain.)
 */
function eip55(hex: string): string {
  const lower = hex.toLowerCase();
  const hash = Buffer.from(keccak_256(Buffer.from(lower, 'ascii'))).toString('hex');
  let checksummed = '';
  for (let i = 0; i < lower.length; i++) {
    const char = lower[i] as string;
    checksummed += parseInt(hash[i] as string, 16) >= 8 ? char.toUpperCase() : char;
  }
  return checksummed;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
const base58 = base58check(sha256);

/** Version bytes of mainnet P2PKH and P2SH. */
const BASE58_VERSIONS = new Set([0x00, 0x05]);

function isBitcoinAddress(address: string): boolean {
  if (/^[13]/.test(address)) {
    try {
      const payload = base58.decode(address);
      return payload.length === 21 && BASE58_VERSIONS.has(payload[0] ?? -1);
    } catch {
      return false;
    }
  }
  // Lowercase only: the all-uppercase form is valid for QR codes but nobody pastes it.
  if (!address.startsWith('bc1')) return false;
  return isSegwit(address);
}

function isSegwit(address: string): boolean {
  for (const coder of [bech32, bech32m]) {
    let decoded;
    try {
      decoded = coder.decode(address as `${string}1${string}`, 90);
    } catch {
      continue;
    }
    const [version, ...words] = decoded.words;
    if (decoded.prefix !== 'bc' || version === undefined || version > 16) return false;
    // BIP 350: version 0 uses bech32, later versions bech32m.
    if ((version === 0) !== (coder === bech32)) return false;
    let program: Uint8Array;
    try {
      program = coder.fromWords(words);
    } catch {
      return false;
    }
    if (version === 0) return program.length === 20 || program.length === 32;
    return program.length >= 2 && program.length <= 40;
  }
  return false;
}
