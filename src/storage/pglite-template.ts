// A new embedded database is a copy of a template: a data directory initialised (initdb) and
// migrated once, by the build, instead of at every first start. initdb inside WebAssembly costs
// seconds and hundreds of MB (a second PostgreSQL instance); copying ~40 MB of files does not.
import { createHash, randomBytes } from 'node:crypto';
import {
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
} from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { migrate } from './migrate.ts';
import { migrations } from './migrations/index.ts';
import { pgliteStartParams } from './pglite-settings.ts';
import type { Database } from './schema.ts';

function installedPGlite(): { version: string; nodeModules: string } {
  // …/node_modules/@electric-sql/pglite/dist/index.cjs
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const packageDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { version, nodeModules: path.resolve(packageDir, '..', '..') };
}

/** Where templates are kept unless told otherwise: beside PGlite, gone with `node_modules`. */
export function defaultTemplateRoot(): string {
  return path.join(installedPGlite().nodeModules, '.cache', 'opencommas');
}

/**
 * A template is valid for one PGlite version (its initdb's output) and one set of migrations
 * (their names and code: an edited or added migration must not be taken as applied). The code
 * is read from the functions themselves, which works as well in the bundle as in the sources.
 */
function templateName(): string {
  const hash = createHash('sha256');
  for (const [name, migration] of Object.entries(migrations).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    hash.update(`${name}\0${String(migration.up)}\0${String(migration.down)}\0`);
  }
  return `pglite-${installedPGlite().version}-${hash.digest('hex').slice(0, 16)}`;
}

const isDataDir = (dir: string) => existsSync(path.join(dir, 'PG_VERSION'));

/** The template's directory, building it first if there is none yet. */
export async function ensurePgliteTemplate(root = defaultTemplateRoot()): Promise<string> {
  const name = templateName();
  const template = path.join(root, name);
  if (isDataDir(template)) return template;
  mkdirSync(root, { recursive: true });
  // Built aside and renamed into place: a template is never seen half-made, even when two
  // processes build it at once (the second rename fails, and its copy is dropped).
  const building = path.join(
    root,
    `.building-${name}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await buildTemplate(building);
    try {
      renameSync(building, template);
    } catch (error) {
      if (!isDataDir(template)) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  removeOtherVersions(root, name);
  return template;
}

async function buildTemplate(dir: string): Promise<void> {
  const pglite = await PGlite.create(dir, { startParams: pgliteStartParams() });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  try {
    await migrate(db);
  } finally {
    await db.destroy(); // closes PGlite, which ends with a checkpoint: the files are complete
  }
}

/** Templates of other PGlite versions can never be used again. */
function removeOtherVersions(root: string, current: string): void {
  const version = current.slice(0, current.lastIndexOf('-') + 1);
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('pglite-') && !entry.startsWith(version)) {
      rmSync(path.join(root, entry), { recursive: true, force: true });
    }
  }
}

/** True when `dir` is absent or empty: a database that is still to be created. */
export function isNewDataDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Creates the (absent or empty) `dataDir` as a copy of the template. False when there is no
 * template: the caller lets PGlite run initdb instead.
 */
export async function createFromTemplate(
  dataDir: string,
  root = defaultTemplateRoot(),
): Promise<boolean> {
  const template = path.join(root, templateName());
  if (!isDataDir(template)) return false;
  // Copied aside, then renamed: a copy cut short (a crash, a full disk) is never taken for a
  // database at the next start.
  const copying = `${dataDir}.copying-${process.pid}`;
  rmSync(copying, { recursive: true, force: true });
  try {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    await copyTree(template, copying);
    if (existsSync(dataDir)) rmdirSync(dataDir); // empty, or this throws
    renameSync(copying, dataDir);
  } finally {
    rmSync(copying, { recursive: true, force: true });
  }
  return true;
}

/**
 * About a thousand small files: copied concurrently (libuv's threads), three times as fast as
 * one by one here; a clone where the file system can (copy-on-write).
 */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) => {
      const source = path.join(from, entry.name);
      const target = path.join(to, entry.name);
      return entry.isDirectory()
        ? copyTree(source, target)
        : copyFile(source, target, constants.COPYFILE_FICLONE);
    }),
  );
}
