/**
 * The `clientCertificates` setting (GATEHOUSE_CLIENT_CERTIFICATES; `clientCertificates` in cdk.json context): which
 * client certificates — the ones API Gateway validated against the custom domain's truststore — name a machine
 * principal, which are revoked, and what happens to a valid certificate that names none.
 *
 * ```json
 * { "principals": [
 *     { "name": "billing", "match": { "subject": "CN=billing,O=Example", "issuer": "CN=Example Services CA,O=Example" },
 *       "tenant": "billing", "scopes": ["items:read"], "mode": "certificate" },
 *     { "name": "reports", "match": { "sha256": "AB:CD:…" }, "tenant": "reports", "scopes": ["usage:read"],
 *       "mode": "certificate+credential" } ],
 *   "revoked": [ { "sha256": "…" }, { "serial": "0A1B…", "issuer": "CN=Example Services CA,O=Example" } ],
 *   "unmapped": "refuse" }
 * ```
 *
 * Rules, each a decision (docs/custom-domain.md, SECURITY.md):
 * - A subject or SAN match always names the issuer too: a truststore may hold several CAs, and each of them can
 *   issue a certificate with any subject. A SHA-256 fingerprint pins one certificate and needs nothing else.
 * - `mode` has no default: `certificate` (the certificate alone is the credential) or `certificate+credential` (the
 *   certificate and an API key or token of the same tenant; scopes are what both allow).
 * - Tenants are checked as token tenants are (tenant.ts): bounded, visible, never a reserved tenant.
 * - Scopes must be declared and never credential scopes ({@link resolveClientCertificates}): a certificate can only
 *   be revoked by configuration, and keys minted by it would outlive that revocation and travel without it.
 */
import * as z from 'zod/mini';
import { parseDistinguishedName, type NameAttribute } from './distinguished-name.js';
import { ConfigError } from './errors.js';
import { isScopeName, type ScopeCatalog } from './scopes.js';
import { isReservedTenant, normaliseTenant } from './tenant.js';

export const CLIENT_CERTIFICATES_ENV = 'GATEHOUSE_CLIENT_CERTIFICATES';

export const CERTIFICATE_MODES = ['certificate', 'certificate+credential'] as const;
export type CertificateMode = (typeof CERTIFICATE_MODES)[number];

/** What happens to a valid, unrevoked certificate that no principal names. */
export const UNMAPPED_POLICIES = ['refuse', 'credential'] as const;

export const CLIENT_CERTIFICATES_EXPECTED =
  'JSON {principals: [{name, match: {sha256} | {subject, issuer} | {san, issuer}, tenant, scopes, mode: certificate | certificate+credential}], revoked?: [{sha256} | {serial, issuer}], unmapped?: refuse | credential}';

/** `AB:CD:…` or `abcd…`: 32 bytes, stored upper case without colons. */
export function normaliseFingerprint(value: string): string {
  return value.replaceAll(':', '').toUpperCase();
}

/** A serial number in hex, with or without colons or leading zeros, as one canonical string. */
export function normaliseSerial(value: string): string {
  return value.replaceAll(':', '').toUpperCase().replace(/^0+(?=.)/, '');
}

const fingerprint = z.pipe(
  z.string().check(z.regex(/^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/, 'a SHA-256 fingerprint: 64 hex digits, colons allowed')),
  z.transform(normaliseFingerprint),
);

const distinguishedName = z.pipe(
  z.string().check(
    z.maxLength(1024),
    z.refine((s) => parseDistinguishedName(s) !== undefined, 'a distinguished name such as CN=billing,O=Example (RFC 4514)'),
  ),
  z.transform((s): readonly NameAttribute[] => parseDistinguishedName(s)!),
);

/** The SAN forms node:crypto reports (`DNS:`, `URI:`, `email:`, `IP Address:`), as one entry. */
const SAN_ENTRY = /^(DNS|URI|email|IP Address):[^\s,"]{1,1024}$/;
const san = z.string().check(z.regex(SAN_ENTRY, 'one SAN entry such as DNS:billing.internal, URI:spiffe://example.org/billing or email:ops@example.com'));

const match = z.union([
  z.strictObject({ sha256: fingerprint }),
  z.strictObject({ subject: distinguishedName, issuer: distinguishedName }),
  z.strictObject({ san, issuer: distinguishedName }),
]);

const tenant = z.pipe(
  z.string().check(
    z.refine((t) => normaliseTenant(t).ok, 'a tenant: at most 256 UTF-8 bytes, no control or invisible characters, no surrounding white space'),
    z.refine((t) => !isReservedTenant(t), 'not a reserved tenant (admin, anonymous, _system, public, iam)'),
  ),
  z.transform((t) => (normaliseTenant(t) as { tenant: string }).tenant),
);

const principal = z.strictObject({
  // principalId `cert:<name>`; also what audit events and whoami show.
  name: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and hyphens (at most 63)')),
  match,
  tenant,
  scopes: z.array(z.string().check(z.refine(isScopeName, 'a scope name such as items:read'))).check(z.minLength(1), z.maxLength(100)),
  mode: z.enum(CERTIFICATE_MODES),
});

const revoked = z.union([z.strictObject({ sha256: fingerprint }), z.strictObject({ serial: z.pipe(z.string().check(z.regex(/^(?:[0-9A-Fa-f]{2}:?){1,20}$/, 'a serial number in hex')), z.transform(normaliseSerial)), issuer: distinguishedName })]);

export const clientCertificatesSchema = z
  .strictObject({
    principals: z._default(z.array(principal).check(z.maxLength(1000)), []),
    revoked: z._default(z.array(revoked).check(z.maxLength(10_000)), []),
    unmapped: z._default(z.enum(UNMAPPED_POLICIES), 'refuse'),
  })
  .check(
    z.refine((c) => new Set(c.principals.map((p) => p.name)).size === c.principals.length, 'principal names must be distinct'),
    z.refine((c) => new Set(c.principals.map((p) => matchKey(p.match))).size === c.principals.length, 'two principals cannot have the same match'),
  );

export type ClientCertificatesConfig = z.output<typeof clientCertificatesSchema>;
export type CertificatePrincipalConfig = ClientCertificatesConfig['principals'][number];
export type CertificateMatch = CertificatePrincipalConfig['match'];

function matchKey(m: CertificateMatch): string {
  if ('sha256' in m) return `sha256:${m.sha256}`;
  const issuer = JSON.stringify(m.issuer.map(([t, v]) => `${t}=${v}`).sort());
  return 'subject' in m ? `subject:${JSON.stringify(m.subject.map(([t, v]) => `${t}=${v}`).sort())}:${issuer}` : `san:${m.san}:${issuer}`;
}

/**
 * The configuration checked against the deployment's scope catalog: every scope declared, none a credential scope.
 * Scopes come back in the catalog's order. Throws ConfigError naming the setting (its env or context name).
 */
export function resolveClientCertificates(config: ClientCertificatesConfig | null, catalog: ScopeCatalog, settingName = CLIENT_CERTIFICATES_ENV): ClientCertificatesConfig | null {
  if (config === null) return null;
  const principals = config.principals.map((p, i) => {
    const unknown = p.scopes.filter((s) => !catalog.has(s));
    if (unknown.length > 0) throw new ConfigError(settingName, `declared scopes (at principals.${i}.scopes: not declared: ${unknown.join(' ')})`);
    const credential = p.scopes.filter((s) => catalog.isCredential(s));
    if (credential.length > 0) {
      throw new ConfigError(
        settingName,
        `no credential scope for a certificate principal (at principals.${i}.scopes: ${credential.join(' ')}): keys it minted would outlive the certificate's revocation and work without it`,
      );
    }
    return { ...p, scopes: catalog.sort(p.scopes) };
  });
  return { ...config, principals };
}

