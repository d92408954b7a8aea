/**
 * The peer: a REQUEST authorizer written the common way, with jsonwebtoken + jwks-rsa (the pattern of most
 * tutorials and samples), deciding the same Cognito access token and building the same policy statements for
 * the same scopes. jwks-rsa needs a JWKS URL: a loopback http server in this process serves the same JWKS, and
 * jwks-rsa's cache is on, so after the first decision the peer is warm (the server counts its requests to show it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import jwt, { type GetPublicKeyOrSecret, type JwtPayload } from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { GATEHOUSE_API, ROUTES } from '../lambdas/routes.js';

export interface JwksServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startJwksServer(jwks: unknown): Promise<JwksServer> {
  const body = JSON.stringify(jwks);
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function createPeerAuthorizer(options: { jwksUri: string; issuer: string; clientId: string }) {
  const client = jwksClient({ jwksUri: options.jwksUri, cache: true, cacheMaxEntries: 5, cacheMaxAge: 600_000, rateLimit: true });
  const getKey: GetPublicKeyOrSecret = (header, callback) => {
    client.getSigningKey(header.kid, (error, key) => callback(error, key?.getPublicKey()));
  };
  const verify = (token: string) =>
    new Promise<JwtPayload>((resolve, reject) => {
      jwt.verify(token, getKey, { algorithms: ['RS256'], issuer: options.issuer }, (error, decoded) => {
        if (error || !decoded || typeof decoded === 'string') reject(new Error('Unauthorized'));
        else resolve(decoded);
      });
    });

  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const header = event.headers?.Authorization ?? event.headers?.authorization ?? '';
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new Error('Unauthorized');
    const claims = await verify(token);
    if (claims.token_use !== 'access' || claims.client_id !== options.clientId) throw new Error('Unauthorized');
    const groups: string[] = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as string[]) : [];
    const scopes = GATEHOUSE_API.scopes.forGroups(groups);
    // arn:aws:execute-api:region:account:api/stage/VERB/path → one Allow per route the scopes reach.
    const [arnBase = '', stage = ''] = event.methodArn.split('/');
    const prefix = `${arnBase}/${stage}/`;
    const resources = ROUTES.filter((r) => r.auth === 'token' && (r.scope === undefined || scopes.includes(r.scope))).map(
      (r) => prefix + r.method + r.path.replace(/\{[^}]+\}/g, '*'),
    );
    return {
      principalId: claims.sub ?? '',
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: resources }] },
      context: {
        principalId: claims.sub ?? '',
        authMethod: 'jwt',
        tenant: claims.sub ?? '',
        scopes: scopes.join(' '),
        admin: String(groups.includes('admins')),
      },
    };
  };
}
