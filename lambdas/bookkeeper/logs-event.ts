/**
 * The CloudWatch Logs subscription event a Lambda receives: `awslogs.data` is base64 of gzip of JSON
 * `{ messageType, owner, logGroup, logStream, subscriptionFilters, logEvents: [{ id, timestamp, message }] }`.
 * A `CONTROL_MESSAGE` (sent when the subscription is created, to check the destination) carries no lines.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import type { BookkeepingBatch } from './bookkeeper.js';

/** CloudWatch Logs delivers at most 1 MB of events per invocation; anything far beyond is not a delivery. */
const MAX_DECODED_BYTES = 16 * 1024 * 1024;

export class LogsEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogsEventError';
  }
}

export function decodeLogsEvent(event: CloudWatchLogsEvent): BookkeepingBatch {
  const data = event?.awslogs?.data;
  if (typeof data !== 'string') throw new LogsEventError('not a CloudWatch Logs subscription event (no awslogs.data)');
  let decoded: CloudWatchLogsDecodedData;
  try {
    decoded = JSON.parse(gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8')) as CloudWatchLogsDecodedData;
  } catch (error) {
    throw new LogsEventError(`awslogs.data is not base64 gzip JSON (${error instanceof Error ? error.name : typeof error})`);
  }
  const source = `${String(decoded.logGroup)}/${String(decoded.logStream)}`;
  if (decoded.messageType !== 'DATA_MESSAGE' || !Array.isArray(decoded.logEvents)) return { source, lines: [] };
  return {
    source,
    lines: decoded.logEvents
      .filter((e) => e !== null && typeof e === 'object' && typeof e.message === 'string')
      .map((e) => ({ id: String(e.id), timestamp: Number(e.timestamp), message: e.message })),
  };
}

/** The inverse, for tests and the local stack's feed: what CloudWatch Logs would deliver for these lines. */
export function encodeLogsEvent(batch: { logGroup: string; logStream: string; lines: readonly { id: string; timestamp: number; message: string }[] }): CloudWatchLogsEvent {
  const decoded: CloudWatchLogsDecodedData = {
    messageType: 'DATA_MESSAGE',
    owner: '000000000000',
    logGroup: batch.logGroup,
    logStream: batch.logStream,
    subscriptionFilters: ['gatehouse-bookkeeping'],
    logEvents: batch.lines.map((l) => ({ id: l.id, timestamp: l.timestamp, message: l.message })),
  };
  return { awslogs: { data: gzipBase64(JSON.stringify(decoded)) } };
}

const gzipBase64 = (text: string): string => gzipSync(Buffer.from(text, 'utf8')).toString('base64');
