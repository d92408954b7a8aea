/**
 * Certificate-bound machine principals (issue 17): the setting, distinguished names, and what a client certificate
 * means to the authorizer — with real X.509 certificates from the local CA (local/tls/ca.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, UNAUTHORIZED, type RefusalEvent } from '../lambdas/authorizer/authorizer.js';
import { parseBookkeepingLine, refusalLine } from '../lambdas/core/bookkeeping-channel.js';
import { resolveClientCertificates, type ClientCertificatesConfig } from '../lambdas/core/client-certificate-config.js';
import { ClientCertificateVerifier, subjectAltNames, type CertificateCheck } from '../lambdas/core/client-certificate.js';
import { DecisionCache } from '../lambdas/core/decision-cache.js';
import { nameFromNode, parseDistinguishedName, sameName } from '../lambdas/core/distinguished-name.js';
import { principalFromContext } from '../lambdas/core/principal.js';
import { readSettings } from '../lambdas/core/settings.js';
import { GATEHOUSE_API } from '../lambdas/routes.js';
import { createLocalCa, issueClientCertificate, type IssuedCertificate, type LocalCa } from '../local/tls/ca.js';
import { clientCertificateShape } from '../local/tls/client-certificate.js';
import { X509Certificate } from 'node:crypto';
import { captureLog } from './support/capture-log.js';
import { authorizerEvent } from './support/events.js';

const ISSUER = 'CN=Example Services CA,O=Example';
const DAY = 86_400_000;

let ca: LocalCa;
let otherCa: LocalCa;
let billing: IssuedCertificate;
let billingFromOtherCa: IssuedCertificate;
let reports: IssuedCertificate;
let expired: IssuedCertificate;
let notYetValid: IssuedCertificate;

beforeAll(async () => {
  ca = await createLocalCa({ subject: ISSUER });
  otherCa = await createLocalCa({ subject: 'CN=Someone Else CA,O=Elsewhere' });
  [billing, billingFromOtherCa, reports, expired, notYetValid] = await Promise.all([
    issueClientCertificate(ca, { subject: 'CN=billing,O=Example', altNames: [{ uri: 'spiffe://example.org/billing' }, { dns: 'billing.internal' }] }),
    issueClientCertificate(otherCa, { subject: 'CN=billing,O=Example' }),
    issueClientCertificate(ca, { subject: 'CN=reports,O=Example' }),
    issueClientCertificate(ca, { subject: 'CN=old,O=Example', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
    issueClientCertificate(ca, { subject: 'CN=future,O=Example', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) }),
  ]);
});

/** The setting as the authorizer reads it from its environment, resolved against Gatehouse's catalog. */
function config(value: unknown): ClientCertificatesConfig {
  const read = readSettings(['clientCertificates'], { GATEHOUSE_CLIENT_CERTIFICATES: JSON.stringify(value) }).clientCertificates;
  return resolveClientCertificates(read, GATEHOUSE_API.scopes)!;
}

const presented = (cert: IssuedCertificate) => clientCertificateShape(new X509Certificate(cert.certPem));

const principal = (name: string, match: unknown, extra: Record<string, unknown> = {}) => ({ name, match, tenant: name, scopes: ['items:read'], mode: 'certificate', ...extra });

describe('issue 17: the clientCertificates setting', () => {
  it('a subject or SAN match must name its issuer; a fingerprint needs nothing else', () => {
    expect(() => config({ principals: [principal('a', { subject: 'CN=a' })] })).toThrow(/GATEHOUSE_CLIENT_CERTIFICATES/);
    expect(() => config({ principals: [principal('a', { san: 'DNS:a.internal' })] })).toThrow(/GATEHOUSE_CLIENT_CERTIFICATES/);
    expect(config({ principals: [principal('a', { sha256: 'ab'.repeat(32) })] }).principals[0]!.match).toEqual({ sha256: 'AB'.repeat(32) });
  });

  it('mode has no default, and is certificate or certificate+credential', () => {
    const { mode: _omitted, ...noMode } = principal('a', { sha256: 'ab'.repeat(32) });
    expect(() => config({ principals: [noMode] })).toThrow(/mode/);
    expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }, { mode: 'either' })] })).toThrow(/mode/);
  });

  it('tenants follow the token rules: reserved, invisible or oversized tenants are refused', () => {
    for (const tenant of ['admin', 'ADMIN', 'public', 'a\u200bb', ' padded', 'x'.repeat(257)]) {
      expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }, { tenant })] }), tenant).toThrow(/tenant/);
    }
  });

  it('scopes must be declared, and never credential scopes', () => {
    expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }, { scopes: ['reports:read'] })] })).toThrow(/not declared: reports:read/);
    expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }, { scopes: ['items:read', 'keys:write'] })] })).toThrow(/no credential scope.*keys:write/);
  });

  it('names and matches are unique', () => {
    expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }), principal('a', { sha256: 'cd'.repeat(32) })] })).toThrow(/distinct/);
    expect(() => config({ principals: [principal('a', { sha256: 'ab'.repeat(32) }), principal('b', { sha256: 'AB'.repeat(32) })] })).toThrow(/same match/);
  });
});

describe('issue 17: distinguished names compare as attribute sets', () => {
  it('order, attribute-type case and escapes do not matter; values do', () => {
    const a = parseDistinguishedName('CN=billing,O=Example\\, Inc.')!;
    expect(sameName(a, parseDistinguishedName('o=Example\\2C Inc., cn=billing')!)).toBe(true);
    expect(sameName(a, nameFromNode('O=Example\\, Inc.\nCN=billing')!)).toBe(true);
    expect(sameName(a, parseDistinguishedName('CN=Billing,O=Example\\, Inc.')!)).toBe(false);
    expect(sameName(a, parseDistinguishedName('CN=billing')!)).toBe(false);
    expect(parseDistinguishedName('not a name')).toBeUndefined();
  });

  it('SANs as node:crypto prints them, quoted entries included', () => {
    expect(subjectAltNames('DNS:a.internal, URI:spiffe://x/y, DNS:"b, c", IP Address:127.0.0.1')).toEqual(['DNS:a.internal', 'URI:spiffe://x/y', 'DNS:b, c', 'IP Address:127.0.0.1']);
  });
});

describe('issue 17: what a client certificate means', () => {
  const check = (cfg: unknown, cert: IssuedCertificate, now?: number): CertificateCheck =>
    new ClientCertificateVerifier({ config: config(cfg), ...(now === undefined ? {} : { now: () => now }) }).check(presented(cert));

  it('a mapped certificate (subject and issuer) is its principal, with exactly its scopes', () => {
    const result = check({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER }, { scopes: ['usage:read', 'items:read'] })] }, billing);
    expect(result).toMatchObject({
      kind: 'principal',
      principal: { principalId: 'cert:billing', authMethod: 'certificate', tenant: 'billing', scopes: ['items:read', 'usage:read'], admin: false, certificate: 'billing' },
      certificate: { serial: billing.serial.replace(/^0+/, ''), subject: 'CN=billing,O=Example' },
    });
  });

  it('the same subject from another CA of the truststore is unknown', () => {
    expect(check({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER })] }, billingFromOtherCa)).toMatchObject({
      kind: 'refused',
      reason: 'certificate_unknown',
    });
  });

  it('by SAN and issuer; by fingerprint first; two equally specific matches are ambiguous', () => {
    const bySan = principal('spiffe', { san: 'URI:spiffe://example.org/billing', issuer: ISSUER });
    const byDns = principal('dns', { san: 'DNS:billing.internal', issuer: ISSUER });
    const byPin = principal('pinned', { sha256: billing.sha256 });
    expect(check({ principals: [bySan] }, billing)).toMatchObject({ kind: 'principal', principal: { principalId: 'cert:spiffe' } });
    expect(check({ principals: [bySan, byPin] }, billing)).toMatchObject({ kind: 'principal', principal: { principalId: 'cert:pinned' } });
    expect(check({ principals: [bySan, byDns] }, billing)).toMatchObject({ kind: 'refused', reason: 'certificate_ambiguous' });
  });

  it('revoked by configuration: by fingerprint, or by serial and issuer', () => {
    const mapped = principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER });
    expect(check({ principals: [mapped], revoked: [{ sha256: billing.sha256 }] }, billing)).toMatchObject({ kind: 'refused', reason: 'certificate_revoked' });
    expect(check({ principals: [mapped], revoked: [{ serial: `00${billing.serial}`, issuer: ISSUER }] }, billing)).toMatchObject({ kind: 'refused', reason: 'certificate_revoked' });
    // The same serial from another issuer is another certificate.
    expect(check({ principals: [mapped], revoked: [{ serial: billing.serial, issuer: 'CN=Someone Else CA,O=Elsewhere' }] }, billing)).toMatchObject({ kind: 'principal' });
  });

  it('expired and not-yet-valid certificates are refused, mapped or not', () => {
    const all = { principals: [principal('old', { subject: 'CN=old,O=Example', issuer: ISSUER }), principal('future', { subject: 'CN=future,O=Example', issuer: ISSUER })] };
    expect(check(all, expired)).toMatchObject({ kind: 'refused', reason: 'certificate_expired' });
    expect(check(all, notYetValid)).toMatchObject({ kind: 'refused', reason: 'certificate_expired' });
    // The clock decides: the billing certificate 31 days on is past its end.
    expect(check({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER })] }, billing, Date.now() + 31 * DAY)).toMatchObject({
      kind: 'refused',
      reason: 'certificate_expired',
    });
  });

  it('unmapped: refused by default, passed on to the credential with unmapped: credential', () => {
    expect(check({ principals: [] }, reports)).toMatchObject({ kind: 'refused', reason: 'certificate_unknown' });
    expect(check({ principals: [], unmapped: 'credential' }, reports)).toEqual({ kind: 'none' });
  });

  it('an unreadable certificate is refused, recorded with what API Gateway said of it (bounded)', () => {
    const verifier = new ClientCertificateVerifier({ config: config({ principals: [] }) });
    expect(verifier.check({ clientCertPem: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----', serialNumber: 'a1:b2', subjectDN: `CN=${'x'.repeat(500)}` })).toMatchObject({
      kind: 'refused',
      reason: 'certificate_malformed',
      certificate: { serial: 'A1B2', subject: expect.stringMatching(/^CN=x{253}$/) },
    });
    expect(verifier.check(null)).toEqual({ kind: 'none' });
  });
});

describe('issue 17: the authorizer with a client certificate', () => {
  const notReached = { verify: () => Promise.reject(new Error('not reached')) };

  function authorizer(cfg: unknown) {
    const refusals: RefusalEvent[] = [];
    const decide = createAuthorizer({
      api: GATEHOUSE_API,
      mode: 'enforce',
      anonymousScopes: [],
      keys: notReached,
      tokens: notReached,
      certificates: new ClientCertificateVerifier({ config: config(cfg) }),
      cache: new DecisionCache({ maxEntries: 10, positiveTtlMs: 1000, negativeTtlMs: 1000 }),
      log: captureLog(),
      onRefusal: (r) => refusals.push(r),
    });
    return { decide, refusals };
  }

  const withCert = (cert: IssuedCertificate, headers: Record<string, string> = {}) => {
    const event = authorizerEvent({ headers });
    event.requestContext.identity.clientCert = presented(cert);
    return event;
  };

  it('certificate mode: the certificate alone is the principal; a key beside it is refused', async () => {
    const { decide, refusals } = authorizer({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER })] });
    const allowed = await decide(withCert(billing));
    expect(principalFromContext(allowed.context, GATEHOUSE_API.scopes)).toMatchObject({ principalId: 'cert:billing', authMethod: 'certificate', scopes: ['items:read'], certificate: 'billing' });
    await expect(decide(withCert(billing, { 'X-API-Key': 'gth_live_abc' }))).rejects.toThrow(UNAUTHORIZED);
    expect(refusals.at(-1)).toMatchObject({ reason: 'conflicting_credentials', credentialKind: 'certificate' });
  });

  it('expired, unknown and revoked certificates get the same 401, audited by serial and subject, never the PEM', async () => {
    const { decide, refusals } = authorizer({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER })], revoked: [{ sha256: billing.sha256 }] });
    for (const cert of [expired, reports, billing]) await expect(decide(withCert(cert))).rejects.toThrow(UNAUTHORIZED);
    expect(refusals.map((r) => r.reason)).toEqual(['certificate_expired', 'certificate_unknown', 'certificate_revoked']);
    const line = refusalLine(refusals[2]!, Date.now());
    expect(line).not.toMatch(/BEGIN CERTIFICATE|MII/);
    expect(parseBookkeepingLine(line.trim())).toMatchObject({ credentialKind: 'certificate', certificateSerial: billing.serial.replace(/^0+/, ''), certificateSubject: 'CN=billing,O=Example' });
  });

  it('certificate+credential mode: the certificate without a credential is refused', async () => {
    const { decide, refusals } = authorizer({ principals: [principal('billing', { subject: 'CN=billing,O=Example', issuer: ISSUER }, { mode: 'certificate+credential' })] });
    await expect(decide(withCert(billing))).rejects.toThrow(UNAUTHORIZED);
    expect(refusals.at(-1)).toMatchObject({ reason: 'certificate_needs_credential' });
  });
});
