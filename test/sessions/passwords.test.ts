import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { decoyHash, hashPassword, verifyPassword } from '../../src/sessions/passwords.ts';

const PASSWORD = 'correct horse battery';

async function refusal(password: string): Promise<AppError> {
  const error: unknown = await hashPassword(password).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('passwords', () => {
  it('hashes into a self-describing scrypt string that verifies only the same password', async () => {
    const encoded = await hashPassword(PASSWORD);
    expect(encoded).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(encoded).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, encoded)).toBe(true);
    expect(await verifyPassword('correct horse batterY', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('salts every hash: the same password hashes differently each time', async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    expect(first).not.toBe(second);
    expect(await verifyPassword(PASSWORD, second)).toBe(true);
  });

  it('needs at least 10 characters and at most 1024 bytes', async () => {
    const short = await refusal('nine char');
    expect(short.code).toBe('record_invalid');
    expect(short.attributes).toEqual({ password: ['must be at least 10 characters'] });

    // Counted in characters, not bytes: ten accented letters are enough.
    expect(await verifyPassword('éééééééééé', await hashPassword('éééééééééé'))).toBe(true);
    await hashPassword('x'.repeat(1024));

    const long = await refusal('x'.repeat(1025));
    expect(long.attributes).toEqual({ password: ['must be at most 1024 bytes'] });
    // 513 two-byte characters are 1026 bytes.
    expect((await refusal('é'.repeat(513))).attributes).toEqual({
      password: ['must be at most 1024 bytes'],
    });
  });

  it('never matches a tampered, malformed or decoy hash', async () => {
    const encoded = await hashPassword(PASSWORD);
    const parts = encoded.split('$');
    const tampered = [...parts.slice(0, 5), Buffer.alloc(32).toString('base64')].join('$');
    expect(await verifyPassword(PASSWORD, tampered)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'not a hash')).toBe(false);
    // Absurd parameters are refused, not computed.
    expect(await verifyPassword(PASSWORD, ['scrypt', 2 ** 30, ...parts.slice(2)].join('$'))).toBe(
      false,
    );
    expect(await verifyPassword(PASSWORD, decoyHash())).toBe(false);
    expect(await verifyPassword(PASSWORD + 'x'.repeat(2000), encoded)).toBe(false);
  });
});
