import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Abi, Hex } from 'viem';

// Compiles the test contracts with solc-js (the compiler as WebAssembly, from npm: no download,
// no network), once per process.

export interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

const SOURCES = ['TestToken.sol', 'TestMulticall.sol'];
let compiled: Record<string, Artifact> | undefined;

export function artifact(name: 'TestToken' | 'TestMulticall'): Artifact {
  compiled ??= compileAll();
  const found = compiled[name];
  if (!found) throw new Error(`no contract ${name}`);
  return found;
}

function compileAll(): Record<string, Artifact> {
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(
      SOURCES.map((file) => [
        file,
        { content: readFileSync(new URL(`./${file}`, import.meta.url), 'utf8') },
      ]),
    ),
    settings: {
      // Hardhat's default hardfork may predate PUSH0 users; paris runs everywhere.
      evmVersion: 'paris',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const result: Record<string, Artifact> = {};
  for (const contracts of Object.values(output.contracts)) {
    for (const [name, contract] of Object.entries(contracts)) {
      result[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
    }
  }
  return result;
}
