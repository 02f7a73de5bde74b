// Template databases of `npm run bench:scale`: each size built once by build.ts into
// opencommas_scale_<users>_<fingerprint>, then copied per run (a file copy, seconds instead of the
// build's minutes) and the copy dropped at the end.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildScaleDatabase, type ScaleSize } from './build.ts';

/** The server of every template and copy (the maintenance database is `${SERVER}/postgres`). */
export const SERVER = process.env.BENCH_POSTGRES_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

/**
 * One fixed master key for every template: a copy must unseal the secrets its template was built
 * with, and a constant needs no file kept beside the database. A bench key, sealing bench secrets.
 */
export const BENCH_MASTER_KEY = createHash('sha256').update('opencommas bench:scale').digest();

const BUILD_FILE = fileURLToPath(new URL('./build.ts', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../src/storage/migrations', import.meta.url));

/** Changes when the builder, the migrations' names, the size, the history or the key change. */
export function templateName(size: ScaleSize): string {
  const hash = createHash('sha256')
    .update(readFileSync(BUILD_FILE))
    .update(readdirSync(MIGRATIONS).sort().join('\n'))
    .update(JSON.stringify(size))
    .update(BENCH_MASTER_KEY)
    .digest('hex')
    .slice(0, 12);
  return `opencommas_scale_${size.users}_${hash}`;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const exists = (client: pg.Client, name: string) =>
  client
    .query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    .then((result) => result.rowCount === 1);

export interface Template {
  name: string;
  /** Seconds the build took, or null when an existing template was reused. */
  builtSeconds: number | null;
  bytes: number;
  users: number;
  accounts: number;
  snapshots: number;
}

/**
 * The template of `size`, built when missing. Built under a `_building` name and renamed once
 * complete, so an interrupted build is never mistaken for a template.
 */
export async function ensureTemplate(
  size: ScaleSize,
  progress: (line: string) => void,
): Promise<Template> {
  const name = templateName(size);
  const building = `${name}_building`;
  let builtSeconds: number | null = null;
  if (!(await onServer((client) => exists(client, name)))) {
    await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`));
    progress(`building ${name} (${size.users} users)…`);
    // "Now" of the history: the build's day, so a template reused later is days old at worst
    // as long as its fingerprint holds; the API reads history relative to the data it finds.
    const built = await buildScaleDatabase(
      SERVER,
      building,
      size,
      BENCH_MASTER_KEY,
      new Date(),
      progress,
    );
    await onServer((client) => client.query(`ALTER DATABASE ${building} RENAME TO ${name}`));
    builtSeconds = built.seconds;
  }
  // Templates of this size from another builder or migrations: gigabytes each at the large size,
  // but perhaps someone else's current one, so named for dropping rather than dropped.
  const stale = await onServer((client) =>
    client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ $1 AND datname <> $2`,
      [`^opencommas_scale_${size.users}_[0-9a-f]{12}$`, name],
    ),
  );
  for (const { datname } of stale.rows) {
    progress(`stale template of this size (DROP DATABASE ${datname} to reclaim it)`);
  }
  const counts = await withDatabase(name, (client) =>
    client.query<Record<string, string>>(`SELECT
      (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM accounts) AS accounts,
      (SELECT reltuples::bigint FROM pg_class WHERE relname = 'balance_snapshots') AS snapshots,
      pg_database_size(current_database()) AS bytes`),
  );
  const row = counts.rows[0] ?? {};
  return {
    name,
    builtSeconds,
    bytes: Number(row.bytes),
    users: Number(row.users),
    accounts: Number(row.accounts),
    snapshots: Number(row.snapshots),
  };
}

export async function withDatabase<T>(
  name: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/${name}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface Copy {
  name: string;
  url: string;
  copySeconds: number;
  drop(): Promise<void>;
}

/** A run's own copy of `template` (FILE_COPY: no WAL for every page, PostgreSQL 15+). */
export async function copyTemplate(template: string, suffix: string): Promise<Copy> {
  const name = `${template}_run_${suffix}`;
  const started = Date.now();
  await onServer(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
  });
  return {
    name,
    url: `${SERVER}/${name}`,
    copySeconds: (Date.now() - started) / 1000,
    drop: async () => {
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
