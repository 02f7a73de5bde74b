// The build's promise, on a copy of the repository: an edit to src/ is what the next command
// runs, and sources that do not build stop the command instead of letting the old build run.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.ts';

let copy: string;
const CATALOG = 'src/markets/catalog.ts';

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'opencommas-build-'));
  for (const entry of ['src', 'bin', 'tsconfig.json', 'package.json', 'package-lock.json']) {
    cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const opencommas = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(copy, 'bin', 'opencommas.mjs'), ...args], {
    cwd: copy,
    encoding: 'utf8',
    env: { ...process.env, OPENCOMMAS_DATA_DIR: path.join(copy, 'data') },
  });

const editCatalog = (from: string, to: string) => {
  const file = path.join(copy, CATALOG);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
};

const binanceName = (stdout: string) =>
  (JSON.parse(stdout) as { market_code: string; exchange_name: string }[]).find(
    (market) => market.market_code === 'binance',
  )?.exchange_name;

describe('the compiled build', () => {
  it('is built on first use, and rebuilt when a source changes', () => {
    const first = opencommas('--json', 'markets');
    expect(first.status).toBe(0);
    expect(first.stderr).toContain('compiling src/ to dist/');
    expect(binanceName(first.stdout)).toBe('Binance Spot');

    const again = opencommas('--json', 'markets');
    expect(again.stderr).toBe(''); // fresh: no rebuild
    editCatalog("'Binance Spot'", "'Binance Spot (edited)'");
    const edited = opencommas('--json', 'markets');
    expect(edited.stderr).toContain('compiling src/ to dist/');
    expect(binanceName(edited.stdout)).toBe('Binance Spot (edited)');
  });

  it('stops, and runs nothing, when the sources do not build', () => {
    editCatalog("'Binance Spot (edited)'", "'Binance Spot (broken)' +");
    const broken = opencommas('--json', 'markets');
    expect(broken.status).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('opencommas: the build failed');
    // Still stale: the next command tries again rather than running the last good build.
    expect(opencommas('--json', 'markets').status).toBe(2);
  });
});
