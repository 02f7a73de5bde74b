import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { AppError } from '../../src/errors.ts';
import { createServices, type Services } from '../../src/services.ts';
import { LINK_REFUSED, SIGN_IN_REFUSED } from '../../src/sessions/sessions.ts';
import { openStorage } from '../../src/storage/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const PASSWORD = 'correct horse battery';

let database: TestDatabase;
let services: Services;
let emails = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  services = await createServices(
    await openStorage({ databaseUrl: database.url }),
    randomBytes(32),
    { sync: loadConfig({}).sync, sessions: loadConfig({}).sessions },
  );
});
afterAll(async () => {
  await services.close();
  await database.drop();
});

const sessions = () => services.sessions;

async function newUser(): Promise<{ id: number; email: string }> {
  emails += 1;
  return services.users.create({ email: `person${emails}@example.com` });
}

/** The AppError a call fails with (the test fails if it succeeds or throws something else). */
async function failure(call: Promise<unknown>): Promise<AppError> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** When the session of `token` was last seen, as stored (by the hash of its token). */
async function lastSeenOf(token: string): Promise<Date> {
  const row = await services.storage.db
    .selectFrom('sessions')
    .select('last_seen_at')
    .where('token_hash', '=', createHash('sha256').update(token).digest('hex'))
    .executeTakeFirstOrThrow();
  return row.last_seen_at;
}

async function expectRefused(call: Promise<unknown>, message: string): Promise<void> {
  const error = await failure(call);
  expect({ code: error.code, message: error.message }).toEqual({ code: 'unauthorized', message });
}

describe('sign-in links', () => {
  it('sign in once: the link opens a session, and a second use is refused', async () => {
    const user = await newUser();
    const now = new Date('2026-11-01T12:00:00Z');
    const link = await sessions().createLoginLink(user.id, now);
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.expires_at).toBe('2026-11-01T12:15:00.000Z');

    const signedIn = await sessions().redeemLoginLink(link.token, now);
    expect(signedIn.session.userId).toBe(user.id);
    expect(signedIn.session.expiresAt).toEqual(new Date(now.getTime() + 7 * DAY));
    expect(signedIn.token).not.toBe(link.token);
    expect(await sessions().find(signedIn.token, now)).toEqual(signedIn.session);

    await expectRefused(sessions().redeemLoginLink(link.token, now), LINK_REFUSED);
  });

  it('of two redeems at once, exactly one signs in', async () => {
    const user = await newUser();
    const { token } = await sessions().createLoginLink(user.id);
    const outcomes = await Promise.allSettled([
      sessions().redeemLoginLink(token),
      sessions().redeemLoginLink(token),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('expires after 15 minutes, with the same words as an unknown link', async () => {
    const user = await newUser();
    const now = new Date('2026-11-01T12:00:00Z');
    const { token } = await sessions().createLoginLink(user.id, now);
    const late = new Date(now.getTime() + 15 * MINUTE);
    await expectRefused(sessions().redeemLoginLink(token, late), LINK_REFUSED);
    await expectRefused(
      sessions().redeemLoginLink(token, new Date(late.getTime() + DAY)),
      LINK_REFUSED,
    );

    const { token: fresh } = await sessions().createLoginLink(user.id, now);
    const justInTime = new Date(now.getTime() + 15 * MINUTE - 1);
    expect((await sessions().redeemLoginLink(fresh, justInTime)).session.userId).toBe(user.id);

    await expectRefused(sessions().redeemLoginLink('nonsense', now), LINK_REFUSED);
    await expectRefused(
      sessions().redeemLoginLink(randomBytes(32).toString('base64url'), now),
      LINK_REFUSED,
    );
  });

  it('is refused for an unknown user', async () => {
    const error = await failure(sessions().createLoginLink(999_999));
    expect(error.code).toBe('not_found');
  });
});

describe('passwords and sessions', () => {
  it('signs in with the right password only, with one answer for every refusal', async () => {
    const user = await newUser();
    // No password yet: refused like a wrong one.
    await expectRefused(sessions().signIn(user.email, PASSWORD), SIGN_IN_REFUSED);
    await sessions().setPassword(user.id, PASSWORD);

    const signedIn = await sessions().signIn(user.email.toUpperCase(), PASSWORD);
    expect(signedIn.session.userId).toBe(user.id);
    expect((await sessions().find(signedIn.token))?.userId).toBe(user.id);

    await expectRefused(sessions().signIn(user.email, 'wrong horse battery'), SIGN_IN_REFUSED);
    await expectRefused(sessions().signIn('nobody@example.com', PASSWORD), SIGN_IN_REFUSED);
  });

  it('refuses a short password, and a password for an unknown user', async () => {
    const user = await newUser();
    const short = await failure(sessions().setPassword(user.id, 'too short'));
    expect(short.attributes).toEqual({ password: ['must be at least 10 characters'] });
    expect((await failure(sessions().setPassword(999_999, PASSWORD))).code).toBe('not_found');
  });

  it('a new password ends every session of the user, and only theirs', async () => {
    const user = await newUser();
    const other = await newUser();
    await sessions().setPassword(user.id, PASSWORD);
    const byPassword = await sessions().signIn(user.email, PASSWORD);
    const byLink = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id)).token,
    );
    const theirs = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(other.id)).token,
    );

    await sessions().setPassword(user.id, 'a brand new passphrase');
    expect(await sessions().find(byPassword.token)).toBeUndefined();
    expect(await sessions().find(byLink.token)).toBeUndefined();
    expect((await sessions().find(theirs.token))?.userId).toBe(other.id);
    await expectRefused(sessions().signIn(user.email, PASSWORD), SIGN_IN_REFUSED);
    await sessions().signIn(user.email, 'a brand new passphrase');
  });

  it('a session lasts 7 days from sign-in, however active', async () => {
    const user = await newUser();
    const start = new Date('2026-11-01T12:00:00Z');
    const { token } = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id, start)).token,
      start,
    );
    const lastMoment = new Date(start.getTime() + 7 * DAY - 1);
    expect((await sessions().find(token, new Date(start.getTime() + DAY)))?.userId).toBe(user.id);
    expect((await sessions().find(token, lastMoment))?.userId).toBe(user.id);
    expect(await sessions().find(token, new Date(start.getTime() + 7 * DAY))).toBeUndefined();
    // Gone for good: not back at an earlier clock either.
    expect(await sessions().find(token, start)).toBeUndefined();
  });

  it('notes when a session was last seen, at most once a minute', async () => {
    const user = await newUser();
    const start = new Date('2026-11-01T12:00:00Z');
    const { token } = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id, start)).token,
      start,
    );
    const at = (ms: number) => new Date(start.getTime() + ms);
    await sessions().find(token, at(30_000));
    expect(await lastSeenOf(token)).toEqual(start);
    await sessions().find(token, at(MINUTE));
    expect(await lastSeenOf(token)).toEqual(at(MINUTE));
    await sessions().find(token, at(MINUTE + 59_000));
    expect(await lastSeenOf(token)).toEqual(at(MINUTE));
  });

  it('logout ends the session; unknown tokens are simply not sessions', async () => {
    const user = await newUser();
    const { token } = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id)).token,
    );
    await sessions().end(token);
    expect(await sessions().find(token)).toBeUndefined();
    await sessions().end(token);
    await sessions().end('nonsense');
    expect(await sessions().find('nonsense')).toBeUndefined();
    expect(await sessions().find('')).toBeUndefined();
  });

  it('the CSRF token is the session’s own: checked, and different per session', async () => {
    const user = await newUser();
    const first = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id)).token,
    );
    const second = await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id)).token,
    );
    const { csrfToken } = first.session;
    expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfToken).not.toBe(first.token);
    expect(second.session.csrfToken).not.toBe(csrfToken);
    // Derived, so the session found later carries the same one.
    expect((await sessions().find(first.token))?.csrfToken).toBe(csrfToken);

    expect(sessions().checkCsrf(first.session, csrfToken)).toBe(true);
    expect(sessions().checkCsrf(first.session, second.session.csrfToken)).toBe(false);
    expect(sessions().checkCsrf(first.session, undefined)).toBe(false);
    expect(sessions().checkCsrf(first.session, '')).toBe(false);
    expect(sessions().checkCsrf(first.session, csrfToken.slice(1))).toBe(false);
  });

  it('stores only hashes: no token or password appears in any table', async () => {
    const user = await newUser();
    const link = await sessions().createLoginLink(user.id);
    const signedIn = await sessions().redeemLoginLink(link.token);
    const unused = await sessions().createLoginLink(user.id);
    await sessions().setPassword(user.id, PASSWORD);
    const byPassword = await sessions().signIn(user.email, PASSWORD);

    const db = services.storage.db;
    const rows = JSON.stringify([
      await db.selectFrom('users').selectAll().where('id', '=', user.id).execute(),
      await db.selectFrom('login_links').selectAll().execute(),
      await db.selectFrom('sessions').selectAll().execute(),
    ]);
    for (const secret of [
      link.token,
      unused.token,
      signedIn.token,
      byPassword.token,
      signedIn.session.csrfToken,
      PASSWORD,
    ]) {
      expect(rows).not.toContain(secret);
    }
    const stored = await db
      .selectFrom('sessions')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(stored.map((row) => row.token_hash)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  it('keeps each user’s rows bounded: expired and used ones go when new ones come', async () => {
    const user = await newUser();
    const start = new Date('2026-11-01T12:00:00Z');
    for (let i = 0; i < 3; i += 1) {
      await sessions().redeemLoginLink(
        (await sessions().createLoginLink(user.id, start)).token,
        start,
      );
    }
    const later = new Date(start.getTime() + 8 * DAY);
    await sessions().redeemLoginLink(
      (await sessions().createLoginLink(user.id, later)).token,
      later,
    );
    const db = services.storage.db;
    const count = async (table: 'sessions' | 'login_links') =>
      (await db.selectFrom(table).select('token_hash').where('user_id', '=', user.id).execute())
        .length;
    expect(await count('sessions')).toBe(1);
    expect(await count('login_links')).toBe(1);

    for (let i = 0; i < 60; i += 1) await sessions().createLoginLink(user.id, later);
    expect(await count('login_links')).toBe(20);
  });
});
