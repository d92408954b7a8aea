/**
 * The JWKS mirror end to end, with real parts: an HTTP server on loopback serving a JWKS, dynalite as the table,
 * the mirror's Lambda handler, StoreJwksFetcher, and aws-jwt-verify verifying tokens signed with the served key —
 * with the verifier never touching the network (as in a VPC with no route out).
 */
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../lambdas/authorizer/wiring.js';
import { DependencyError } from '../lambdas/core/errors.js';
import { JwksFetchError } from '../lambdas/core/jwks-fetcher.js';
import { readJwks, StoreJwksFetcher, writeJwks } from '../lambdas/core/jwks-store.js';
import { TokenVerifier, type OidcIssuerConfig } from '../lambdas/core/token-verifier.js';
import { createMirrorHandler, PHYSICAL_ID } from '../lambdas/jwks-mirror/handler.js';
import { jwksUris, validateJwksDocument } from '../lambdas/jwks-mirror/mirror.js';
import { captureLog, type CapturedLog } from './support/capture-log.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { cognitoAccessClaims, makeSigningKey, signRs256, type TestSigningKey } from './support/tokens.js';

const CLIENT_ID = 'mirror-test-client';

let dynamo: TestDynamo;
let server: Server;
let issuer: string;
let jwksUri: string;
/** What the JWKS endpoint answers next. */
let served: { status: number; body: string };
let hits = 0;
let log: CapturedLog;
let clock = Date.parse('2030-01-01T00:00:00Z');
const now = () => clock;

let key1: TestSigningKey;

const jwksOf = (...keys: TestSigningKey[]) => JSON.stringify({ keys: keys.map((k) => k.jwk) });
const issuerConfig = (): OidcIssuerConfig => ({
  issuer,
  jwksUri,
  audience: null,
  clientIds: [CLIENT_ID],
  tokenUse: 'access',
  scopeClaim: 'scope',
  groupsClaim: 'cognito:groups',
  tenantClaim: 'custom:tenant',
  scopePrefix: 'gatehouse/',
});
const tokenFor = (key: TestSigningKey) =>
  signRs256({ alg: 'RS256', kid: key.kid, typ: 'JWT' }, cognitoAccessClaims({ issuer, clientId: CLIENT_ID, scope: 'gatehouse/items:read', extra: { username: undefined } }), key.privateKey);

function mirror() {
  return createMirrorHandler({
    env: {
      GATEHOUSE_TABLE_NAME: dynamo.tableName,
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer, jwksUri, clientIds: [CLIENT_ID] }]),
    },
    doc: dynamo.doc,
    now,
    log,
  });
}

const scheduledEvent = { version: '0', id: 'e1', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2030-01-01T00:00:00Z', resources: [], detail: {} };
const customResourceEvent = (RequestType: 'Create' | 'Update' | 'Delete') => ({
  RequestType,
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  ResponseURL: 'https://example.invalid/response',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/GatehouseIdentity/1',
  RequestId: 'r1',
  LogicalResourceId: 'InitialJwks',
  ResourceType: 'Custom::GatehouseJwksMirror',
  ResourceProperties: { ServiceToken: 'x' },
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: {} }),
});

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-jwks-mirror');
  server = createServer((req, res) => {
    hits++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(served.status, { 'content-type': 'application/json' }).end(served.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  jwksUri = `${issuer}/.well-known/jwks.json`;
  key1 = makeSigningKey('key-1');
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await dynamo.stop();
});

beforeEach(() => {
  clock += 60_000;
  log = captureLog();
});

describe('JWKS mirror → table → StoreJwksFetcher → aws-jwt-verify', () => {
  it('mirrors the JWKS, and a token signed with its key verifies from the table alone', async () => {
    served = { status: 200, body: jwksOf(key1) };
    await expect(mirror()(scheduledEvent)).resolves.toEqual({ mirrored: 1 });
    const stored = await readJwks(dynamo.doc, dynamo.tableName, jwksUri);
    expect(stored).toEqual({ uri: jwksUri, jwks: jwksOf(key1), fetchedAt: new Date(clock).toISOString() });

    const before = hits;
    const store = new StoreJwksFetcher(dynamo.doc, dynamo.tableName);
    // aws-jwt-verify directly…
    const verifier = JwtVerifier.create({ issuer, jwksUri, audience: null }, { jwksCache: new SimpleJwksCache({ fetcher: store }) });
    await expect(verifier.verify(tokenFor(key1))).resolves.toMatchObject({ iss: issuer, client_id: CLIENT_ID });
    // …and the authorizer's TokenVerifier with the store as its fetcher.
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [issuerConfig()], fetcher: store });
    const result = await tokens.verify(tokenFor(key1));
    expect(result).toMatchObject({ ok: true, principal: { authMethod: 'jwt', scopes: ['items:read'] } });
    expect(hits).toBe(before); // verification never went to the JWKS endpoint
  });

  it('refuses a response that is not a JWKS and keeps the previous copy', async () => {
    const previous = await readJwks(dynamo.doc, dynamo.tableName, jwksUri);
    for (const body of ['<html>login</html>', '{"keys":"none"}', '{"keys":[]}', '{"hello":"world"}']) {
      served = { status: 200, body };
      clock += 60_000;
      await expect(mirror()(scheduledEvent)).rejects.toThrow(/JWKS mirror failed for .*jwks\.json/);
      expect(await readJwks(dynamo.doc, dynamo.tableName, jwksUri)).toEqual(previous);
    }
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(4);
    expect(log.text()).toContain('the previous copy is kept');
    served = { status: 500, body: 'oops' };
    await expect(mirror()(scheduledEvent)).rejects.toThrow(/answered 500/);
    expect(await readJwks(dynamo.doc, dynamo.tableName, jwksUri)).toEqual(previous);
  });

  it('refuses a JWKS carrying private or symmetric key material', async () => {
    const previous = await readJwks(dynamo.doc, dynamo.tableName, jwksUri);
    const privateJwk = { ...(key1.privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'leaked', alg: 'RS256' };
    for (const body of [JSON.stringify({ keys: [privateJwk] }), JSON.stringify({ keys: [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }] })]) {
      served = { status: 200, body };
      await expect(mirror()(scheduledEvent)).rejects.toThrow(/not a public key/);
      expect(await readJwks(dynamo.doc, dynamo.tableName, jwksUri)).toEqual(previous);
    }
    expect(() => validateJwksDocument(new TextEncoder().encode(JSON.stringify({ keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] })).buffer)).toThrow(/no kid/);
  });

  it('brings a rotated key to a warm verifier within one mirror run', async () => {
    const store = new StoreJwksFetcher(dynamo.doc, dynamo.tableName);
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes, issuers: [issuerConfig()], fetcher: store });
    expect(await tokens.verify(tokenFor(key1))).toMatchObject({ ok: true });
    const key2 = makeSigningKey('key-2');
    served = { status: 200, body: jwksOf(key1, key2) };
    await mirror()(scheduledEvent);
    // Unknown kid → aws-jwt-verify asks the fetcher again → the table has the new key.
    expect(await tokens.verify(tokenFor(key2))).toMatchObject({ ok: true });
  });

  it('never lets an older fetch replace a newer copy', async () => {
    const current = (await readJwks(dynamo.doc, dynamo.tableName, jwksUri))!;
    const older = new Date(Date.parse(current.fetchedAt) - 1000).toISOString();
    expect(await writeJwks(dynamo.doc, dynamo.tableName, jwksUri, '{"keys":[]}', older)).toBe(false);
    expect(await readJwks(dynamo.doc, dynamo.tableName, jwksUri)).toEqual(current);
  });
});

describe('StoreJwksFetcher fails closed', () => {
  it('throws a clear JwksFetchError when no JWKS is stored for the URI', async () => {
    const store = new StoreJwksFetcher(dynamo.doc, dynamo.tableName);
    await expect(store.fetch('https://id.example.com/.well-known/jwks.json')).rejects.toThrow(JwksFetchError);
    await expect(store.fetch('https://id.example.com/.well-known/jwks.json')).rejects.toThrow(/No mirrored JWKS for https:\/\/id\.example\.com/);
  });

  it('makes the token verifier deny with a dependency failure, not an ordinary refusal', async () => {
    const poolId = 'eu-west-1_AbCdEf123';
    const cognitoIssuer = `https://cognito-idp.eu-west-1.amazonaws.com/${poolId}`;
    const tokens = new TokenVerifier({ scopes: GATEHOUSE_API.scopes,
      cognito: { userPoolId: poolId, clientIds: [CLIENT_ID], tokenUse: 'access' },
      issuers: [],
      fetcher: new StoreJwksFetcher(dynamo.doc, dynamo.tableName),
    });
    const token = signRs256({ alg: 'RS256', kid: key1.kid }, cognitoAccessClaims({ issuer: cognitoIssuer, clientId: CLIENT_ID }), key1.privateKey);
    await expect(tokens.verify(token)).rejects.toThrow(DependencyError);
  });

  it('throws JwksFetchError when the table cannot be reached', async () => {
    const unreachable = createDocumentClient(
      new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }),
    );
    await expect(new StoreJwksFetcher(unreachable, 'gatehouse-x').fetch(jwksUri)).rejects.toThrow(/JWKS store unreachable/);
  });
});

describe('the mirror as a deploy-time custom resource', () => {
  it('mirrors on Create and Update, does nothing on Delete, and fails the deployment when an issuer fails', async () => {
    served = { status: 200, body: jwksOf(key1) };
    await expect(mirror()(customResourceEvent('Create'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { Mirrored: '1' } });
    await expect(mirror()(customResourceEvent('Update'))).resolves.toMatchObject({ PhysicalResourceId: PHYSICAL_ID });
    const before = hits;
    await expect(mirror()(customResourceEvent('Delete'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID });
    expect(hits).toBe(before);
    served = { status: 200, body: 'not json' };
    await expect(mirror()(customResourceEvent('Update'))).rejects.toThrow(/JWKS mirror failed/);
  });

  it("derives the Cognito pool's JWKS URI exactly as the verifier asks for it, and each URI once", () => {
    const issuers = [issuerConfig(), issuerConfig()].map((i) => ({ ...i, audience: null, clientIds: [...(i.clientIds ?? [])] }));
    expect(jwksUris({ cognito: { userPoolId: 'eu-west-1_AbCdEf123', clientIds: ['c'], tokenUse: 'access' }, oidcIssuers: issuers })).toEqual([
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json',
      jwksUri,
    ]);
  });
});
