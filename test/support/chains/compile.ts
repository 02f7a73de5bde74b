import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';

// Compiles the test contracts with solc-js (the compiler as WebAssembly in the npm package: no
// download, no network). The result is kept in memory for the process and on disk under
// node_modules/.cache/opencommas, keyed by the source, the compiler version and the settings:
// loading solc alone takes about a second, and every vitest fork would pay it again.

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

export type ContractName = 'TestToken' | 'TestMulticall';

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

const SOURCES = ['TestToken.sol', 'TestMulticall.sol'];
const SETTINGS = {
  // Hardhat 2.29's network runs Osaka; cancun (solc 0.8.26's default) is pinned so a newer solc
  // does not change the code.
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};
const CACHE_DIR = fileURLToPath(
  new URL('../../../node_modules/.cache/opencommas/solc/', import.meta.url),
);
const require = createRequire(import.meta.url);

let compiled: Record<string, Artifact> | undefined;

/** The ABI and creation bytecode of one of the test contracts. */
export function artifact(name: ContractName): Artifact {
  compiled ??= load();
  const found = compiled[name];
  if (!found) throw new Error(`no test contract ${name}`);
  return found;
}

function load(): Record<string, Artifact> {
  const content = Object.fromEntries(
    SOURCES.map((file) => [file, readFileSync(new URL(`./${file}`, import.meta.url), 'utf8')]),
  );
  const { version } = require('solc/package.json') as { version: string };
  const key = createHash('sha256')
    .update(JSON.stringify({ content, version, SETTINGS }))
    .digest('hex')
    .slice(0, 32);
  const file = `${CACHE_DIR}${key}.json`;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Artifact>;
  } catch {
    // not cached yet (or unreadable): compile
  }
  const result = compile(content);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written whole then renamed, so a parallel reader never sees half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(result));
    renameSync(temporary, file);
  } catch {
    // a read-only tree only costs the next process a compile
  }
  return result;
}

/** Compiles the sources (file name → text) with solc-js's standard JSON interface. */
export function compile(content: Record<string, string>): Record<string, Artifact> {
  const solc = require('solc') as { compile(input: string): string };
  const sources = Object.fromEntries(
    Object.entries(content).map(([file, text]) => [file, { content: text }]),
  );
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const result: Record<string, Artifact> = {};
  for (const contracts of Object.values(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(contracts)) {
      result[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
    }
  }
  return result;
}
