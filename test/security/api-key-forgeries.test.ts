/**
 * API-key forgeries (CONTRACT §1 key format). A forgery is anything that is not exactly an issued, active key: it
 * must be refused with the same 401 whatever is wrong with it. Variants that are the SAME key with transport
 * whitespace around it may be accepted, but only as that key's own principal — never as anyone else.
 * Outcomes are printed as a table at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf, generateApiKey, KEY_CHECKSUM_LENGTH } from '../../lambdas/core/api-key.js';
import { authorizerEvent } from '../support/events.js';
import { describeOutcome, startLab, type IssuedKey, type Lab } from './support/lab.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';

let lab: Lab;
let active: IssuedKey;
let other: IssuedKey;
let revoked: IssuedKey;
let expired: IssuedKey;
let rotatedOut: IssuedKey;
let rotatedInGrace: IssuedKey;
const table: { name: string; outcome: string }[] = [];

/** Re-computes the checksum, as anyone can (CRC32 is public): isolates the check that follows it. */
const rechecksum = (key: string): string => {
  const body = key.slice(0, -KEY_CHECKSUM_LENGTH);
  return body + checksumOf(body);
};
const replaceAt = (s: string, i: number, c: string) => s.slice(0, i) + c + s.slice(i + 1);
/** Index of the first secret character (after `gth_test_<id>_`). */
const SECRET_AT = 'gth_test_'.length + 12 + 1;

beforeAll(async () => {
  lab = await startLab({ tableName: 'gatehouse-key-forgeries' });
  // The look-alike cases substitute an "a" and digits of the secret: issue until the key has both.
  do active = await lab.newKey(['items:read', 'keys:read'], { tenant: 'tenant-a' });
  while (!/a/.test(active.key.slice(SECRET_AT)) || !/[0-9]/.test(active.key.slice(SECRET_AT)));
  [other, revoked, expired, rotatedOut, rotatedInGrace] = await Promise.all([
    lab.newKey(['items:read'], { tenant: 'tenant-b' }),
    lab.newKey(['items:read']),
    lab.newKey(['items:read'], { expiresAt: new Date(Date.now() + 150).toISOString() }),
    lab.newKey(['items:read']),
    lab.newKey(['items:read']),
  ]);
  const now = new Date().toISOString();
  await lab.store.revoke(revoked.record.id, revoked.record.tenant, now);
  // Rotations: one whose grace period has ended, one still inside it.
  await lab.store.markRotated(rotatedOut.record.id, rotatedOut.record.tenant, 'successor0001', new Date(Date.now() - 1).toISOString(), now);
  await lab.store.markRotated(rotatedInGrace.record.id, rotatedInGrace.record.tenant, 'successor0002', new Date(Date.now() + 60_000).toISOString(), now);
  await new Promise((r) => setTimeout(r, 200)); // let `expired` expire
});

afterAll(async () => {
  await lab?.close();
  const width = Math.max(0, ...table.map((r) => r.name.length));
  console.log(`\nAPI-key forgeries: ${table.length} cases\n` + table.map((r) => `  ${r.name.padEnd(width)}  ${r.outcome}`).join('\n'));
});

const asKey = (key: string) => ({ 'X-API-Key': key });
const asBearer = (key: string) => ({ Authorization: `Bearer ${key}` });

const FORGERIES: [string, () => Record<string, string>][] = [
  ['bad checksum (last character changed)', () => asKey(replaceAt(active.key, active.key.length - 1, active.key.endsWith('A') ? 'B' : 'A'))],
  ['bad checksum (a secret character changed, old checksum kept)', () => asKey(replaceAt(active.key, SECRET_AT + 5, active.key[SECRET_AT + 5] === 'x' ? 'y' : 'x'))],
  ['checksum of another key', () => asKey(active.key.slice(0, -KEY_CHECKSUM_LENGTH) + other.key.slice(-KEY_CHECKSUM_LENGTH))],
  ['truncated by one character', () => asKey(active.key.slice(0, -1))],
  ['truncated to its public prefix (gth_test_<id>)', () => asKey(active.key.slice(0, SECRET_AT - 1))],
  ['truncated secret, checksum recomputed', () => asKey(rechecksum(active.key.slice(0, SECRET_AT + 20) + active.key.slice(-KEY_CHECKSUM_LENGTH)))],
  ['one extra character appended', () => asKey(`${active.key}A`)],
  ['one extra character inside, checksum recomputed', () => asKey(rechecksum(active.key.slice(0, SECRET_AT) + 'Z' + active.key.slice(SECRET_AT)))],
  ['secret changed, checksum recomputed (right length)', () => asKey(rechecksum(replaceAt(active.key, SECRET_AT, active.key[SECRET_AT] === 'a' ? 'b' : 'a')))],
  ['Cyrillic "а" look-alike in the secret', () => asKey(active.key.slice(0, SECRET_AT) + active.key.slice(SECRET_AT).replace('a', 'а'))],
  ['Cyrillic "е" look-alike in the prefix (gth_tеst_)', () => asKey(active.key.replace('test', 'tеst'))],
  ['Greek "Ο" (omicron) for an "O"/"0"', () => asKey(replaceAt(active.key, SECRET_AT + 1, 'Ο'))],
  ['fullwidth digits for ASCII digits', () => asKey(active.key.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))))],
  ['fullwidth underscore in the prefix', () => asKey(active.key.replace('gth_', 'gth＿'))],
  ['zero-width space inside the secret', () => asKey(active.key.slice(0, SECRET_AT + 3) + '\u200B' + active.key.slice(SECRET_AT + 3))],
  ['zero-width joiner at the end', () => asKey(`${active.key}\u200D`)],
  ['zero-width non-joiner at the start (Bearer)', () => asBearer(`\u200C${active.key}`)],
  ['the other environment\'s prefix (gth_live_), checksum recomputed', () => asKey(rechecksum(active.key.replace('gth_test_', 'gth_live_')))],
  ['a genuine live-environment key (this deployment accepts test)', () => asKey(generateApiKey('live').key)],
  ['a revoked key', () => asKey(revoked.key)],
  ['a revoked key\'s id with a new secret (valid checksum)', () => asKey(generateApiKey('test', revoked.record.id).key)],
  ['an active key\'s id with a new secret (valid checksum)', () => asKey(generateApiKey('test', active.record.id).key)],
  ['another tenant\'s key id with this key\'s secret', () => asKey(rechecksum(active.key.replace(active.record.id, other.record.id)))],
  ['a rotated key after its grace period', () => asKey(rotatedOut.key)],
  ['an expired key', () => asKey(expired.key)],
  ['a well-formed key nobody issued', () => asKey(generateApiKey('test').key)],
  ['case-changed: whole key upper-cased', () => asKey(active.key.toUpperCase())],
  ['case-changed: prefix "GTH_"', () => asKey(active.key.replace('gth_', 'GTH_'))],
  ['case-changed: secret case swapped, checksum recomputed', () =>
    asKey(rechecksum(active.key.slice(0, SECRET_AT) + [...active.key.slice(SECRET_AT)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')))],
  ['case-changed: key id case swapped, checksum recomputed', () =>
    asKey(rechecksum(active.key.replace(active.record.id, [...active.record.id].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join(''))))],
  ['whitespace INSIDE the key (space)', () => asKey(active.key.slice(0, SECRET_AT) + ' ' + active.key.slice(SECRET_AT))],
  ['key in double quotes', () => asKey(`"${active.key}"`)],
  ['key percent-encoded (%5F for "_")', () => asKey(active.key.replace(/_/g, '%5F'))],
  ['key base64-encoded', () => asKey(Buffer.from(active.key).toString('base64'))],
  ['key followed by NUL', () => asKey(`${active.key}\u0000`)],
  ['key followed by CRLF and a second header', () => asKey(`${active.key}\r\nX-API-Key: ${other.key}`)],
  ['two keys comma-joined', () => asKey(`${active.key},${other.key}`)],
  ['key via Bearer with a trailing comma', () => asBearer(`${active.key},`)],
];

describe('API-key forgeries: every one refused with 401', () => {
  it('has the listed cases, all distinct', () => {
    expect(new Set(FORGERIES.map(([n]) => n)).size).toBe(FORGERIES.length);
  });

  it.each(FORGERIES)('%s', async (name, headers) => {
    const outcome = await lab.decide({ headers: headers() });
    table.push({ name, outcome: describeOutcome(outcome) });
    expect(outcome.verdict, describeOutcome(outcome)).toBe('unauthorized');
  });

  it('the 401 does not depend on what was wrong: the authorizer throws the same bare "Unauthorized" every time', async () => {
    const messages = new Set<string>();
    for (const [name, headers] of FORGERIES) {
      const outcome = await lab.decide({ headers: headers() });
      messages.add(outcome.verdict === 'unauthorized' ? 'Unauthorized' : `${name}: ${describeOutcome(outcome)}`);
    }
    expect([...messages]).toEqual(['Unauthorized']);
  });

  it('a malformed or wrongly-checksummed key costs no store read', async () => {
    let reads = 0;
    const { decide } = lab.authorizer({ store: { get: (id) => (reads++, lab.store.get(id)) } });
    for (const [name, headers] of FORGERIES.slice(0, 17)) {
      if (name.includes('recomputed')) continue;
      await decide(authorizerEvent({ headers: headers() }));
    }
    expect(reads).toBe(0);
  });
});

describe('the same key with transport whitespace: accepted only as itself', () => {
  const VARIANTS: [string, () => Record<string, string>][] = [
    ['X-API-Key with a leading space', () => asKey(` ${active.key}`)],
    ['X-API-Key with a trailing space', () => asKey(`${active.key} `)],
    ['X-API-Key with leading and trailing tabs', () => asKey(`\t${active.key}\t`)],
    ['Authorization with a leading space', () => ({ Authorization: ` Bearer ${active.key}` })],
    ['Authorization with a trailing space', () => asBearer(`${active.key} `)],
    ['Authorization with tabs around', () => ({ Authorization: `\tBearer\t${active.key}\t` })],
    ['X-API-Key wrapped in a no-break space (U+00A0)', () => asKey(`\u00A0${active.key}\u00A0`)],
    ['X-API-Key after a byte-order mark (U+FEFF)', () => asKey(`\uFEFF${active.key}`)],
    ['Authorization wrapped in a no-break space (U+00A0)', () => asBearer(`\u00A0${active.key}\u00A0`)],
  ];

  it.each(VARIANTS)('%s', async (name, headers) => {
    const outcome = await lab.decide({ headers: headers() });
    table.push({ name: `(same key) ${name}`, outcome: describeOutcome(outcome) });
    if (outcome.verdict === 'allow') {
      expect(outcome.result.principalId).toBe(`key:${active.record.id}`);
      expect(outcome.result.context).toMatchObject({ tenant: 'tenant-a', keyId: active.record.id, scopes: GATEHOUSE_API.scopes.sort(['items:read', 'keys:read']).join(' ') });
    } else {
      expect(outcome.verdict).toBe('unauthorized');
    }
  });
});

describe('tenant headers are ignored: a key\'s tenant is its creator\'s', () => {
  it.each([
    ['X-Tenant: tenant-b', { 'X-Tenant': 'tenant-b' }],
    ['X-Tenant-Id: tenant-b', { 'X-Tenant-Id': 'tenant-b' }],
    ['X-Gatehouse-Tenant: admin', { 'X-Gatehouse-Tenant': 'admin' }],
    ['custom:tenant as a header', { 'custom:tenant': 'tenant-b' }],
    ['X-Amzn-Principal / X-Principal-Id spoofing', { 'X-Amzn-Principal': 'admin', 'X-Principal-Id': 'key:admin' }],
  ])('key of tenant-a with %s → still tenant-a', async (name, extra) => {
    const outcome = await lab.decide({ headers: { ...asKey(active.key), ...extra } });
    table.push({ name: `(tenant header) ${name}`, outcome: describeOutcome(outcome) });
    expect(outcome.verdict).toBe('allow');
    if (outcome.verdict === 'allow') expect(outcome.result.context).toMatchObject({ tenant: 'tenant-a', principalId: `key:${active.record.id}`, admin: 'false' });
  });

  it('controls: the active key and a rotated key still inside its grace period are accepted', async () => {
    expect((await lab.decide({ headers: asKey(active.key) })).verdict).toBe('allow');
    expect((await lab.decide({ headers: asBearer(active.key) })).verdict).toBe('allow');
    expect((await lab.decide({ headers: asKey(rotatedInGrace.key) })).verdict).toBe('allow');
  });
});
