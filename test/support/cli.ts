import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { createTestDatabase } from './database.ts';

/** The repository root: the CLI runs from here, as `npm run cli` / `npm start` do. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Variables the service reads: never inherited from the test runner, only set on purpose. */
const CONFIG_VARIABLES = [
  'PORT',
  'HOST',
  'OPENCOMMAS_DATA_DIR',
  'DATABASE_URL',
  'OPENCOMMAS_MASTER_KEY',
  'OPENCOMMAS_DEMO',
  'LOG_LEVEL',
];

/** The runner's environment without the service's own variables, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(base)) {
    if (CONFIG_VARIABLES.includes(name) || name.startsWith('OPENCOMMAS_')) delete base[name];
  }
  // Metrics off unless asked for: test files run side by side, and none may take port 9464.
  return { ...base, OPENCOMMAS_METRICS_PORT: 'off', ...env };
}

/**
 * Storage for CLI processes: a fresh data directory always, plus on PostgreSQL runs a fresh
 * database and a master key (required with DATABASE_URL). On PGlite runs no master key is given,
 * so the first process generates `<dataDir>/master.key`, as on a first real run.
 */
export interface CliStorage {
  /** The service's environment for child processes (and for `loadConfig` in-process). */
  env: Record<string, string>;
  dataDir: string;
  databaseUrl: string | undefined;
  /**
   * The real server in this process on the same storage (PORT=0, no demo seeding, no logs).
   * On PGlite only while no CLI process holds the database.
   */
  startServer(overrides?: Record<string, string>): Promise<RunningServer>;
  cleanup(): Promise<void>;
}

export async function createCliStorage(): Promise<CliStorage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencommas-cli-'));
  const database = await createTestDatabase();
  // Metrics off (for the in-process server too): none may take the production port 9464.
  const env: Record<string, string> = {
    OPENCOMMAS_DATA_DIR: dataDir,
    OPENCOMMAS_METRICS_PORT: 'off',
  };
  if (database.url) {
    env.DATABASE_URL = database.url;
    env.OPENCOMMAS_MASTER_KEY = randomBytes(32).toString('base64');
  }
  return {
    env,
    dataDir,
    databaseUrl: database.url,
    startServer: (overrides = {}) =>
      startServer(
        loadConfig({
          ...env,
          PORT: '0',
          OPENCOMMAS_DEMO: 'off',
          OPENCOMMAS_METRICS_PORT: 'off',
          LOG_LEVEL: 'silent',
          ...overrides,
        }),
      ),
    async cleanup() {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The `opencommas` command as installed: the compiled CLI, built first if stale. */
export const OPENCOMMAS = path.join(ROOT, 'bin', 'opencommas.mjs');

export interface CliOptions {
  /** Written to the command's standard input (otherwise it reads an empty one). */
  input?: string;
  timeoutMs?: number;
}

/** `opencommas ...args` from the repository root; never rejects. */
export function runCli(
  env: Record<string, string>,
  args: string[],
  { input, timeoutMs = 60_000 }: CliOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPENCOMMAS, ...args], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // A command that exits without reading its input closes the pipe: not the test's failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON printed by a successful `--json` command (and nothing on stderr). */
export function jsonOut<T>(result: CliResult, what: string): T {
  if (result.code !== 0 || result.stderr !== '') {
    throw new Error(
      `${what}: exit ${String(result.code)} (${String(result.signal)})\n` +
        `stdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

export interface ErrorShape {
  error: string;
  error_description: string;
  error_attributes?: Record<string, string[]>;
}

/** The one-line 3Commas error body a failed `--json` command prints on stderr. */
export function jsonError(result: CliResult): ErrorShape {
  const lines = result.stderr.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got: ${result.stderr}`);
  return JSON.parse(lines[0] ?? '') as ErrorShape;
}

/** A long-running `opencommas` command (the server), with its output as it arrives. */
export interface ServerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with stdout once `pattern` appears in it; rejects if the process exits first. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The same for stderr. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (cleanup after a failed test). */
  kill(): void;
}

/** `opencommas serve` (what `npm start` runs) by default; any other command with `args`. */
export function spawnServer(env: Record<string, string>, args = ['serve']): ServerProcess {
  const child = spawn(process.execPath, [OPENCOMMAS, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let running = true;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      running = false;
      notify();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill() {
      if (running) child.kill('SIGKILL');
    },
    waitForStdout: (pattern, timeoutMs) => waitFor(() => stdout, 'stdout', pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitFor(() => stderr, 'stderr', pattern, timeoutMs),
  };

  function waitFor(
    output: () => string,
    name: string,
    pattern: RegExp,
    timeoutMs = 60_000,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = () => {
        listeners.delete(check);
        clearTimeout(timer);
      };
      const check = () => {
        if (pattern.test(output())) {
          done();
          resolve(output());
        } else if (!running) {
          done();
          reject(
            new Error(`process exited before printing ${pattern} on ${name}\n${stdout}\n${stderr}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} on ${name} within ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  }
}
