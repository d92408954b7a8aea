/**
 * The Gatehouse client library: `new GatehouseClient({ baseUrl, auth, iam })` with one of the authenticators below.
 *
 * ```ts
 * import { GatehouseClient, apiKeyAuth, sigv4Auth } from './client/index.js';
 * const client = new GatehouseClient({ baseUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
 *   auth: apiKeyAuth(process.env.GATEHOUSE_API_KEY!), iam: sigv4Auth({ region: 'eu-west-1' }) });
 * const me = await client.whoami();
 * const { valid } = await client.verify(someKey);
 * ```
 */
export { GatehouseClient, type GatehouseClientOptions, type RawRequest, type RawResponse, type RetryEvent } from './client.js';
export { apiKeyAuth, bearerAuth, noAuth, type Authenticator, type AuthContext, type OutgoingRequest, type TokenProvider } from './auth.js';
export { sigv4Auth, type AwsCredentials, type AwsCredentialsProvider, type SigV4Options } from './sigv4.js';
export { tlsFetch, type ClientTls } from './tls-fetch.js';
export {
  GatehouseApiError,
  GatehouseClientError,
  GatehouseCredentialsError,
  GatehouseNetworkError,
  redactSecrets,
  type ErrorCode,
  type FieldProblem,
  type ProblemBody,
} from './errors.js';
export { DEFAULT_RETRY, parseRetryAfter, type RetryOptions } from './retry.js';
export {
  buildAuthorizeUrl,
  createPkce,
  discoverEndpoints,
  exchangeCode,
  OidcError,
  RefreshingTokenProvider,
  refreshTokens,
  startLoopbackReceiver,
  type OidcClientConfig,
  type TokenSet,
} from './oidc.js';
export { parsePastedRedirect, type PastedCode } from './pasted-redirect.js';
export * from './operations.js';
export { findRoute, ROUTES } from './routes.js';
