/**
 * The single DynamoDB table's key schema: the one definition that CDK, the local stack and tests create the
 * table from. Item layouts live with the stores that write them (key-store.ts, …); README "Data model" has
 * the overview.
 */
export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** GSI1: per-tenant listings (keys newest first, …). */
export const GSI1 = { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;

/** Attribute holding an epoch-seconds expiry for items DynamoDB should delete (audit events, usage). */
export const TTL_ATTRIBUTE = 'ttl';

/** CreateTable input for the SDK (the local stack and tests); CDK builds the same shape in infra/. */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [TABLE_KEY.partitionKey, TABLE_KEY.sortKey, GSI1.partitionKey, GSI1.sortKey].map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1.name,
        KeySchema: [
          { AttributeName: GSI1.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: GSI1.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}
