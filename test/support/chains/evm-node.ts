import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  createPublicClient,
  createWalletClient,
  http,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { artifact } from './compile.ts';

// A real local EVM node: Hardhat's network (its EDR engine, a prebuilt binary shipped in the npm
// package) answering JSON-RPC on loopback, started as a child process. Test helpers put our
// ERC-20 at the tokens' mainnet addresses and a Multicall3-compatible contract at Multicall3's
// canonical address, so the product reads the node exactly as it reads mainnet.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./hardhat.config.cjs', import.meta.url));
const HARDHAT = fileURLToPath(
  new URL('../../../node_modules/hardhat/internal/cli/cli.js', import.meta.url),
);
export const MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

export interface EvmNode {
  url: string;
  close(): Promise<void>;
  setEthBalance(address: string, wei: bigint): Promise<void>;
  installToken(token: { address: string; decimals: number }): Promise<void>;
  setTokenBalance(token: string, holder: string, amount: bigint): Promise<void>;
  installMulticall3(): Promise<void>;
}

export async function startEvmNode(): Promise<EvmNode> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [HARDHAT, 'node', '--config', CONFIG, '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: ROOT,
      // No telemetry prompt, no analytics: this machine has no internet.
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stop = () => child.kill('SIGKILL');
  process.once('exit', stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForRpc(url, child);
  } catch (error) {
    stop();
    throw error;
  }
  const rpc = createPublicClient({ transport: http(url) });
  const wallet = createWalletClient({ transport: http(url) });
  const [deployer] = await wallet.getAddresses();
  if (!deployer) throw new Error('hardhat node has no unlocked accounts');
  const request = (method: string, params: unknown[]) =>
    rpc.request({ method: method as never, params: params as never });

  return {
    url,
    close: async () => {
      process.removeListener('exit', stop);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        stop();
      });
    },
    setEthBalance: async (address, wei) => {
      await request('hardhat_setBalance', [address, `0x${wei.toString(16)}`]);
    },
    installToken: async ({ address, decimals }) => {
      const code = await deployedCode(rpc, wallet, deployer, 'TestToken', [decimals]);
      await request('hardhat_setCode', [address, code]);
    },
    setTokenBalance: async (token, holder, amount) => {
      const { abi } = artifact('TestToken');
      const current = (await rpc.readContract({
        address: token as Address,
        abi,
        functionName: 'balanceOf',
        args: [holder],
      })) as bigint;
      const [functionName, delta] =
        amount >= current ? ['mint', amount - current] : ['burn', current - amount];
      if (delta === 0n) return;
      const hash = await wallet.writeContract({
        account: deployer,
        chain: null,
        address: token as Address,
        abi,
        functionName,
        args: [holder, delta],
      });
      await rpc.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    },
    installMulticall3: async () => {
      const code = await deployedCode(rpc, wallet, deployer, 'TestMulticall', []);
      await request('hardhat_setCode', [MULTICALL3, code]);
    },
  };
}

/** Deploys a test contract normally and returns its runtime code. */
async function deployedCode(
  rpc: PublicClient,
  wallet: WalletClient,
  deployer: Address,
  name: 'TestToken' | 'TestMulticall',
  args: unknown[],
): Promise<Hex> {
  const { abi, bytecode } = artifact(name);
  const hash = await wallet.deployContract({ account: deployer, chain: null, abi, bytecode, args });
  const receipt = await rpc.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (!receipt.contractAddress) throw new Error(`${name} was not deployed`);
  const code = await rpc.getCode({ address: receipt.contractAddress });
  if (!code) throw new Error(`${name} has no code`);
  return code;
}

async function waitForRpc(url: string, child: ChildProcess): Promise<void> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited: ${output}`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`hardhat node did not answer in time: ${output}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
