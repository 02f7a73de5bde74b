export {
  ThreeCommasClient,
  THREE_COMMAS_BASE_URL,
  data,
  type Account,
  type ClientOptions,
} from './client.ts';
export {
  BannedError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  ThreeCommasError,
  UnauthorizedError,
  errorFromAnswer,
  type ErrorAttributes,
} from './errors.ts';
export type { components, paths } from './schema.ts';
export { signature, signedPayload, requestTarget, type Credentials } from './signing.ts';
export { DEFAULT_MITIGATION_MS, type RateLimitManners } from './transport.ts';
