/**
 * Header smuggling against credential extraction (README step 1, core/credentials.ts), through the authorizer with
 * events shaped as API Gateway builds them (`headers` holds the last value, `multiValueHeaders` all of them).
 * Expected: `refused` (401) or `same` (accepted, and only as the credential's own principal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../lambdas/core/api-key.js';
import { authorizerEvent } from '../support/events.js';
import { describeOutcome, startLab, type IssuedKey, type Lab } from './support/lab.js';

let lab: Lab;
let a: IssuedKey;
let b: IssuedKey;
let jwt = '';
const table: { name: string; outcome: string }[] = [];

beforeAll(async () => {
  lab = await startLab({ tableName: 'gatehouse-smuggling' });
  [a, b] = await Promise.all([lab.newKey(['items:read'], { tenant: 'tenant-a' }), lab.newKey(['items:read', 'keys:write'], { tenant: 'tenant-b' })]);
  jwt = lab.poolToken();
});

afterAll(async () => {
  await lab?.close();
  const width = Math.max(0, ...table.map((r) => r.name.length));
  console.log(`\nHeader smuggling: ${table.length} cases\n` + table.map((r) => `  ${r.name.padEnd(width)}  ${r.outcome}`).join('\n'));
});

interface Case {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly query?: Record<string, string>;
}
/** `same-or-refused`: transport whitespace around the one key, which may be trimmed (same key) or refused. */
type Expect = 'refused' | 'same-a' | 'same-or-refused';

const mv = (pairs: [string, string][]): Case => {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) (multi[name] ??= []).push(value);
  const headers = Object.fromEntries(Object.entries(multi).map(([k, v]) => [k, v[v.length - 1]!]));
  return { headers, multiValueHeaders: multi };
};

const CASES: [string, () => Case, Expect][] = [
  // both credential headers
  ['Authorization and X-API-Key carry different keys', () => ({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': b.key } }), 'refused'],
  ['Authorization carries a key, X-API-Key a forgery', () => ({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': generateApiKey('test').key } }), 'refused'],
  ['Authorization carries a JWT, X-API-Key a key', () => ({ headers: { Authorization: `Bearer ${jwt}`, 'X-API-Key': a.key } }), 'refused'],
  ['both headers carry the same key', () => ({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': a.key } }), 'same-a'],
  // duplicated headers
  ['X-API-Key twice (same value)', () => mv([['X-API-Key', a.key], ['X-API-Key', a.key]]), 'refused'],
  ['X-API-Key twice (a, then b)', () => mv([['X-API-Key', a.key], ['X-API-Key', b.key]]), 'refused'],
  ['X-API-Key twice (b, then a: headers shows a)', () => mv([['X-API-Key', b.key], ['X-API-Key', a.key]]), 'refused'],
  ['Authorization twice (Bearer a, Bearer b)', () => mv([['Authorization', `Bearer ${a.key}`], ['Authorization', `Bearer ${b.key}`]]), 'refused'],
  ['Authorization twice, the first empty', () => mv([['Authorization', ''], ['Authorization', `Bearer ${a.key}`]]), 'refused'],
  // mixed case names
  ['"X-API-Key" and "x-api-key" with different keys', () => ({ headers: { 'X-API-Key': a.key, 'x-api-key': b.key } }), 'refused'],
  ['"Authorization" and "AUTHORIZATION" with different keys', () => ({ headers: { Authorization: `Bearer ${a.key}`, AUTHORIZATION: `Bearer ${b.key}` } }), 'refused'],
  ['"x-ApI-kEy" (one header, odd case)', () => ({ headers: { 'x-ApI-kEy': a.key } }), 'same-a'],
  ['"aUtHoRiZaTiOn: bEaReR <key>" (odd case name and scheme)', () => ({ headers: { aUtHoRiZaTiOn: `bEaReR ${a.key}` } }), 'same-a'],
  ['multiValueHeaders names a second case variant', () => ({ headers: { 'X-API-Key': a.key }, multiValueHeaders: { 'X-API-Key': [a.key], 'x-api-key': [b.key, a.key] } }), 'refused'],
  // look-alike header names: not credentials at all
  ['X_API_KEY (underscores)', () => ({ headers: { X_API_KEY: a.key } }), 'refused'],
  ['X-Api-Key-Override', () => ({ headers: { 'X-Api-Key-Override': a.key } }), 'refused'],
  ['Proxy-Authorization: Bearer <key>', () => ({ headers: { 'Proxy-Authorization': `Bearer ${a.key}` } }), 'refused'],
  ['X-Forwarded-Authorization / X-Amzn-Remapped-Authorization', () => ({ headers: { 'X-Forwarded-Authorization': `Bearer ${a.key}`, 'X-Amzn-Remapped-Authorization': `Bearer ${a.key}` } }), 'refused'],
  ['Cookie: api_key=<key>', () => ({ headers: { Cookie: `api_key=${a.key}; token=${jwt}` } }), 'refused'],
  // empty values
  ['X-API-Key empty', () => ({ headers: { 'X-API-Key': '' } }), 'refused'],
  ['Authorization empty', () => ({ headers: { Authorization: '' } }), 'refused'],
  ['Authorization "Bearer" with no credential', () => ({ headers: { Authorization: 'Bearer' } }), 'refused'],
  ['Authorization "Bearer " + spaces', () => ({ headers: { Authorization: 'Bearer    ' } }), 'refused'],
  ['X-API-Key whitespace only', () => ({ headers: { 'X-API-Key': ' \t ' } }), 'refused'],
  ['empty X-API-Key beside a valid Authorization', () => ({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': '' } }), 'same-a'],
  // very long values
  ['Authorization of 9 000 characters', () => ({ headers: { Authorization: `Bearer ${a.key}${'A'.repeat(9000)}` } }), 'refused'],
  ['X-API-Key of 1 MB', () => ({ headers: { 'X-API-Key': 'gth_'.padEnd(1024 * 1024, 'x') } }), 'refused'],
  ['X-API-Key of 3 000 four-byte characters (12 KB of UTF-8)', () => ({ headers: { 'X-API-Key': '😀'.repeat(1500) } }), 'refused'],
  ['a valid key beside an oversize X-API-Key', () => ({ headers: { Authorization: `Bearer ${a.key}`, 'X-API-Key': 'x'.repeat(9000) } }), 'refused'],
  // scheme spacing
  ['"Bearer  <key>" (two spaces)', () => ({ headers: { Authorization: `Bearer  ${a.key}` } }), 'same-a'],
  ['"Bearer\\t<key>" (tab)', () => ({ headers: { Authorization: `Bearer\t${a.key}` } }), 'same-a'],
  ['"Bearer\\n<key>" (newline)', () => ({ headers: { Authorization: `Bearer\n${a.key}` } }), 'refused'],
  ['"Bearer:<key>"', () => ({ headers: { Authorization: `Bearer:${a.key}` } }), 'refused'],
  ['"Bearer<key>" (no space)', () => ({ headers: { Authorization: `Bearer${a.key}` } }), 'refused'],
  ['"Bearer Bearer <key>"', () => ({ headers: { Authorization: `Bearer Bearer ${a.key}` } }), 'refused'],
  // comma-joined duplicates
  ['"Bearer a, Bearer b"', () => ({ headers: { Authorization: `Bearer ${a.key}, Bearer ${b.key}` } }), 'refused'],
  ['"Bearer a, Bearer a"', () => ({ headers: { Authorization: `Bearer ${a.key}, Bearer ${a.key}` } }), 'refused'],
  ['"Bearer a,b"', () => ({ headers: { Authorization: `Bearer ${a.key},${b.key}` } }), 'refused'],
  ['X-API-Key "a, b"', () => ({ headers: { 'X-API-Key': `${a.key}, ${b.key}` } }), 'refused'],
  ['"Basic <base64>, Bearer a"', () => ({ headers: { Authorization: `Basic ${Buffer.from('u:p').toString('base64')}, Bearer ${a.key}` } }), 'refused'],
  // other schemes
  ['Basic with the key as password', () => ({ headers: { Authorization: `Basic ${Buffer.from(`x:${a.key}`).toString('base64')}` } }), 'refused'],
  ['"Token <key>" / "ApiKey <key>"', () => ({ headers: { Authorization: `ApiKey ${a.key}` } }), 'refused'],
  ['bare key in Authorization (no scheme)', () => ({ headers: { Authorization: a.key } }), 'refused'],
  ['"Bearer <key>" inside X-API-Key', () => ({ headers: { 'X-API-Key': `Bearer ${a.key}` } }), 'refused'],
  ['a JWT in X-API-Key', () => ({ headers: { 'X-API-Key': jwt } }), 'refused'],
  ['SigV4 Authorization on a token route', () => ({ headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=abcd' } }), 'refused'],
  // query-string credentials: never read
  ['key only in the query string (?api_key=)', () => ({ headers: {}, query: { api_key: a.key } }), 'refused'],
  ['JWT only in the query string (?access_token=)', () => ({ headers: {}, query: { access_token: jwt } }), 'refused'],
  ['key in ?key= and ?x-api-key=', () => ({ headers: {}, query: { key: a.key, 'x-api-key': a.key, Authorization: `Bearer ${a.key}` } }), 'refused'],
  ['valid key in the header, another in the query (query ignored)', () => ({ headers: { 'X-API-Key': a.key }, query: { api_key: b.key } }), 'same-a'],
  // NUL / CR / LF inside values
  ['NUL after the key (Bearer)', () => ({ headers: { Authorization: `Bearer ${a.key}\u0000` } }), 'refused'],
  ['NUL inside X-API-Key', () => ({ headers: { 'X-API-Key': `${a.key.slice(0, 20)}\u0000${a.key.slice(20)}` } }), 'refused'],
  ['CRLF + a smuggled X-API-Key inside Authorization', () => ({ headers: { Authorization: `Bearer ${a.key}\r\nX-API-Key: ${b.key}` } }), 'refused'],
  ['CRLF + a smuggled Authorization inside X-API-Key', () => ({ headers: { 'X-API-Key': `${b.key}\r\nAuthorization: Bearer ${a.key}` } }), 'refused'],
  ['lone CR before the key', () => ({ headers: { 'X-API-Key': `\r${a.key}` } }), 'same-or-refused'],
  ['vertical tab / form feed around the key', () => ({ headers: { 'X-API-Key': `\u000b${a.key}\u000c` } }), 'same-or-refused'],
  ['non-breaking spaces (U+00A0) around the key', () => ({ headers: { 'X-API-Key': `\u00a0${a.key}\u00a0\u00a0` } }), 'same-or-refused'],
  // header names that are Object.prototype members (parsed from JSON, as Lambda's events are: own properties)
  ['headers named constructor / __proto__ / toString beside the key', () => ({ headers: JSON.parse(JSON.stringify({ 'X-API-Key': a.key }).replace('{', '{"constructor":"x","__proto__":"y","toString":"z",')) as Record<string, string> }), 'same-a'],
  ['headers named constructor / __proto__ / valueOf and no credential', () => ({ headers: JSON.parse('{"constructor":"x","__proto__":"y","valueOf":"z"}') as Record<string, string> }), 'refused'],
];

describe('header smuggling', () => {
  it.each(CASES.map(([name, make, expected]) => [name, expected, make] as const))('%s → %s', async (name, expected, make) => {
    const c = make();
    const event = authorizerEvent({ headers: c.headers, ...(c.multiValueHeaders ? { multiValueHeaders: c.multiValueHeaders } : {}) });
    if (c.query) {
      // Where API Gateway puts them (authorizerEvent() makes none of its own).
      event.queryStringParameters = c.query;
      event.multiValueQueryStringParameters = Object.fromEntries(Object.entries(c.query).map(([k, v]) => [k, [v]]));
    }
    const outcome = await lab.authorizer().decide(event);
    table.push({ name, outcome: describeOutcome(outcome) });
    if (expected === 'refused') {
      expect(outcome.verdict, describeOutcome(outcome)).toBe('unauthorized');
    } else if (expected === 'same-a' || outcome.verdict === 'allow') {
      expect(outcome.verdict, describeOutcome(outcome)).toBe('allow');
      if (outcome.verdict === 'allow') expect(outcome.result.context).toMatchObject({ principalId: `key:${a.record.id}`, tenant: 'tenant-a' });
    }
  });

  it('query-string parameters never reach a decision: the same event with and without them decides the same', async () => {
    for (const query of [{ api_key: a.key }, { access_token: jwt }, { Authorization: `Bearer ${b.key}` }]) {
      const event = authorizerEvent({ headers: {} });
      const withQuery = { ...event, queryStringParameters: query, multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) };
      const { decide } = lab.authorizer();
      expect((await decide(withQuery)).verdict).toBe('unauthorized');
    }
  });
});
