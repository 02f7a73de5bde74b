// Build-rate probe for the scale bench: builds a small database and prints rows per second.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LEAN_HISTORY, RETENTION_HISTORY, buildScaleDatabase } from './build.ts';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const users = Number(process.env.BENCH_SCALE_USERS ?? 1000);
const history = process.env.BENCH_SCALE_HISTORY === 'lean' ? LEAN_HISTORY : RETENTION_HISTORY;
const name = `opencommas_scale_probe_${process.pid}`;
const built = await buildScaleDatabase(
  SERVER,
  name,
  { users, history },
  randomBytes(32),
  new Date(),
  (line) => console.log(line),
);
console.log(
  built,
  Math.round((built.snapshots + built.assets + built.transfers) / built.seconds),
  'rows/s',
);
const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
await admin.connect();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
