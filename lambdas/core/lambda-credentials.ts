/**
 * The AWS credentials of a Gatehouse function in Lambda: a stand-in for `@aws-sdk/credential-provider-node` that
 * esbuild substitutes for it in Gatehouse's Lambda bundles (infra/bundle.ts, CREDENTIAL_CHAIN_ALIAS).
 *
 * Why: every SDK v3 client's Node runtime config imports the default credential chain statically, and the chain
 * brings the SSO, INI, process, web-identity, container and IMDS providers and the nested STS/SSO clients — about
 * 130 KB of every bundle and a share of every cold start — for links Lambda never reaches: Lambda puts the execution
 * role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), where the
 * chain's first link, `fromEnv`, finds them. This module is that link alone, with the chain's exports.
 *
 * What differs from the chain: `AWS_PROFILE` and the other links are ignored (Lambda sets neither a profile nor
 * files); without the environment credentials it fails with an error that says so, where the chain would go on to
 * the next link. Outside Lambda bundles (tests, the local stack, the CLI) nothing is substituted.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type ProviderInit = Parameters<typeof fromEnv>[0];
type AwsCredentialIdentityProvider = ReturnType<typeof fromEnv>;
type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

/** The message of a missing-credentials failure: which variables were expected, and why no other source is tried. */
export const NO_ENVIRONMENT_CREDENTIALS =
  'No AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which Lambda sets for the ' +
  "function's role): Gatehouse's Lambda bundles read credentials from the environment only (lambdas/core/lambda-credentials.ts)";

/** The chain's `defaultProvider`, reduced to the environment. */
export const defaultProvider =
  (init: ProviderInit = {}): AwsCredentialIdentityProvider =>
  async () => {
    try {
      return await fromEnv(init)();
    } catch (error) {
      throw Object.assign(new Error(NO_ENVIRONMENT_CREDENTIALS, { cause: error }), { name: 'CredentialsProviderError' });
    }
  };

/** As the chain's: credentials with an expiry will be refreshed. */
export const credentialsWillNeedRefresh = (credentials: AwsCredentialIdentity | undefined): boolean => credentials?.expiration !== undefined;

/** As the chain's: credentials within 5 minutes of their expiry count as expired. */
export const credentialsTreatedAsExpired = (credentials: AwsCredentialIdentity | undefined): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
