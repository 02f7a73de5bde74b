export { Dec } from './decimal.ts';
export { formatAmount, formatPercent, formatRubyFloat, toDouble } from './formats.ts';
export {
  DAY_MS,
  PERIOD_MS,
  TRANSFER_BTC_PLACES,
  sumWindow,
  transferValues,
  valueAccount,
  type AssetMoves,
  type MovedSums,
  type WindowMoves,
  type CurrencyFigures,
  type DisplayFigures,
  type SnapshotPoint,
  type TransferPoint,
  type UnpricedTransfer,
  type Valuation,
  type ValuationInput,
  type WindowFigures,
} from './profit.ts';
