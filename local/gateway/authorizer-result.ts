/**
 * What API Gateway accepts from a Lambda REQUEST authorizer, and how it reads failures.
 *
 * - The function throws (Lambda reports an error) with the message exactly `Unauthorized` → 401 (UNAUTHORIZED).
 * - Any other error, or no answer in time → AUTHORIZER_FAILURE.
 * - An answer without a string `principalId`, without a `policyDocument` object, or whose `context` is not an
 *   object of scalars (string, number, boolean) → AUTHORIZER_CONFIGURATION_ERROR.
 * Context values reach the integration as strings.
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { emptyRecord } from './records.js';

export const UNAUTHORIZED_MESSAGE = 'Unauthorized';

export interface ValidAuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: APIGatewayAuthorizerResult['policyDocument'];
  readonly context: Readonly<Record<string, string | number | boolean>>;
  /** The API key whose usage plan applies (apiKeySource AUTHORIZER), when the authorizer named one. */
  readonly usageIdentifierKey?: string;
}

/** Lambda's errorMessage of a thrown value: `error.message` for an Error, the string itself for a string. */
export function isUnauthorized(error: unknown): boolean {
  if (typeof error === 'string') return error === UNAUTHORIZED_MESSAGE;
  return error instanceof Error && error.message === UNAUTHORIZED_MESSAGE;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The result as API Gateway would use it, or undefined when it is malformed. */
export function validateAuthorizerResult(raw: unknown): ValidAuthorizerResult | undefined {
  if (!isRecord(raw)) return undefined;
  const { principalId, policyDocument, context, usageIdentifierKey } = raw;
  if (typeof principalId !== 'string' || principalId === '') return undefined;
  if (!isRecord(policyDocument)) return undefined;
  const scalars = emptyRecord<string | number | boolean>();
  if (context !== undefined && context !== null) {
    if (!isRecord(context)) return undefined;
    for (const [key, value] of Object.entries(context)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
      scalars[key] = value;
    }
  }
  return {
    principalId,
    policyDocument: policyDocument as unknown as ValidAuthorizerResult['policyDocument'],
    context: scalars,
    ...(typeof usageIdentifierKey === 'string' ? { usageIdentifierKey } : {}),
  };
}

/** `requestContext.authorizer` of the integration event: every context value as a string, plus principalId. */
export function integrationAuthorizerContext(result: ValidAuthorizerResult, integrationLatencyMs: number): Record<string, string | number> {
  const out = emptyRecord<string | number>();
  for (const [key, value] of Object.entries(result.context)) out[key] = String(value);
  out.principalId = result.principalId;
  out.integrationLatency = integrationLatencyMs;
  return out;
}
