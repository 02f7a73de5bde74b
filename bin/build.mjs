// The build: src/ (TypeScript) bundled into dist/ (JavaScript), which is what every entry point
// runs. A loader that compiles at every start costs seconds; running a stale dist/ would run
// code that is no longer in src/. So each entry point calls `freshBuild()` first: it hashes the
// sources (a few milliseconds) and rebuilds only when dist/ was built from something else.
//
// Bundled, not emitted file by file: Node loads one ESM file per module, and typebox, kysely and
// fastify are over a thousand of them (~0.6 s and ~25 MB before our code runs). esbuild joins
// them into a few files, split at our dynamic imports so that each command still loads only
// what it uses. Packages that find files next to their own code (PGlite's WebAssembly, pino's
// worker, ccxt's per-exchange modules, pg's optional native driver) stay in node_modules.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
const SRC = path.join(ROOT, 'src');
const STAMP = 'BUILD';
// The bundle also holds our dependencies' code, and depends on how it is built.
const CONFIGS = ['tsconfig.json', 'package-lock.json', 'bin/build.mjs'];

/** Entry points; chunks shared between them are loaded once. */
const ENTRIES = {
  'cli/main': 'src/cli/main.ts',
  // For the benchmarks, which start servers in-process as `npm start` does.
  server: 'src/server.ts',
  config: 'src/config.ts',
  // For `prepare`: the embedded database's template, made once instead of at every first start.
  'storage/pglite-template': 'src/storage/pglite-template.ts',
  // For `npm run bench:pglite`, which measures our storage as the build ships it.
  'storage/database': 'src/storage/database.ts',
};
// Packages that find files beside their own code (data, wasm, static assets such as
// @fastify/swagger-ui's pages) stay in node_modules.
const EXTERNAL = [
  '@electric-sql/pglite',
  'ccxt',
  'viem',
  'pino',
  'pg',
  'pg-native',
  '@fastify/swagger-ui',
];
// Bundled CommonJS (prom-client, fastify's dependencies) calls `require`, which ESM lacks.
const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';\n" +
  'const require = __createRequire(import.meta.url);';
// The dashboard's browser script: one file the pages load as a module. Chart.js is bundled into
// it (tree-shaken to what src/dashboard/client registers): the pages fetch nothing elsewhere.
const BROWSER_ENTRIES = { 'assets/dashboard': 'src/dashboard/client/main.ts' };
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

/** A hash of the build's inputs, names and contents (not times: a checkout or touch is no change). */
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

/** Builds dist/ unless it is already built from the sources as they are now; true if it built. */
export function freshBuild({ quiet = false } = {}) {
  if (builtFingerprint() === sourceFingerprint()) return false;
  let built = false;
  withBuildLock(() => {
    // Another process may have built it while we waited for the lock.
    const fingerprint = sourceFingerprint();
    if (builtFingerprint() === fingerprint) return;
    if (!quiet) process.stderr.write('opencommas: compiling src/ to dist/…\n');
    build(fingerprint);
    built = true;
  });
  return built;
}

/**
 * The embedded database's template for the migrations as they are now (a few seconds of initdb
 * the first time; a check after that). Without one, a new data directory runs initdb itself.
 */
export async function preparePgliteTemplate() {
  const url = new URL('../dist/storage/pglite-template.js', import.meta.url).href;
  const { ensurePgliteTemplate } = await import(url);
  await ensurePgliteTemplate();
}

/**
 * Bundles into a new directory, then swaps it in whole: dist/ is never half-built, and files of
 * deleted sources do not linger. The stamp is written last, so a failed build never looks fresh.
 * Types are not checked here (esbuild strips them): that is `npm run typecheck`'s job.
 */
function build(fingerprint) {
  const next = `${DIST}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  // Loaded only to build: the check above must stay cheap.
  const esbuild = createRequire(import.meta.url)('esbuild');
  try {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      outdir: next,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      banner: { js: REQUIRE_SHIM },
      chunkNames: 'chunks/[name]-[hash]',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: BROWSER_ENTRIES,
      outdir: next,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      treeShaking: true,
      sourcemap: 'linked',
      logLevel: 'warning',
    });
  } catch (error) {
    rmSync(next, { recursive: true, force: true });
    throw new Error('the build failed (esbuild: see above)', { cause: error });
  }
  writeFileSync(path.join(next, STAMP), fingerprint + '\n');
  const old = `${DIST}.old-${process.pid}`;
  if (existsSync(DIST)) renameSync(DIST, old);
  renameSync(next, DIST);
  rmSync(old, { recursive: true, force: true });
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
  await preparePgliteTemplate();
}
