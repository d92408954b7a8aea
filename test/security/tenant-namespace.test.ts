/**
 * Where tenant names come from, and whether two principals that are not the same party can end up in one tenant.
 * A tenant is a string derived from claims (CONTRACT §2): `custom:tenant`, else a person's `sub`, else a machine's
 * client id; an API key inherits its creator's. Nothing namespaces these strings, so:
 *
 * - FINDING F6: a principal whose derived tenant is the reserved name `admin` (a `custom:tenant`/tenant-claim value,
 *   a `sub`, or a client id that happens to be "admin") shares the bootstrap admin key's tenant: it lists and can
 *   revoke that key, and every key it creates is treated as an administrator's (`admin=true`: cross-tenant audit).
 * - FINDING F7: with several OIDC issuers configured (CONTRACT §1 "several at once"), two different people who have
 *   the same `sub` at two issuers share one tenant (many IdPs use short numeric subs), and see each other's data.
 *
 * These tests stay failing until the fixes in SECURITY.md are applied.
 */
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeysHandler } from '../../lambdas/api/keys/operations.js';
import type { Services } from '../../lambdas/api/services.js';
import { ensureAdminKey } from '../../lambdas/core/bootstrap.js';
import { ApiKeyVerifier } from '../../lambdas/core/key-verifier.js';
import { DEFAULT_CLAIMS, TokenVerifier } from '../../lambdas/core/token-verifier.js';
import { apiEvent, lambdaContext } from '../support/api-events.js';
import { authorizerEvent } from '../support/events.js';
import { captureOutput, testServices } from '../support/services.js';
import { nowSeconds, rsaKey, signWith } from './support/jose.js';
import { startJwksServer, type JwksServer } from './support/jwks-server.js';
import { bearer, GENERIC_AUDIENCE, POOL_CLIENT, POOL_ID, POOL_JWKS_URI, startLab, type Lab } from './support/lab.js';

let lab: Lab;
let services: Services;
let secondIssuer: JwksServer;
const secondKey = rsaKey('second-issuer-kid');

beforeAll(async () => {
  lab = await startLab({ tableName: 'gatehouse-tenant-namespace' });
  services = testServices(lab.dynamo);
  secondIssuer = await startJwksServer([secondKey.jwk]);
});
afterAll(async () => {
  await Promise.all([lab?.close(), secondIssuer?.close()]);
});

/** The integration event API Gateway would build from an Allow's context. */
const asIntegration = (context: Record<string, unknown>, method: string, path: string, body?: unknown) =>
  apiEvent({ method, path, rawAuthorizer: context, ...(body === undefined ? {} : { body }) });

describe('FINDING F6: the reserved tenant "admin"', () => {
  it('F6: a users-group person whose tenant claim is "admin" gets neither the bootstrap key nor admin keys', async () => {
    const bootstrap = await ensureAdminKey({ scopes: GATEHOUSE_API.scopes, store: services.keys, peppers: services.peppers, environment: 'test' });
    const outcome = await lab.decide({ headers: bearer(lab.poolToken({ 'cognito:groups': ['users'], 'custom:tenant': 'admin' })) });
    // Either the token is refused (a reserved tenant name), or it is allowed without touching tenant "admin".
    if (outcome.verdict !== 'allow') return;
    const context = outcome.result.context as Record<string, string>;
    expect(context.admin).toBe('false');

    const out = captureOutput();
    try {
      const handler = createKeysHandler(services);
      const listed = await handler(asIntegration(context, 'GET', '/v1/keys'), lambdaContext());
      const created = await handler(asIntegration(context, 'POST', '/v1/keys', { name: 'mine', scopes: ['items:read'] }), lambdaContext());
      const verdicts = { listsBootstrapKey: listed.body.includes(bootstrap.record.id), createdKeyIsAdmin: false };
      if (created.statusCode === 201) {
        const { key } = JSON.parse(created.body) as { key: string };
        const verified = await new ApiKeyVerifier({ scopes: GATEHOUSE_API.scopes, store: services.keys, peppers: services.peppers, environment: 'test' }).verify(key);
        verdicts.createdKeyIsAdmin = verified.ok && verified.principal.admin;
      }
      expect(verdicts).toEqual({ listsBootstrapKey: false, createdKeyIsAdmin: false });
    } finally {
      out.restore();
    }
  });
});

describe('FINDING F7: the same sub at two issuers', () => {
  it('F7: two people with the same sub at two configured OIDC issuers are two tenants', async () => {
    const issuerB = `${secondIssuer.origin}/issuer-b`;
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes,
      cognito: { userPoolId: POOL_ID, clientIds: [POOL_CLIENT], tokenUse: 'access' },
      issuers: [...lab.issuers(), { issuer: issuerB, jwksUri: secondIssuer.jwksUri, audience: [GENERIC_AUDIENCE], clientIds: null, tokenUse: 'access', ...DEFAULT_CLAIMS }],
      fetcher: lab.fetcher,
    });
    tokens.jwksCache.addJwks(POOL_JWKS_URI, { keys: [lab.pool.key.jwk] });
    const { decide } = lab.authorizer({ tokens });
    const claims = (iss: string) => ({ sub: '1001', iss, aud: GENERIC_AUDIENCE, token_use: 'access', iat: nowSeconds(), exp: nowSeconds() + 600, username: 'someone', 'cognito:groups': ['users'] });
    const atA = await decide(authorizerEvent({ headers: bearer(signWith(lab.generic.rsa, claims(lab.generic.issuer))) }));
    const atB = await decide(authorizerEvent({ headers: bearer(signWith(secondKey, claims(issuerB))) }));
    expect(atA.verdict).toBe('allow');
    expect(atB.verdict).toBe('allow');
    if (atA.verdict !== 'allow' || atB.verdict !== 'allow') return;
    expect(atA.result.context?.tenant).not.toBe(atB.result.context?.tenant);
  });
});
