/**
 * Helpers for the bookkeeping channel in tests: capture the authorizer's lines, turn captured stdout into the
 * batches CloudWatch Logs would deliver (only the lines the subscription filter selects), and a bookkeeper on
 * real stores.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import { createBookkeeper, type BookkeeperDeps, type BookkeepingBatch, type Bookkeeper } from '../../lambdas/bookkeeper/bookkeeper.js';
import { AuditStore } from '../../lambdas/core/audit-store.js';
import { BOOKKEEPING_FIELD, BOOKKEEPING_KINDS } from '../../lambdas/core/bookkeeping-channel.js';
import { UsageStore } from '../../lambdas/core/usage-store.js';
import { captureLog } from './capture-log.js';

/** A LineWriter that keeps what it is given (one line per call, newline included). */
export function lineCapture(): { write: (line: string) => void; lines: string[]; text(): string } {
  const lines: string[] = [];
  return { write: (line) => void lines.push(line), lines, text: () => lines.join('') };
}

/**
 * Whether CloudWatch Logs' JSON filter `{ ($.gatehouseRecord = "usage") || ($.gatehouseRecord = "refusal") }` selects a
 * log message: a JSON object whose top-level field has one of the kinds. (The pattern itself is checked against
 * BOOKKEEPING_FILTER_PATTERN in the channel's test.)
 */
export function selectedByFilter(message: string): boolean {
  try {
    const value = JSON.parse(message) as unknown;
    return typeof value === 'object' && value !== null && (BOOKKEEPING_KINDS as readonly unknown[]).includes((value as Record<string, unknown>)[BOOKKEEPING_FIELD]);
  } catch {
    return false;
  }
}

let sequence = 0;

/** The batch CloudWatch Logs would deliver for this output (one log event per line; only the selected lines). */
export function batchOf(text: string, source = 'test-group/test-stream', timestamp = Date.now()): BookkeepingBatch {
  const lines = text
    .split('\n')
    .filter((m) => m !== '' && selectedByFilter(m))
    .map((message) => ({ id: String(++sequence).padStart(56, '0'), timestamp, message }));
  return { source, lines };
}

/** Everything written to stdout while active (stderr untouched); restore() when done. */
export function captureStdout(): { text(): string; restore(): void } {
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
  return { text: () => writes.join(''), restore: () => spy.mockRestore() };
}

/** A bookkeeper on the real stores of a table. */
export function testBookkeeper(dynamo: { doc: DynamoDBDocumentClient; tableName: string }, extra: Partial<BookkeeperDeps> = {}): Bookkeeper {
  return createBookkeeper({
    usage: new UsageStore(dynamo.doc, dynamo.tableName),
    audit: new AuditStore(dynamo.doc, dynamo.tableName, { retentionDays: 7 }),
    log: captureLog(),
    ...extra,
  });
}
