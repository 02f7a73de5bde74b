export {
  findMarket,
  listMarkets,
  type Market,
  type MarketCapabilities,
  type MarketConnector,
  type MarketCredentials,
  type MarketKind,
} from './catalog.ts';
export { isValidAddress } from './addresses.ts';
