import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * While an embedded (PGlite) server runs, it owns the database: it records its address here so
 * the CLI routes through its admin API, and so a second server refuses to open the same data.
 */
export interface ServerFile {
  url: string;
  pid: number;
}

const fileIn = (dataDir: string) => path.join(dataDir, 'server.json');

export function writeServerFile(dataDir: string, info: ServerFile): void {
  writeFileSync(fileIn(dataDir), JSON.stringify(info) + '\n', { mode: 0o600 });
}

export function removeServerFile(dataDir: string): void {
  rmSync(fileIn(dataDir), { force: true });
}

/** The running server of this data directory, if its process is still alive. */
export function runningServer(dataDir: string): ServerFile | undefined {
  const file = fileIn(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ServerFile;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined; // stale file from a crashed server
  }
}
