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

/**
 * A 400 names at most this many problems, each field name clipped: a body of a million unknown keys must not
 * become an error response larger than the request (or than Lambda's 6 MB response limit).
 */
export const MAX_LISTED_PROBLEMS = 10;
export const MAX_FIELD_NAME_LENGTH = 64;

const clipName = (name: string): string => (name.length > MAX_FIELD_NAME_LENGTH ? `${name.slice(0, MAX_FIELD_NAME_LENGTH)}…` : name);

/** The problems a 400 lists (at most {@link MAX_LISTED_PROBLEMS}) and how many more there were. */
function listProblems(error: z.ZodError): { listed: FieldProblem[]; more: number } {
  const listed: FieldProblem[] = [];
  for (const issue of error.issues) {
    if (listed.length === MAX_LISTED_PROBLEMS) break;
    if (issue.code === 'unrecognized_keys') {
      const shown = issue.keys.slice(0, MAX_LISTED_PROBLEMS).map(clipName);
      const more = issue.keys.length - shown.length;
      const field = shown.join(', ') + (more > 0 ? ` and ${more} more` : '');
      listed.push({ field, message: `unknown field${issue.keys.length > 1 ? 's' : ''}: not accepted here` });
      continue;
    }
    listed.push({ field: clipName(issue.path.map(String).join('.')), message: issue.message });
  }
  return { listed, more: error.issues.length - listed.length };
}

export function zodProblems(error: z.ZodError): FieldProblem[] {
  const { listed, more } = listProblems(error);
  return more > 0 ? [...listed, { field: '', message: `${more} more problem${more > 1 ? 's' : ''} not listed` }] : listed;
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { listed } = listProblems(result.error);
  const names = [...new Set(listed.map((p) => p.field || what))].join(', ');
  throw new ValidationError(`Invalid ${what}: ${names}.`, zodProblems(result.error));
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
