/**
 * Mirrored JWKS documents in the single table, for an authorizer that has no route to the internet.
 *
 * The deployed authorizer runs in private isolated subnets with no NAT, and neither Cognito's JWKS nor any other
 * issuer's is reachable through a VPC endpoint (Cognito's PrivateLink covers the user-pool API only). So a small
 * function outside the VPC (lambdas/jwks-mirror) fetches each configured JWKS every few minutes, validates it, and
 * writes it here; the authorizer's aws-jwt-verify cache reads it through {@link StoreJwksFetcher}.
 *
 * Item: `pk = JWKS#<jwksUri>`, `sk = JWKS`; attributes `uri`, `jwks` (the JSON text), `fetchedAt` (ISO 8601),
 * `entity = jwks`. The writer only moves `fetchedAt` forward, so a slow, older run never replaces a newer copy.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Fetcher } from 'aws-jwt-verify/https';
import { JwksFetchError } from './jwks-fetcher.js';

export const JWKS_PK_PREFIX = 'JWKS#';
export const JWKS_SK = 'JWKS';
export const jwksPk = (uri: string): string => `${JWKS_PK_PREFIX}${uri}`;

/** Environment variable and value that make the authorizer read JWKS from the table instead of fetching them. */
export const JWKS_SOURCE_ENV = 'GATEHOUSE_JWKS_SOURCE';
export const JWKS_SOURCE_STORE = 'store';

export interface StoredJwks {
  readonly uri: string;
  /** The JWKS as JSON text, exactly as the mirror validated it. */
  readonly jwks: string;
  readonly fetchedAt: string;
}

/**
 * Stores a JWKS for `uri`. Answers false (and changes nothing) when the table already holds a copy fetched at or
 * after `fetchedAt`. The caller validates the document first; this only stores text.
 */
export async function writeJwks(doc: DynamoDBDocumentClient, tableName: string, uri: string, jwksJson: string, fetchedAt: string): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: jwksPk(uri), sk: JWKS_SK, entity: 'jwks', uri, jwks: jwksJson, fetchedAt },
        ConditionExpression: 'attribute_not_exists(pk) OR fetchedAt < :fetchedAt',
        ExpressionAttributeValues: { ':fetchedAt': fetchedAt },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** The stored copy for `uri`, read strongly consistently; undefined when there is none. */
export async function readJwks(doc: DynamoDBDocumentClient, tableName: string, uri: string): Promise<StoredJwks | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: jwksPk(uri), sk: JWKS_SK }, ConsistentRead: true }));
  const item = out.Item;
  if (!item || typeof item.jwks !== 'string') return undefined;
  return { uri, jwks: item.jwks, fetchedAt: String(item.fetchedAt) };
}

/**
 * aws-jwt-verify `Fetcher` that answers a JWKS URI from the table: one strongly consistent GetItem per call. The
 * verifier calls it on a cold cache and again when a token names a kid it does not know (at most once per
 * JWKS_MIN_REFETCH_MS after a read that lacked the kid: jwks-fetcher.ts JwksRefetchGate), so a rotated signing key
 * reaches the authorizer within one mirror period plus that bound. A kid missing from a copy that was read is a
 * refused token (401), exactly as with a fetched JWKS.
 *
 * Any failure — no stored copy, or DynamoDB unreachable — throws JwksFetchError, which the token verifier treats as
 * a dependency failure: the authorizer denies (fails closed) rather than calling the token merely invalid.
 */
export class StoreJwksFetcher implements Fetcher {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    let stored: StoredJwks | undefined;
    try {
      stored = await readJwks(this.doc, this.tableName, uri);
    } catch (error) {
      throw new JwksFetchError(`JWKS store unreachable for ${uri}`, { cause: error });
    }
    if (!stored) throw new JwksFetchError(`No mirrored JWKS for ${uri}: the JWKS mirror has not stored it (yet)`);
    const bytes = new TextEncoder().encode(stored.jwks);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
}
