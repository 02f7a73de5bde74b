// A new embedded data directory is a copy of a prepared template (initdb'd and migrated once)
// instead of PGlite's initdb at every first start. PGlite runs here on either backend: the
// template only exists for the embedded database.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { pgliteStartParams } from '../../src/storage/pglite-settings.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { createFromTemplate, ensurePgliteTemplate } from '../../src/storage/pglite-template.ts';

/** Every migration there is, in the order they apply. */
const MIGRATIONS = Object.keys(migrations).sort();
const MARK = 'made from the template';

const scratch = mkdtempSync(path.join(tmpdir(), 'opencommas-template-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const templateRoot = path.join(scratch, 'templates');
let template: string;

beforeAll(async () => {
  template = await ensurePgliteTemplate(templateRoot);
  // A mark only the template has, so a test can tell a copy from an initdb.
  const pglite = await PGlite.create(template, { startParams: pgliteStartParams() });
  await pglite.exec(`COMMENT ON DATABASE postgres IS '${MARK}'`);
  await pglite.close();
});

const open = (dataDir: string, root = templateRoot) =>
  openStorage({ dataDir, pgliteTemplateRoot: root });

async function appliedMigrations(storage: Storage): Promise<string[]> {
  const applied = await sql<{
    name: string;
  }>`SELECT name FROM kysely_migration ORDER BY name`.execute(storage.db);
  return applied.rows.map((row) => row.name);
}

async function databaseComment(storage: Storage): Promise<string | null> {
  const result = await sql<{
    comment: string | null;
  }>`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = 'postgres'`.execute(
    storage.db,
  );
  return result.rows[0]?.comment ?? null;
}

describe('PGlite data directory template', () => {
  it('is an initialised, migrated data directory', () => {
    expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(path.join(template, 'base')).length).toBeGreaterThan(0);
  });

  it('makes a new data directory that opens migrated, takes writes and keeps them', async () => {
    const dataDir = path.join(scratch, 'new', 'pglite');
    const first = await open(dataDir);
    try {
      expect(await databaseComment(first)).toBe(MARK);
      expect(await appliedMigrations(first)).toEqual(MIGRATIONS);
      await first.db.insertInto('users').values({ email: 'copied@example.com' }).execute();
    } finally {
      await first.close();
    }

    const second = await open(dataDir);
    try {
      const users = await second.db.selectFrom('users').select('email').execute();
      expect(users).toEqual([{ email: 'copied@example.com' }]);
      expect(await appliedMigrations(second)).toEqual(MIGRATIONS);
    } finally {
      await second.close();
    }
    // Writes went to the copy, not to the template.
    const pristine = await open(path.join(scratch, 'another', 'pglite'));
    try {
      expect(await pristine.db.selectFrom('users').select('email').execute()).toEqual([]);
    } finally {
      await pristine.close();
    }
  });

  it('also fills an empty directory, and never touches an existing database', async () => {
    const dataDir = mkdtempSync(path.join(scratch, 'empty-'));
    expect(await createFromTemplate(dataDir, templateRoot)).toBe(true);
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    await expect(createFromTemplate(dataDir, templateRoot)).rejects.toThrow();
    expect(readdirSync(path.dirname(dataDir)).filter((name) => name.includes('.copying-'))).toEqual(
      [],
    );
  });

  it('without a template, a new data directory is initialised by PGlite and migrated', async () => {
    const emptyRoot = path.join(scratch, 'no-templates');
    const dataDir = path.join(mkdtempSync(path.join(scratch, 'initdb-')), 'pglite');
    expect(await createFromTemplate(dataDir, emptyRoot)).toBe(false);
    const first = await open(dataDir, emptyRoot);
    try {
      expect(await databaseComment(first)).not.toBe(MARK);
      expect(await appliedMigrations(first)).toEqual(MIGRATIONS);
      await first.db.insertInto('users').values({ email: 'initdb@example.com' }).execute();
    } finally {
      await first.close();
    }
    const second = await open(dataDir, emptyRoot);
    try {
      const users = await second.db.selectFrom('users').select('email').execute();
      expect(users).toEqual([{ email: 'initdb@example.com' }]);
    } finally {
      await second.close();
    }
  });

  it('is built whole when asked twice at once, and then reused', async () => {
    const root = path.join(scratch, 'race');
    const [one, two] = await Promise.all([ensurePgliteTemplate(root), ensurePgliteTemplate(root)]);
    expect(two).toBe(one);
    expect(existsSync(path.join(one, 'PG_VERSION'))).toBe(true);
    // Nothing half-built is left behind, and the next call finds the template as it is.
    expect(readdirSync(root)).toEqual([path.basename(one)]);
    expect(await ensurePgliteTemplate(root)).toBe(one);
    // Two initdbs at once: on a busy 2-core machine this alone can take most of a minute.
  }, 120_000);
});
