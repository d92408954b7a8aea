/**
 * BatchGetItem over any number of keys: 100 per request (DynamoDB's limit), asking again for the keys DynamoDB leaves
 * unprocessed under throttling (a few rounds), and failing — never answering short — when some stay unprocessed.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from './errors.js';

const ROUNDS = 5;

export async function batchGet(doc: DynamoDBDocumentClient, tableName: string, keys: readonly Record<string, unknown>[], dependency: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    try {
      for (let round = 0; pending && pending.length > 0 && round < ROUNDS; round++) {
        const out = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending } } }));
        items.push(...(out.Responses?.[tableName] ?? []));
        pending = out.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    } catch (error) {
      throw new DependencyError(dependency, error);
    }
    if (pending && pending.length > 0) throw new DependencyError(dependency, new Error('batch read left keys unprocessed'));
  }
  return items;
}
