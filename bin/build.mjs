// The build: src/ (TypeScript) compiled to dist/ (JavaScript), which is what every entry point
// runs. A loader that compiles at every start costs seconds; running a stale dist/ would run
// code that is no longer in src/. So each entry point calls `freshBuild()` first: it hashes the
// sources (a few milliseconds) and rebuilds only when dist/ was built from something else.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
const SRC = path.join(ROOT, 'src');
const STAMP = 'BUILD';
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];
const LOCK = path.join(ROOT, 'dist.lock');
const LOCK_WAIT_MS = 120_000;

/** Every file under src/, relative to it, sorted: the build's whole input with the configs. */
function sourceFiles(dir = SRC, prefix = '') {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = prefix + entry.name;
    if (entry.isDirectory()) files.push(...sourceFiles(path.join(dir, entry.name), relative + '/'));
    else files.push(relative);
  }
  return files.sort();
}

/** A hash of the sources' names and contents (not their times: a checkout or touch is no change). */
export function sourceFingerprint() {
  const hash = createHash('sha256');
  for (const file of sourceFiles())
    hash.update(`src/${file}\0`).update(readFileSync(path.join(SRC, file)));
  for (const file of CONFIGS) hash.update(`${file}\0`).update(readFileSync(path.join(ROOT, file)));
  return hash.digest('hex');
}

function builtFingerprint() {
  try {
    return readFileSync(path.join(DIST, STAMP), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Builds dist/ unless it is already built from the sources as they are now. */
export function freshBuild({ quiet = false } = {}) {
  if (builtFingerprint() === sourceFingerprint()) return;
  withBuildLock(() => {
    // Another process may have built it while we waited for the lock.
    const fingerprint = sourceFingerprint();
    if (builtFingerprint() === fingerprint) return;
    if (!quiet) process.stderr.write('opencommas: compiling src/ to dist/…\n');
    build(fingerprint);
  });
}

/**
 * Compiles into a new directory, then swaps it in whole: dist/ is never half-built, and files of
 * deleted sources do not linger. The stamp is written last, so a failed build never looks fresh.
 */
function build(fingerprint) {
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  const tsc = path.join(ROOT, 'node_modules', 'typescript7', 'bin', 'tsc');
  const result = spawnSync(
    process.execPath,
    [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', next],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    throw new Error(`the build failed (tsc exit ${String(result.status ?? result.signal)})`);
  }
  copyDataFiles(next);
  writeFileSync(path.join(next, STAMP), fingerprint + '\n');
  const old = `${DIST}.old-${process.pid}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(next, DIST);
  rmSync(old, { recursive: true, force: true });
}

/** Files next to the code that the code reads at run time (tsc copies only what it compiles). */
function copyDataFiles(outDir) {
  for (const file of sourceFiles()) {
    if (file.endsWith('.ts')) continue;
    mkdirSync(path.dirname(path.join(outDir, file)), { recursive: true });
    cpSync(path.join(SRC, file), path.join(outDir, file));
  }
}

/** One builder at a time (a directory is created atomically); a dead builder's lock is taken over. */
function withBuildLock(work) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (!holderAlive()) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`${LOCK} is still held; remove it if no build runs`, { cause: error });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function holderAlive() {
  let pid;
  try {
    pid = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
  } catch {
    // Created but its pid not yet written: a builder is starting.
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// `node bin/build.mjs`: what `npm run build` (and `prepare`, at `npm install`/`npm ci`) runs.
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  freshBuild({ quiet: true });
}
