export {
  findMarket,
  listMarkets,
  type Market,
  type MarketCapabilities,
  type MarketConnector,
  type MarketCredentials,
  type MarketKind,
  type WalletRead,
} from './catalog.ts';
export { isValidAddress } from './addresses.ts';
