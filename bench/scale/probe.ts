// Build-rate probe for the scale bench: builds a small database and prints rows per second.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LEAN_HISTORY, RETENTION_HISTORY, buildScaleDatabase } from './build.ts';

const SERVER = 'postgres://postgres@127.0.0.1:5432';
const users = Number(process.env.BENCH_SCALE_USERS ?? 1000);
// lean: every account lean; mixed: every 100th user's accounts with retention's shape.
const shape = process.env.BENCH_SCALE_HISTORY ?? 'mixed';
const history = shape === 'retention' ? RETENTION_HISTORY : LEAN_HISTORY;
const deep = shape === 'mixed' ? { every: 100, history: RETENTION_HISTORY } : undefined;
const name = `opencommas_scale_probe_${process.pid}`;
const built = await buildScaleDatabase(
  SERVER,
  name,
  { users, history, ...(deep ? { deep } : {}) },
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
