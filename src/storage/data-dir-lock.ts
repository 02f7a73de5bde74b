import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';

/**
 * One writer per embedded data directory. PGlite is a single-process database: two processes
 * opening the same files would corrupt them. Whatever opens the directory (the server, or a CLI
 * command while no server runs) first takes this lock and holds it for its lifetime.
 *
 * Node has no flock(2), so the lock is a file created atomically and exclusively: its complete
 * content is written to a temporary file first and then hard-linked into place (link(2) fails
 * with EEXIST when the lock exists, and readers never see a half-written lock). It names its
 * holder: pid, the kernel's start time of that pid (Linux), a random token, the role, and for a
 * server its URL and admin socket once listening.
 *
 * A lock whose holder is gone (`kill -9`, a crash, a power cut) is stale: its pid no longer
 * runs, or now belongs to another process (different start time, e.g. after a container
 * restart). It is taken over under a takeover guard (an exclusive mkdir), re-checking under the
 * guard that the file is still the stale one before removing it, so two processes racing for a
 * stale lock cannot both win.
 */
export type LockRole = 'server' | 'cli';

export interface LockHolder {
  pid: number;
  /** The holder's start time as the kernel tells it (`/proc/<pid>/stat`), to detect pid reuse. */
  process_start?: string;
  token: string;
  role: LockRole;
  started_at: string;
  /** A server's public URL, once it listens. */
  url?: string;
  /** A server's admin socket, once it listens: the CLI's way in while the server runs. */
  socket?: string;
}

export const LOCK_FILE = 'opencommas.lock';
const GUARD_SUFFIX = '.takeover';
/** A takeover guard older than this was left by a process killed in the middle of a takeover. */
const GUARD_STALE_MS = 10_000;

export const lockFileOf = (dataDir: string) => path.join(dataDir, LOCK_FILE);

/** Tokens of the locks this process holds: a lock naming our own pid is ours only if listed. */
const heldHere = new Set<string>();

export class DataDirLock {
  constructor(
    readonly file: string,
    private current: LockHolder,
  ) {}

  get holder(): LockHolder {
    return this.current;
  }

  /** Adds what others need to reach this holder (URL, admin socket); atomic replacement. */
  update(patch: Pick<LockHolder, 'url' | 'socket'>): void {
    const next = { ...this.current, ...patch };
    const temporary = `${this.file}.${next.token}.tmp`;
    writeFileSync(temporary, JSON.stringify(next) + '\n', { mode: 0o600 });
    renameSync(temporary, this.file);
    this.current = next;
  }

  /** Removes the lock if it is still ours (it is, unless someone deleted it by hand). */
  release(): void {
    heldHere.delete(this.current.token);
    const read = readLock(this.file);
    if (read !== 'absent' && read.holder?.token === this.current.token) {
      rmSync(this.file, { force: true });
    }
  }
}

export type LockAttempt = { lock: DataDirLock } | { holder: LockHolder };

/** Takes the data directory's lock, or names the live process that holds it. */
export async function tryLockDataDir(dataDir: string, role: LockRole): Promise<LockAttempt> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = lockFileOf(dataDir);
  const mine: LockHolder = {
    pid: process.pid,
    ...optional('process_start', processStart(process.pid)),
    token: randomBytes(12).toString('hex'),
    role,
    started_at: new Date().toISOString(),
  };
  // Each round either takes the lock, finds a live holder, or removes a stale lock; only races
  // with other processes doing the same make it go round more than twice.
  for (let round = 0; round < 200; round += 1) {
    if (createExclusively(file, mine)) {
      heldHere.add(mine.token);
      return { lock: new DataDirLock(file, mine) };
    }
    const read = readLock(file);
    if (read === 'absent') continue; // released in between: try again at once
    if (read.holder && isAlive(read.holder)) return { holder: read.holder };
    if (!removeStale(file, read.text)) await pause(25); // another process is taking over
  }
  throw new Error(`could not lock ${file}: it keeps changing hands`);
}

/** The live holder of the data directory, if any (stale locks are not reported). */
export function lockHolder(dataDir: string): LockHolder | undefined {
  const read = readLock(lockFileOf(dataDir));
  if (read === 'absent' || !read.holder) return undefined;
  return isAlive(read.holder) ? read.holder : undefined;
}

export interface WaitOptions {
  /** Stop waiting for this holder (e.g. a server that is up, or one that never will be ours). */
  enough(holder: LockHolder): boolean | Promise<boolean>;
  /** Told once per holder that we are waiting for it. */
  onWait?(holder: LockHolder): void;
  timeoutMs: number;
}

/**
 * Takes the lock, or waits (bounded) while its holder is not `enough`: a server still starting,
 * a CLI command still running. Answers the lock, or the holder when `enough` or out of time.
 */
export async function lockOrWait(
  dataDir: string,
  role: LockRole,
  options: WaitOptions,
): Promise<LockAttempt & { timedOut?: boolean }> {
  const deadline = Date.now() + options.timeoutMs;
  const told = new Set<string>();
  for (;;) {
    const attempt = await tryLockDataDir(dataDir, role);
    if ('lock' in attempt) return attempt;
    const { holder } = attempt;
    if (await options.enough(holder)) return attempt;
    if (Date.now() >= deadline) return { holder, timedOut: true };
    if (!told.has(holder.token)) {
      told.add(holder.token);
      options.onWait?.(holder);
    }
    await pause(100);
  }
}

function createExclusively(file: string, holder: LockHolder): boolean {
  const temporary = `${file}.${holder.token}.tmp`;
  writeFileSync(temporary, JSON.stringify(holder) + '\n', { mode: 0o600 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

type LockRead = 'absent' | { text: string; holder: LockHolder | undefined };

function readLock(file: string): LockRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  return { text, holder: parseHolder(text) };
}

/** Unreadable content (edited by hand, a full disk) names nobody: it is treated as stale. */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isInteger(value.pid) || typeof value.token !== 'string') return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return heldHere.has(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the pid runs, under another user; only ESRCH says it is gone.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(holder.pid);
  return !(holder.process_start && start && start !== holder.process_start);
}

/**
 * Removes the lock if it still reads `staleText`, holding the takeover guard. Answers false
 * when another process holds the guard (the caller retries shortly).
 */
function removeStale(file: string, staleText: string): boolean {
  const guard = file + GUARD_SUFFIX;
  try {
    mkdirSync(guard, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    clearAbandonedGuard(guard);
    return false;
  }
  try {
    const read = readLock(file);
    if (read !== 'absent' && read.text === staleText) unlinkSync(file);
    return true;
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}

function clearAbandonedGuard(guard: string): void {
  try {
    if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) {
      rmSync(guard, { recursive: true, force: true });
    }
  } catch {
    // gone already
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); Linux only. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a starting server waits for a CLI command that holds the directory. */
const SERVER_WAIT_MS = 30_000;

/**
 * The server's claim: a CLI command holding the directory is waited for (bounded); another
 * server is not: this one refuses to start, naming it.
 */
export async function lockForServer(
  dataDir: string,
  onWait: (holder: LockHolder) => void,
): Promise<DataDirLock> {
  const claim = await lockOrWait(dataDir, 'server', {
    timeoutMs: SERVER_WAIT_MS,
    enough: (holder) => holder.role === 'server',
    onWait,
  });
  if ('lock' in claim) return claim.lock;
  const { holder } = claim;
  const who =
    holder.role === 'server'
      ? `another opencommas server (pid ${holder.pid}, ${holder.url ?? 'starting'})`
      : `an opencommas command (pid ${holder.pid}, still running after ${SERVER_WAIT_MS / 1000} s)`;
  throw new ConfigError(`${who} is using ${dataDir}`);
}
