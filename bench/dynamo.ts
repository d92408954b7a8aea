/**
 * dynalite on loopback with the Gatehouse table, counting every DynamoDB operation that reaches it (by its
 * `X-Amz-Target`, e.g. `DynamoDB_20120810.GetItem`). Counting at the server proves what crossed the wire,
 * whichever client sent it.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createDocumentClient } from '../lambdas/authorizer/wiring.js';
import { createTableInput } from '../lambdas/core/table.js';

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
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const ops = new Map<string, number>();
  server.on('request', (req: { headers: Record<string, string | string[] | undefined> }) => {
    const target = String(req.headers['x-amz-target'] ?? 'unknown');
    const op = target.slice(target.indexOf('.') + 1);
    ops.set(op, (ops.get(op) ?? 0) + 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  ops.clear();
  return {
    endpoint,
    tableName,
    client,
    doc: createDocumentClient(client),
    ops,
    resetCounts: () => ops.clear(),
    total: () => [...ops.values()].reduce((a, b) => a + b, 0),
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
