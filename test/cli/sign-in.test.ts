// Dashboard sign-in from the command line, as real child processes on real storage:
// `opencommas user login-link` prints a one-time link and `opencommas user password` reads the
// password from standard input — first opening the database themselves, then while a server
// runs (on PGlite through its admin socket: the server holds the only connection). The server's
// own services then show what took effect. And a server whose database holds the demo user
// makes it a sign-in link at every start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import type { RunningServer } from '../../src/server.ts';
import {
  createCliStorage,
  jsonError,
  jsonOut,
  runCli,
  type CliResult,
  type CliStorage,
} from '../support/cli.ts';

const PASSWORD = 'correct horse battery';
const LINK = /^http:\/\/127\.0\.0\.1:3000\/login\?token=([A-Za-z0-9_-]{43})$/;

let storage: CliStorage;
let server: RunningServer | undefined;
let userId: number;
const email = 'dash@example.com';

beforeAll(async () => {
  storage = await createCliStorage();
});
afterAll(async () => {
  await server?.stop();
  await storage.cleanup();
});

/**
 * `opencommas ...args`. The notice of a rebuild is dropped from stderr: others editing src/
 * while this file runs make the next command rebuild dist/ first, which is not its output.
 */
async function cli(args: string[], input?: string): Promise<CliResult> {
  const result = await runCli(storage.env, args, input === undefined ? {} : { input });
  return {
    ...result,
    stderr: result.stderr.replace(/^opencommas: compiling src\/ to dist\/…\n/, ''),
  };
}

/** The token of a `--json user login-link`, after checking what the command printed. */
async function jsonLink(base = 'http://dash.example:8080/'): Promise<string> {
  const link = jsonOut<{ user_id: number; url: string; expires_at: string }>(
    await cli(['--json', 'user', 'login-link', '--user', String(userId), '--base-url', base]),
    'user login-link',
  );
  expect(link.user_id).toBe(userId);
  const token = /^http:\/\/dash\.example:8080\/login\?token=([A-Za-z0-9_-]{43})$/.exec(link.url);
  expect(token, link.url).not.toBeNull();
  // Valid 15 minutes from now (the default), give or take how long the command took.
  const minutesLeft = (Date.parse(link.expires_at) - Date.now()) / 60_000;
  expect(minutesLeft).toBeGreaterThan(10);
  expect(minutesLeft).toBeLessThanOrEqual(15);
  return token?.[1] ?? '';
}

async function refusedSignIn(running: RunningServer, password: string): Promise<void> {
  const error: unknown = await running.services.sessions
    .signIn(email, password)
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('unauthorized');
}

describe('user login-link and user password', { timeout: 120_000 }, () => {
  let textToken: string;
  let jsonToken: string;

  it('without a server: prints a link, and sets the password read from standard input', async () => {
    userId = jsonOut<{ id: number }>(
      await cli(['--json', 'user', 'create', '--email', email]),
      'user create',
    ).id;

    const text = await cli(['user', 'login-link', '--user', String(userId)]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const [url = '', validity = '', ...rest] = text.stdout.split('\n');
    // The base URL from HOST and PORT, as `demo` prints it.
    textToken = LINK.exec(url)?.[1] ?? '';
    expect(textToken, text.stdout).not.toBe('');
    expect(validity).toMatch(/^\(one-time; valid until \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    expect(rest).toEqual(['']);
    jsonToken = await jsonLink();

    // A whole line from a pipe: the line end is not part of the password.
    const set = await cli(['user', 'password', '--user', String(userId)], `${PASSWORD}\n`);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toBe(`password set for user ${userId}; their other sessions have ended\n`);

    const short = await cli(
      ['--json', 'user', 'password', '--user', String(userId)],
      'too short\n',
    );
    expect(short.code).toBe(1);
    expect(jsonError(short)).toEqual({
      error: 'record_invalid',
      error_description: 'Invalid parameters',
      error_attributes: { password: ['must be at least 10 characters'] },
    });
    const empty = await cli(['user', 'password', '--user', String(userId)]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('password: must be at least 10 characters');

    const unknown = await cli(['--json', 'user', 'login-link', '--user', '999999']);
    expect(unknown.code).toBe(1);
    expect(jsonError(unknown)).toEqual({
      error: 'not_found',
      error_description: 'User 999999 not found',
    });
  });

  it('the link signs in once, and the password from standard input signs in', async () => {
    server = await storage.startServer();
    const sessions = server.services.sessions;
    expect((await sessions.redeemLoginLink(textToken)).session.userId).toBe(userId);
    expect((await sessions.redeemLoginLink(jsonToken)).session.userId).toBe(userId);
    await expect(sessions.redeemLoginLink(textToken)).rejects.toThrow(
      'This sign-in link is invalid, used or expired; ask for a new one.',
    );
    expect((await sessions.signIn(email, PASSWORD)).session.userId).toBe(userId);
    await refusedSignIn(server, `${PASSWORD}\n`);
  });

  it('while the server runs: both commands work through it', async () => {
    const running = server;
    if (!running) throw new Error('the server did not start');
    const sessions = running.services.sessions;
    const before = await sessions.signIn(email, PASSWORD);

    const token = await jsonLink();
    const opened = await sessions.redeemLoginLink(token);
    expect(opened.session.userId).toBe(userId);

    // Standard input without a line end is taken whole.
    const next = 'another good passphrase';
    const set = await cli(['--json', 'user', 'password', '--user', String(userId)], next);
    expect(jsonOut(set, 'user password while serving')).toEqual({
      user_id: userId,
      password_set: true,
      sessions_ended: true,
    });
    // Every session of the user has ended; only the new password signs in.
    expect(await sessions.find(before.token)).toBeUndefined();
    expect(await sessions.find(opened.token)).toBeUndefined();
    await refusedSignIn(running, PASSWORD);
    expect((await sessions.signIn(email, next)).session.userId).toBe(userId);

    // The password never shows in what the command printed.
    const again = await cli(['user', 'password', '--user', String(userId)], `${next}!\n`);
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).not.toContain(next);
  });
});

describe('the demo user’s sign-in link at start', { timeout: 120_000 }, () => {
  let demoStorage: CliStorage;
  afterAll(async () => demoStorage?.cleanup());

  it('is made when the demo is seeded, and again at a later start', async () => {
    demoStorage = await createCliStorage();
    const first = await demoStorage.startServer({ OPENCOMMAS_DEMO: 'on' });
    let firstLink: string | undefined;
    try {
      expect(first.demo).toBeDefined();
      firstLink = first.signInLink;
      const token = new URL(firstLink ?? 'http://x').searchParams.get('token') ?? '';
      expect(firstLink).toBe(`${first.url}/login?token=${token}`);
      expect(first.signIn?.user_id).toBe(first.demo?.user_id);
      const signedIn = await first.services.sessions.redeemLoginLink(token);
      expect(signedIn.session.userId).toBe(first.demo?.user_id);
    } finally {
      await first.stop();
    }

    const later = await demoStorage.startServer({ OPENCOMMAS_DEMO: 'on' });
    try {
      expect(later.demo).toBeUndefined();
      expect(later.signInLink).toMatch(/\/login\?token=[A-Za-z0-9_-]{43}$/);
      expect(later.signInLink).not.toBe(firstLink);
      const token = new URL(later.signInLink ?? 'http://x').searchParams.get('token') ?? '';
      await later.services.sessions.redeemLoginLink(token);
    } finally {
      await later.stop();
    }
  });

  it('is not made when there is no demo user', async () => {
    expect(server?.signInLink).toBeUndefined();
  });
});
