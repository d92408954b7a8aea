/** A real DynamoDB API on loopback (dynalite, in memory) with the Gatehouse table created. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../../lambdas/core/table.js';
import { createDocumentClient } from '../../lambdas/authorizer/wiring.js';

export interface TestDynamo {
  /** The dynalite HTTP server itself (benchmarks count the requests it receives). */
  server: Server;
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Stops the server (existing clients then fail: used for fault tests). */
  stop(): Promise<void>;
}

export async function startDynalite(tableName = 'gatehouse-test'): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
  let stopped = false;
  return {
    server,
    endpoint,
    tableName,
    client,
    doc: createDocumentClient(client),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
