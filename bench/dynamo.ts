/**
 * dynalite on loopback with the Gatehouse table, counting every DynamoDB operation that reaches it (by its
 * `X-Amz-Target`, e.g. `DynamoDB_20120810.GetItem`). Counting at the server proves what crossed the wire,
 * whichever client sent it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../test/support/dynalite.js';

export interface CountingDynamo {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Operation name (GetItem, UpdateItem…) → requests received since the last reset. */
  readonly ops: Map<string, number>;
  resetCounts(): void;
  total(): number;
  stop(): Promise<void>;
}

export async function startCountingDynamo(tableName = 'gatehouse-bench'): Promise<CountingDynamo> {
  const dynamo = await startDynalite(tableName);
  // Attached after the table exists, so only the benchmark's own operations are counted.
  const ops = new Map<string, number>();
  dynamo.server.on('request', (req: { headers: Record<string, string | string[] | undefined> }) => {
    const target = String(req.headers['x-amz-target'] ?? 'unknown');
    const op = target.slice(target.indexOf('.') + 1);
    ops.set(op, (ops.get(op) ?? 0) + 1);
  });
  return {
    endpoint: dynamo.endpoint,
    tableName,
    client: dynamo.client,
    doc: dynamo.doc,
    ops,
    resetCounts: () => ops.clear(),
    total: () => [...ops.values()].reduce((a, b) => a + b, 0),
    stop: async () => {
      dynamo.client.destroy();
      await dynamo.stop();
    },
  };
}
