// The local EVM node for wallet tests: Hardhat's in-process network, served over JSON-RPC.
// Nothing is compiled here (no `solidity` section), so Hardhat never downloads a compiler.
module.exports = {
  networks: {
    hardhat: { chainId: 1, mining: { auto: true } },
  },
};
