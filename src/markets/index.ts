export {
  findMarket,
  listMarkets,
  type AssetAlias,
  type ImplicitWalletRead,
  type Market,
  type MarketCapabilities,
  type MarketConnector,
  type MarketCredentials,
  type MarketKind,
  type TransferHistoryRead,
  type TransferPages,
  type TransferRows,
  type WalletRead,
} from './catalog.ts';
export { isValidAddress } from './addresses.ts';
