/**
 * The one Powertools logger factory: structured JSON, and every line passed through the redacting replacer so a
 * secret that reaches a log call by mistake never reaches CloudWatch. The API Gateway request id becomes the
 * correlation id of every line (set by the handler middleware).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact.js';

/**
 * Our only correlation path is `requestContext.requestId`; resolving it directly spares every bundle the JMESPath
 * engine Powertools' generic `search` would pull in (~23 KB minified, loaded at each cold start).
 */
export function correlationIdSearch(expression: string, data: unknown): unknown {
  let value: unknown = data;
  for (const part of expression.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, jsonReplacerFn: redactingReplacer, correlationIdSearchFn: correlationIdSearch });
}
