// Child processes as a user starts them, timed from spawn to exit or to first answer, and their
// memory as the kernel reports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { freshBuild } from '../../bin/build.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The installed `opencommas` bin: `node bin/opencommas.mjs`. */
export const BIN = ['bin/opencommas.mjs'];

/** A clean environment: a stray DATABASE_URL, data dir or key in the shell must not leak in. */
export function userEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...env };
}

/**
 * Wall clock of `opencommas <args>` from spawn to exit, in seconds; its stdout is returned. The
 * build is checked first, outside the timing, so a source change made meanwhile by someone else
 * is not charged to the command.
 */
export async function timeCommand(
  args: string[],
  env: Record<string, string>,
): Promise<{ seconds: number; stdout: string }> {
  freshBuild({ quiet: true });
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...BIN, ...args], {
    cwd: ROOT,
    env: userEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) {
    throw new Error(`opencommas ${args.join(' ')} exited ${code}: ${stderr.trim() || stdout}`);
  }
  return { seconds, stdout };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** The cheapest route there is: 3Commas' unsigned ping, which clients call first. */
export const PING = '/public/api/ver1/ping';

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('error', () => resolve(false));
    request.setTimeout(1_000, () => request.destroy());
  });
}

/** Polls `url` every 20 ms until it answers 200; rejects if `child` exits first or on timeout. */
export async function waitForAnswer(
  url: string,
  child: ChildProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(url))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before answering`);
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Memory {
  /** Resident now (VmRSS), bytes. */
  rss: number;
  /** Peak resident since the process started (VmHWM), bytes. */
  hwm: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match?.[1]) throw new Error(`no ${field} for pid ${pid}`);
    return Number(match[1]) * 1024;
  };
  return { rss: kB('VmRSS'), hwm: kB('VmHWM') };
}

const live = new Set<ChildProcess>();

/** Spawns a long-running process in a group of its own (npm start runs node under a shell). */
export function spawnGroup(
  command: string,
  args: string[],
  env: Record<string, string>,
): ChildProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: userEnv(env),
    stdio: ['ignore', 'ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore'],
    detached: true,
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/**
 * SIGTERM to the whole group, SIGKILL after 10 s; resolves once every process of the group is
 * gone (npm may exit before the server it started has let go of its data directory).
 */
export async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, name);
      return true;
    } catch {
      return false; // no process left in the group
    }
  };
  if (!signal('SIGTERM')) return;
  const deadline = Date.now() + 10_000;
  while (signal(0)) {
    if (Date.now() > deadline) signal('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every long-running child still alive (on failure or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stopGroup));
}
