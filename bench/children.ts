// Starts and stops the server children of bench/servers.ts, and remembers every live one so the
// benchmark can end them all on any exit path.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryReport, ServerOrder, ServerReady } from './servers.ts';

const SERVERS = fileURLToPath(new URL('./servers.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();

export interface ServerChild {
  url: string;
  /** What the server's request limiter enforces (ours only). */
  limits: string | undefined;
  /** Peak resident memory of the server process so far, in bytes. */
  maxRss(): Promise<number>;
  stop(): Promise<void>;
}

/** Spawns a server child, sends it its order, and resolves once it listens. */
export async function startChild(order: ServerOrder): Promise<ServerChild> {
  // Extra node flags for the server only, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof" to profile it.
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', SERVERS], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Structured clone over IPC: the baseline's body bytes travel as bytes, not JSON.
    serialization: 'advanced',
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  try {
    const ready = await new Promise<ServerReady>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('server child not ready in time')),
        READY_TIMEOUT_MS,
      );
      child.once('message', (message: ServerReady) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server child exited early (code ${code})`));
      });
      child.send(order);
    });
    return {
      url: ready.url,
      limits: ready.limits,
      maxRss: () => askMemory(child),
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

function askMemory(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (report: MemoryReport) => resolve(report.maxRss));
    child.send('memory');
  });
}

/** SIGTERM, then SIGKILL if the child does not exit in time; resolves once it is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Ends every child still running (used on failure and on Ctrl-C). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map(stopChild));
}
