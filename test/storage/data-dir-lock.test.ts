// One writer per embedded data directory: the lock file's rules, including takeover of a lock
// left by a killed process and a race of several processes for one stale lock.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  lockFileOf,
  lockForServer,
  lockHolder,
  tryLockDataDir,
  type LockAttempt,
  type LockHolder,
} from '../../src/storage/data-dir-lock.ts';
import { ROOT } from '../support/cli.ts';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'opencommas-lock-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function locked(attempt: LockAttempt) {
  if (!('lock' in attempt)) throw new Error(`held by ${JSON.stringify(attempt.holder)}`);
  return attempt.lock;
}

/** The pid of a process that has exited: what `kill -9` leaves in a lock. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

const staleLock = (dir: string, holder: Partial<LockHolder>) =>
  writeFileSync(
    lockFileOf(dir),
    JSON.stringify({ token: 'old', role: 'server', started_at: '2026-01-01T00:00:00Z', ...holder }),
  );

describe('the data directory lock', () => {
  it('is exclusive while held, names its holder, and is gone once released', async () => {
    const dir = freshDir();
    const lock = locked(await tryLockDataDir(dir, 'server'));
    const second = await tryLockDataDir(dir, 'cli');
    expect(second).toEqual({ holder: lock.holder });
    expect(lock.holder).toMatchObject({ pid: process.pid, role: 'server' });

    lock.update({ url: 'http://127.0.0.1:3000', socket: '/x/admin.sock' });
    expect(lockHolder(dir)).toMatchObject({
      url: 'http://127.0.0.1:3000',
      socket: '/x/admin.sock',
    });
    await expect(lockForServer(dir, () => undefined)).rejects.toThrow(
      `another opencommas server (pid ${process.pid}, http://127.0.0.1:3000) is using ${dir}`,
    );

    lock.release();
    expect(existsSync(lockFileOf(dir))).toBe(false);
    expect(lockHolder(dir)).toBeUndefined();
    locked(await tryLockDataDir(dir, 'cli')).release();
  });

  it('takes over a lock whose process is gone (kill -9)', async () => {
    const dir = freshDir();
    staleLock(dir, { pid: deadPid() });
    expect(lockHolder(dir)).toBeUndefined();
    const lock = locked(await tryLockDataDir(dir, 'server'));
    expect(JSON.parse(readFileSync(lockFileOf(dir), 'utf8'))).toEqual(lock.holder);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (pid reuse)', async () => {
    const dir = freshDir();
    // Our own pid, but not a lock we took: a container restarted with the same pid.
    staleLock(dir, { pid: process.pid });
    locked(await tryLockDataDir(dir, 'server')).release();
    // A live pid started at another moment than the lock says (Linux tells start times).
    if (existsSync('/proc/self/stat')) {
      staleLock(dir, { pid: process.ppid, process_start: '1' });
      locked(await tryLockDataDir(dir, 'server')).release();
    }
  });

  it('takes over an unreadable lock file', async () => {
    const dir = freshDir();
    writeFileSync(lockFileOf(dir), '{"pid": 12');
    locked(await tryLockDataDir(dir, 'cli')).release();
  });

  it('leaves a lock it no longer holds alone on release', async () => {
    const dir = freshDir();
    const lock = locked(await tryLockDataDir(dir, 'cli'));
    rmSync(lockFileOf(dir));
    const other = locked(await tryLockDataDir(dir, 'server'));
    lock.release();
    expect(lockHolder(dir)).toEqual(other.holder);
    other.release();
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    const dir = freshDir();
    staleLock(dir, { pid: deadPid() });
    const script = `
      import { tryLockDataDir } from './src/storage/data-dir-lock.ts';
      const attempt = await tryLockDataDir(${JSON.stringify(dir)}, 'cli');
      process.stdout.write('lock' in attempt ? 'won\\n' : 'lost to ' + attempt.holder.pid + '\\n');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0)); // hold the lock until told
    `;
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const outcomes = await Promise.all(
      racers.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = '';
            child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
              out += chunk;
              if (out.endsWith('\n')) resolve(out.trim());
            });
          }),
      ),
    );
    const winners = racers.filter((_, i) => outcomes[i] === 'won');
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.pid;
    for (const outcome of outcomes.filter((o) => o !== 'won')) {
      expect(outcome).toBe(`lost to ${String(winner)}`);
    }
    expect(lockHolder(dir)?.pid).toBe(winner);
    await Promise.all(
      racers.map(
        (child) =>
          new Promise((resolve) => {
            child.on('close', resolve);
            child.stdin.end();
          }),
      ),
    );
  });
});
