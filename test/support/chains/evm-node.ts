import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, encodeFunctionData, getAddress, numberToHex, type Hex } from 'viem';
import { artifact } from './compile.ts';

// A real local EVM node: Hardhat 2's network (the EDR engine, a prebuilt binary shipped in the
// npm package) run as `hardhat node` in a child process, answering JSON-RPC on 127.0.0.1. Test
// helpers put our ERC-20 at the tokens' mainnet addresses and Multicall3 (viem's copy of its
// creation code) at its canonical address, so the product reads this node as it reads mainnet.

/** Multicall3's canonical address (the same on mainnet and nearly every EVM chain). */
export const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11';
/** The node's chain id (hardhat.config.cjs): mainnet's. */
export const CHAIN_ID = 1;

export interface TokenSpec {
  address: string;
  /** Default 'TEST'. */
  symbol?: string;
  /** Default: the symbol. */
  name?: string;
  decimals: number;
}

export interface EvmNode {
  /** JSON-RPC over HTTP, e.g. http://127.0.0.1:40123 */
  url: string;
  chainId: number;
  /** One raw JSON-RPC call; the node's error becomes a thrown Error. */
  request<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  setEthBalance(address: string, wei: bigint): Promise<void>;
  /** Our ERC-20 (TestToken.sol) with this name, symbol and decimals, at exactly `address`. */
  installToken(token: TokenSpec): Promise<void>;
  /** Sets the holder's balance of an installed token (one transaction, one block). */
  setTokenBalance(token: string, holder: string, amount: bigint): Promise<void>;
  /** Multicall3 at MULTICALL3. A fresh node has none, as a chain before its deployment. */
  installMulticall3(): Promise<void>;
  mine(blocks?: number): Promise<void>;
  /** Kills the node; safe to call twice. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./hardhat.config.cjs', import.meta.url));
const HARDHAT_CLI = join(dirname(require.resolve('hardhat/package.json')), 'internal/cli/cli.js');
// The child runs Hardhat's CLI and exits when its stdin closes, i.e. when this process is gone,
// even killed with SIGKILL, when no 'exit' handler runs.
const ENTRY = `process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();
require(${JSON.stringify(HARDHAT_CLI)});`;
const READY = /JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)/;
const START_TIMEOUT_MS = 60_000;

const children = new Set<ChildProcess>();
let exitHook = false;

export async function startEvmNode(): Promise<EvmNode> {
  const env: NodeJS.ProcessEnv = {};
  // HARDHAT_NETWORK, HARDHAT_CONFIG and the like would override the command line.
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HARDHAT_')) env[key] = value;
  }
  const child = spawn(
    process.execPath,
    ['-e', ENTRY, 'hardhat', 'node', '--config', CONFIG, '--hostname', '127.0.0.1', '--port', '0'],
    {
      cwd: ROOT,
      env: {
        ...env,
        // No telemetry prompt and no analytics or error reports: Hardhat sends those only with
        // consent given at a prompt, never on CI (CI=true), and never without a TTY.
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        CI: 'true',
        NO_COLOR: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  track(child);
  const output = tail();
  child.stdout?.setEncoding('utf8').on('data', output.add);
  child.stderr?.setEncoding('utf8').on('data', output.add);

  let url: string;
  let token: ReturnType<typeof artifact>;
  try {
    // Compiling (when not cached on disk) overlaps with the node's start.
    token = artifact('TestToken');
    url = await ready(child, output);
  } catch (error) {
    await kill(child);
    throw error;
  }
  // From here on a forgotten close() does not keep the test process alive; the exit hook and
  // the stdin pipe still end the node.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  let id = 0;
  const request = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
      });
    } catch (error) {
      const state = child.exitCode === null ? '' : ` (the node exited: ${output.text()})`;
      throw new Error(`${method}: ${String(error)}${state}`, { cause: error });
    }
    const answer = (await response.json()) as { result?: T; error?: { message: string } };
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result as T;
  };

  const chainId = Number(await request<Hex>('eth_chainId'));
  const [deployer] = await request<Hex[]>('eth_accounts');
  if (!deployer) throw new Error('hardhat node has no unlocked account');

  /** Sends a transaction from the first unlocked account; it is mined at once (automine). */
  const send = async (tx: { to?: string; data: Hex }) => {
    const hash = await request<Hex>('eth_sendTransaction', [{ from: deployer, ...tx }]);
    const receipt = await request<{ status: Hex; contractAddress: Hex | null } | null>(
      'eth_getTransactionReceipt',
      [hash],
    );
    if (!receipt) throw new Error(`transaction ${hash} was not mined: is automine off?`);
    if (receipt.status !== '0x1') throw new Error(`transaction ${hash} reverted`);
    return receipt;
  };
  /** Deploys creation code normally and returns the runtime code it left. */
  const runtimeCode = async (creation: Hex): Promise<Hex> => {
    const { contractAddress } = await send({ data: creation });
    if (!contractAddress) throw new Error('deployment left no contract');
    return request<Hex>('eth_getCode', [contractAddress, 'latest']);
  };
  const setCode = (address: string, code: Hex) =>
    request('hardhat_setCode', [getAddress(address), code]);
  const tokenCode = new Map<string, Promise<Hex>>();
  const { abi, bytecode } = token;

  return {
    url,
    chainId,
    request,
    setEthBalance: async (address, wei) => {
      await request('hardhat_setBalance', [getAddress(address), numberToHex(wei)]);
    },
    installToken: async ({ address, symbol = 'TEST', name = symbol, decimals }) => {
      if (!Number.isInteger(decimals) || decimals < 0 || decimals > 255) {
        throw new Error(`decimals must be an integer from 0 to 255, not ${decimals}`);
      }
      const key = JSON.stringify([name, symbol, decimals]);
      let code = tokenCode.get(key);
      if (!code) {
        code = runtimeCode(encodeDeployData({ abi, bytecode, args: [name, symbol, decimals] }));
        tokenCode.set(key, code);
      }
      await setCode(address, await code);
    },
    setTokenBalance: async (token, holder, amount) => {
      if ((await request<Hex>('eth_getCode', [getAddress(token), 'latest'])) === '0x') {
        throw new Error(`no token at ${token}: installToken first`);
      }
      await send({
        to: getAddress(token),
        data: encodeFunctionData({
          abi,
          functionName: 'setBalance',
          args: [getAddress(holder), amount],
        }),
      });
    },
    installMulticall3: async () => {
      await setCode(MULTICALL3, await runtimeCode(artifact('TestMulticall').bytecode));
    },
    mine: async (blocks = 1) => {
      await request('hardhat_mine', [numberToHex(blocks)]);
    },
    close: () => kill(child),
  };
}

/** Resolves the node's URL once it prints it and answers eth_chainId. */
async function ready(child: ChildProcess, output: ReturnType<typeof tail>): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`hardhat node exited before answering: ${output.text()}`);
    }
    const url = READY.exec(output.text())?.[1];
    if (url) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'eth_chainId', params: [] }),
        });
        if (response.ok) return url;
      } catch {
        // listening announced but not answering yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`hardhat node did not answer in ${START_TIMEOUT_MS} ms: ${output.text()}`);
}

/** The last 16 KB of what the node printed, for error messages. */
function tail() {
  let text = '';
  return {
    add: (chunk: string) => {
      text = (text + chunk).slice(-16_384);
    },
    text: () => text,
  };
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const running of children) running.kill('SIGKILL');
    });
  }
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    // Unreferenced after start: without this, awaiting the exit would not keep us alive.
    child.ref();
    child.kill('SIGKILL');
  });
}
