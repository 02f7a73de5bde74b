// The local EVM node for wallet tests (`hardhat node`, started by evm-node.ts): Hardhat 2's
// network on chain id 1, like mainnet, so the tokens' mainnet addresses and Multicall3's canonical
// one mean what they mean there. No `solidity` section and no `contracts` folder next to this
// file: `hardhat node` compiles nothing, downloads no compiler and writes nothing here
// (evm-node.ts compiles our contract with solc-js).
module.exports = {
  networks: {
    hardhat: {
      chainId: 1,
      mining: { auto: true },
      // `hardhat node` prints every JSON-RPC call otherwise.
      loggingEnabled: false,
    },
  },
};
