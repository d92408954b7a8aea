/**
 * JSON request bodies: size limit (413), media type (415), syntax (400), then the operation's zod schema (400
 * naming every offending field). Schemas are strict objects, so unknown fields are refused, not ignored.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { GatehouseError, ValidationError, type FieldProblem } from '../../core/errors.js';

export function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

function headerValue(event: APIGatewayProxyEvent, lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) if (name.toLowerCase() === lowerName) return value;
  return undefined;
}

/** RFC 8259 JSON, or a `+json` structured syntax suffix (RFC 6839); parameters such as charset are allowed. */
function isJsonMediaType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export function zodProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.join(', '), message: `unknown field${issue.keys.length > 1 ? 's' : ''}: not accepted here` };
    }
    return { field, message: issue.message };
  });
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = zodProblems(result.error);
  const names = [...new Set(problems.map((p) => p.field || what))].join(', ');
  throw new ValidationError(`Invalid ${what}: ${names}.`, problems);
}

export function parseJsonBody<T>(event: APIGatewayProxyEvent, schema: z.ZodType<T>, maxBytes: number): T {
  const raw = event.body ?? '';
  // Measure before decoding: base64 inflates by 4/3, so the decoded size is at most this.
  const size = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8');
  if (size > maxBytes) throw new GatehouseError('PAYLOAD_TOO_LARGE', `The body exceeds ${maxBytes} bytes.`);
  const text = bodyText(event);
  if (text === undefined || text.trim() === '') return validate(schema, {}, 'body');
  const contentType = headerValue(event, 'content-type');
  if (!contentType || !isJsonMediaType(contentType)) {
    throw new GatehouseError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('The body is not valid JSON.', [{ field: '', message: 'not valid JSON' }]);
  }
  return validate(schema, parsed, 'body');
}
