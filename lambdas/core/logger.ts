/**
 * The one Powertools logger factory: structured JSON, and every line passed through the redacting replacer so
 * a secret that reaches a log call by mistake never reaches CloudWatch. The request id of
 * API Gateway becomes the correlation id of every line (set by the handler middleware).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { redactingReplacer } from './redact.js';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, jsonReplacerFn: redactingReplacer, correlationIdSearchFn: search });
}
