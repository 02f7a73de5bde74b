// Secrets sealed at rest with AES-256-GCM under a master key kept outside the database, so a
// leaked database dump does not leak usable API secrets.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Sealer {
  seal(plain: string): string;
  /** Throws SealedSecretError unless `sealed` was produced by `seal` under the same key. */
  open(sealed: string): string;
}

export class InvalidMasterKeyError extends Error {
  override name = 'InvalidMasterKeyError';
}

export class SealedSecretError extends Error {
  override name = 'SealedSecretError';
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Accepts 64 hex characters or the base64 encoding of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (BASE64.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    // Re-encoding rejects text Node's lenient decoder would accept with bits silently dropped.
    if (key.length === KEY_BYTES && key.toString('base64') === trimmed) return key;
  }
  throw new InvalidMasterKeyError(
    `master key must be ${KEY_BYTES * 2} hex characters or the base64 of ${KEY_BYTES} bytes`,
  );
}

/** A fresh master key, base64 of 32 random bytes. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Format: `v1.<base64url iv(12)>.<base64url tag(16)>.<base64url ciphertext>`. */
export function createSealer(masterKey: Buffer): Sealer {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
    throw new InvalidMasterKeyError(`master key must be ${KEY_BYTES} bytes`);
  }
  const key = Buffer.from(masterKey); // private copy: later changes by the caller do not leak in

  return {
    seal(plain: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv, tag, ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },

    open(sealed: string): string {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      const [version, ivText, tagText, ciphertextText] = parts;
      if (parts.length !== 4 || version !== VERSION) {
        throw new SealedSecretError('not a sealed secret (expected v1.<iv>.<tag>.<ciphertext>)');
      }
      const iv = decodePart(ivText);
      const tag = decodePart(tagText);
      const ciphertext = decodePart(ciphertextText);
      if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === null) {
        throw new SealedSecretError('malformed sealed secret');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        throw new SealedSecretError('sealed secret was tampered with or sealed under another key');
      }
    },
  };
}

function decodePart(text: string | undefined): Buffer | null {
  if (text === undefined || !BASE64URL.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}
