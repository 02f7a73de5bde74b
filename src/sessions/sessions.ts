import { randomBytes } from 'node:crypto';
import type { SessionConfig } from '../config.ts';
import { AppError, notFound } from '../errors.ts';
import type { Storage } from '../storage/database.ts';
import { checkPasswordRules, decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import { hmacToken, isTokenShaped, newToken, sameSecret, tokenHash } from './tokens.ts';
import { requireUser } from '../users/users.ts';

export type { SessionConfig };

export interface Session {
  userId: number;
  /** for CSRF: HMAC-SHA256 of the session token, base64url; derived, not stored */
  csrfToken: string;
  expiresAt: Date;
}

export interface SignedIn {
  /** the session token for the cookie */
  token: string;
  session: Session;
}

export const LINK_REFUSED = 'This sign-in link is invalid, used or expired; ask for a new one.';
export const SIGN_IN_REFUSED = 'Email or password is wrong.';
export const CURRENT_PASSWORD_WRONG = 'The current password is wrong.';

/** `last_seen_at` is written at most this often per session, not on every request. */
const SEEN_EVERY_MS = 60_000;
/** Live rows kept per user; the oldest beyond go, so no one can grow the tables unbounded. */
const MAX_LINKS_PER_USER = 20;
const MAX_SESSIONS_PER_USER = 50;

/**
 * Dashboard sign-in: one-time links (issued by the CLI or at `npm start`), passwords, and the
 * sessions they open. Tokens are returned once and stored only as SHA-256 hashes.
 */
export class SessionService {
  private readonly csrfKey: Buffer;
  /** Verified against when the email is unknown or has no password: both answers take as long. */
  private readonly decoy = decoyHash();

  /**
   * `csrfKey` keys the CSRF tokens; give every process serving the same database the same one
   * (the services derive it from the master key). Absent: a random key for this process.
   */
  constructor(
    private readonly storage: Storage,
    private readonly config: SessionConfig,
    csrfKey?: Buffer,
  ) {
    this.csrfKey = csrfKey ?? randomBytes(32);
  }

  /** One-time link token, valid config.loginLinkTtlMs. Throws notFound for an unknown user. */
  async createLoginLink(
    userId: number,
    now = new Date(),
  ): Promise<{ token: string; expires_at: string }> {
    await requireUser(this.storage, userId);
    const token = newToken();
    const expiresAt = new Date(now.getTime() + this.config.loginLinkTtlMs);
    await this.storage.db
      .insertInto('login_links')
      .values({
        token_hash: tokenHash(token),
        user_id: userId,
        created_at: now,
        expires_at: expiresAt,
      })
      .execute();
    await this.prune('login_links', userId, now, MAX_LINKS_PER_USER);
    return { token, expires_at: expiresAt.toISOString() };
  }

  /** Consumes the link (a second redeem of the same token fails) and opens a session. */
  async redeemLoginLink(token: string, now = new Date()): Promise<SignedIn> {
    const refused = () => new AppError('unauthorized', LINK_REFUSED);
    if (!isTokenShaped(token)) throw refused();
    // One statement marks it used only if unused and live: of two redeems, one wins.
    const link = await this.storage.db
      .updateTable('login_links')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    if (!link) throw refused();
    return this.open(Number(link.user_id), now);
  }

  /** Email + password; one answer for unknown email, no password set, or wrong password. */
  async signIn(email: string, password: string, now = new Date()): Promise<SignedIn> {
    const user = await this.storage.db
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    const hash = user?.password_hash ?? this.decoy;
    const matches = await verifyPassword(password, hash);
    if (!user?.password_hash || !matches) throw new AppError('unauthorized', SIGN_IN_REFUSED);
    return this.open(Number(user.id), now);
  }

  /** Sets (or replaces) the password and ends every session of that user. */
  async setPassword(userId: number, password: string): Promise<void> {
    checkPasswordRules(password);
    const hash = await hashPassword(password);
    const updated = await this.storage.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('users')
        .set({ password_hash: hash })
        .where('id', '=', userId)
        .returning('id')
        .executeTakeFirst();
      if (row) await tx.deleteFrom('sessions').where('user_id', '=', userId).execute();
      return row;
    });
    if (!updated) throw notFound(`User ${userId}`);
  }

  /** Whether the user can sign in with a password (else only by link). */
  async hasPassword(userId: number): Promise<boolean> {
    const row = await this.storage.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', userId)
      .executeTakeFirst();
    return Boolean(row?.password_hash);
  }

  /**
   * A signed-in user's own change: the current password first, when one is set. Every session
   * of the user ends (as with `setPassword`), and the browser that asked gets a new one.
   */
  async changePassword(
    userId: number,
    current: string,
    password: string,
    now = new Date(),
  ): Promise<SignedIn> {
    const row = await this.storage.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!row) throw notFound(`User ${userId}`);
    if (row.password_hash && !(await verifyPassword(current, row.password_hash))) {
      throw new AppError('unauthorized', CURRENT_PASSWORD_WRONG);
    }
    await this.setPassword(userId, password);
    return this.open(userId, now);
  }

  /** The live session for a cookie token, or undefined (unknown/expired). */
  async find(token: string, now = new Date()): Promise<Session | undefined> {
    if (!isTokenShaped(token)) return undefined;
    const hash = tokenHash(token);
    const row = await this.storage.db
      .selectFrom('sessions')
      .select(['user_id', 'expires_at', 'last_seen_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.expires_at.getTime() <= now.getTime()) {
      await this.storage.db.deleteFrom('sessions').where('token_hash', '=', hash).execute();
      return undefined;
    }
    if (now.getTime() - row.last_seen_at.getTime() >= SEEN_EVERY_MS) {
      await this.storage.db
        .updateTable('sessions')
        .set({ last_seen_at: now })
        .where('token_hash', '=', hash)
        .execute();
    }
    return this.session(token, Number(row.user_id), row.expires_at);
  }

  /** Ends the session (logout). Unknown token: no error. */
  async end(token: string): Promise<void> {
    if (!isTokenShaped(token)) return;
    await this.storage.db
      .deleteFrom('sessions')
      .where('token_hash', '=', tokenHash(token))
      .execute();
  }

  /** Constant-time check of a submitted CSRF token against the session's. */
  checkCsrf(session: Session, submitted: string | undefined): boolean {
    return typeof submitted === 'string' && sameSecret(session.csrfToken, submitted);
  }

  private async open(userId: number, now: Date): Promise<SignedIn> {
    const token = newToken();
    const expiresAt = new Date(now.getTime() + this.config.ttlMs);
    await this.storage.db
      .insertInto('sessions')
      .values({
        token_hash: tokenHash(token),
        user_id: userId,
        created_at: now,
        expires_at: expiresAt,
        last_seen_at: now,
      })
      .execute();
    await this.prune('sessions', userId, now, MAX_SESSIONS_PER_USER);
    return { token, session: this.session(token, userId, expiresAt) };
  }

  private session(token: string, userId: number, expiresAt: Date): Session {
    return { userId, csrfToken: hmacToken(this.csrfKey, token), expiresAt };
  }

  /**
   * Deletes the user's expired (and used) rows, and the oldest live ones beyond `keep`: the
   * work is bounded by one user's rows, and the tables stay bounded by the number of users.
   */
  private async prune(
    table: 'login_links' | 'sessions',
    userId: number,
    now: Date,
    keep: number,
  ): Promise<void> {
    const db = this.storage.db;
    if (table === 'login_links') {
      await db
        .deleteFrom('login_links')
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
        .execute();
    } else {
      await db
        .deleteFrom('sessions')
        .where('user_id', '=', userId)
        .where('expires_at', '<=', now)
        .execute();
    }
    const surplus = db
      .selectFrom(table)
      .select('token_hash')
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('token_hash')
      .offset(keep);
    await db.deleteFrom(table).where('token_hash', 'in', surplus).execute();
  }
}
