import {
  createPublicClient,
  erc20Abi,
  formatUnits,
  http,
  parseAbi,
  type Address,
  type ContractFunctionParameters,
} from 'viem';
import { SourceError } from '../exchanges/failures.ts';
import type { Holdings } from '../sources/types.ts';
import type { Token } from './token-list.ts';

/** Multicall3's address: the same on Ethereum and nearly every EVM chain. */
export const MULTICALL3 = '0xcA11bde05977b3631167028862bE2a173976CA11';

const getEthBalanceAbi = parseAbi(['function getEthBalance(address) view returns (uint256)']);

/**
 * Reads an Ethereum address's ETH and token balances in one `eth_call`: Multicall3's
 * `getEthBalance` plus each listed token's `balanceOf`, batched by viem.
 */
export class EthereumReader {
  private readonly client;

  constructor(
    rpcUrl: string,
    private readonly tokens: readonly Token[],
    timeoutMs: number,
  ) {
    this.client = createPublicClient({
      transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }),
    });
  }

  async fetchHoldings(address: string): Promise<Holdings> {
    const owner = address as Address;
    const contracts: ContractFunctionParameters[] = [
      { address: MULTICALL3, abi: getEthBalanceAbi, functionName: 'getEthBalance', args: [owner] },
      ...this.tokens.map((token) => ({
        address: token.address as Address,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [owner],
      })),
    ];
    let results: Array<{ status: 'success' | 'failure'; result?: unknown }>;
    try {
      results = await this.client.multicall({
        multicallAddress: MULTICALL3,
        allowFailure: true,
        // viem splits long call lists into ~1 KB chunks; a wallet is one eth_call, however
        // long the token list grows.
        batchSize: 0,
        contracts,
      });
    } catch (error) {
      throw new SourceError('unavailable', `ethereum node: ${firstLine(error)}`);
    }
    const [eth, ...balances] = results;
    if (eth?.status !== 'success' || typeof eth.result !== 'bigint') {
      throw new SourceError('unavailable', 'ethereum node: getEthBalance failed');
    }
    const holdings: Holdings = new Map();
    if (eth.result > 0n) holdings.set('ETH', formatUnits(eth.result, 18));
    this.tokens.forEach((token, i) => {
      const balance = balances[i];
      // A token that is not deployed on this chain, or reverts, is skipped, not fatal.
      if (
        balance?.status === 'success' &&
        typeof balance.result === 'bigint' &&
        balance.result > 0n
      ) {
        holdings.set(token.symbol, formatUnits(balance.result, token.decimals));
      }
    });
    return holdings;
  }
}

function firstLine(error: unknown): string {
  const text =
    error instanceof Error
      ? ((error as { shortMessage?: string }).shortMessage ?? error.message)
      : String(error);
  return text.split('\n')[0] ?? text;
}
