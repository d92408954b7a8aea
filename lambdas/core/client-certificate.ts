/**
 * Certificate-bound machine principals: what the client certificate of a request means, once API Gateway has
 * validated it against the custom domain's truststore (mutual TLS) and handed it to the authorizer in
 * `requestContext.identity.clientCert` (the local gateway builds the same shape from its TLS socket).
 *
 * The certificate itself (`clientCertPem`) is read with node:crypto, never API Gateway's printed `subjectDN` or
 * `serialNumber` strings (their exact format is not documented). In this order:
 * 1. unreadable → refused (`certificate_malformed`);
 * 2. revoked by configuration (fingerprint, or serial and issuer) → `certificate_revoked`;
 * 3. outside its validity period at this instant → `certificate_expired` (API Gateway checks this at the handshake;
 *    this is defence in depth, and the only check when a long-lived connection outlives the certificate);
 * 4. the principal it names: by fingerprint first, then by subject and issuer, then by a SAN and issuer; two
 *    principals of the same rank naming it → `certificate_ambiguous`; none → `certificate_unknown`, unless the
 *    configuration says `unmapped: credential` (then the request goes on as if it carried no certificate).
 * Every refusal is the same 401 as any refused credential. What a refusal records is the certificate's serial number
 * and subject ({@link CertificateFacts}), never the certificate.
 *
 * Pure apart from the clock: no I/O, no configuration reads.
 */
import { X509Certificate } from 'node:crypto';
import type { APIGatewayEventClientCertificate } from 'aws-lambda';
import { normaliseFingerprint, normaliseSerial, type CertificatePrincipalConfig, type ClientCertificatesConfig } from './client-certificate-config.js';
import { formatName, nameFromNode, sameName, type NameAttribute } from './distinguished-name.js';
import type { Principal } from './principal.js';

export type CertificateRefusal =
  | 'certificate_malformed'
  | 'certificate_revoked'
  | 'certificate_expired'
  | 'certificate_unknown'
  | 'certificate_ambiguous'
  | 'certificate_needs_credential'
  | 'certificate_mismatch';

/** Every refusal reason this module (and the authorizer's use of it) can give, for the metrics vocabulary. */
export const CERTIFICATE_REFUSALS: readonly CertificateRefusal[] = [
  'certificate_malformed',
  'certificate_revoked',
  'certificate_expired',
  'certificate_unknown',
  'certificate_ambiguous',
  'certificate_needs_credential',
  'certificate_mismatch',
];

/** What the audit trail keeps of a certificate: public identifiers, bounded. Never the certificate. */
export interface CertificateFacts {
  /** Hex, upper case, no colons or leading zeros. */
  readonly serial: string;
  /** RFC 4514, most specific first. */
  readonly subject: string;
}

/** The certificate-bound part of a principal in `certificate+credential` mode. */
export interface CertificateBinding {
  readonly name: string;
  readonly tenant: string;
  readonly scopes: readonly string[];
}

export type CertificateCheck =
  /** No certificate, no configuration, or an unmapped certificate with `unmapped: credential`: credentials as usual. */
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly reason: CertificateRefusal; readonly certificate: CertificateFacts }
  /** `certificate` mode: this is the principal. */
  | { readonly kind: 'principal'; readonly principal: Principal; readonly certificate: CertificateFacts }
  /** `certificate+credential` mode: the credential must also pass, and {@link bindPrincipal} then narrows it. */
  | { readonly kind: 'bound'; readonly binding: CertificateBinding; readonly certificate: CertificateFacts };

/** The authorizer's principal id for a certificate principal. */
export const certificatePrincipalId = (name: string): string => `cert:${name}`;

/** A PEM longer than this is not a client certificate API Gateway would pass on (and is not parsed). */
const MAX_PEM_CHARS = 64 * 1024;
const MAX_FACT_CHARS = 256;

interface ReadCertificate {
  readonly fingerprint: string;
  readonly serial: string;
  readonly subject: readonly NameAttribute[];
  readonly issuer: readonly NameAttribute[];
  readonly sans: readonly string[];
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/**
 * `subjectAltName` as node:crypto prints it: `DNS:a, URI:b, IP Address:1.2.3.4`; an entry whose value has a comma or
 * a quote is JSON-quoted (`DNS:"a, b"`).
 */
export function subjectAltNames(printed: string | undefined): string[] {
  if (!printed) return [];
  const out: string[] = [];
  const entry = /(?:^|, )([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of printed.matchAll(entry)) {
    let value = m[2] ?? '';
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push(`${m[1]}:${value}`);
  }
  return out;
}

function readCertificate(pem: string): ReadCertificate | undefined {
  if (pem.length > MAX_PEM_CHARS) return undefined;
  try {
    const x509 = new X509Certificate(pem);
    const subject = nameFromNode(x509.subject);
    const issuer = nameFromNode(x509.issuer);
    const notBeforeMs = Date.parse(x509.validFrom);
    const notAfterMs = Date.parse(x509.validTo);
    if (!subject || !issuer || Number.isNaN(notBeforeMs) || Number.isNaN(notAfterMs)) return undefined;
    return {
      fingerprint: normaliseFingerprint(x509.fingerprint256),
      serial: normaliseSerial(x509.serialNumber),
      subject,
      issuer,
      sans: subjectAltNames(x509.subjectAltName),
      notBeforeMs,
      notAfterMs,
    };
  } catch {
    return undefined;
  }
}

const clip = (value: string): string => (value.length > MAX_FACT_CHARS ? value.slice(0, MAX_FACT_CHARS) : value);

/** What API Gateway said about a certificate that could not be read (its own strings, bounded). */
function factsFromEvent(cert: Partial<APIGatewayEventClientCertificate>): CertificateFacts {
  const serial = typeof cert.serialNumber === 'string' && /^[0-9A-Fa-f:]{1,128}$/.test(cert.serialNumber) ? normaliseSerial(cert.serialNumber) : 'unknown';
  const subject = typeof cert.subjectDN === 'string' ? clip(cert.subjectDN.replace(/\p{Cc}/gu, '?')) : 'unknown';
  return { serial, subject };
}

function matches(principal: CertificatePrincipalConfig, cert: ReadCertificate): 0 | 1 | 2 | 3 {
  const m = principal.match;
  if ('sha256' in m) return m.sha256 === cert.fingerprint ? 1 : 0;
  if (!sameName(m.issuer, cert.issuer)) return 0;
  if ('subject' in m) return sameName(m.subject, cert.subject) ? 2 : 0;
  return cert.sans.includes(m.san) ? 3 : 0;
}

export interface ClientCertificateVerifierOptions {
  /** The resolved setting (client-certificate-config.ts resolveClientCertificates). */
  readonly config: ClientCertificatesConfig;
  readonly now?: () => number;
}

export class ClientCertificateVerifier {
  private readonly config: ClientCertificatesConfig;
  private readonly now: () => number;
  private readonly revokedFingerprints: ReadonlySet<string>;

  constructor(options: ClientCertificateVerifierOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.revokedFingerprints = new Set(this.config.revoked.flatMap((r) => ('sha256' in r ? [r.sha256] : [])));
  }

  /** What the request's certificate (API Gateway's `requestContext.identity.clientCert`) means. */
  check(presented: Partial<APIGatewayEventClientCertificate> | null | undefined): CertificateCheck {
    if (!presented || typeof presented.clientCertPem !== 'string' || presented.clientCertPem === '') return { kind: 'none' };
    const cert = readCertificate(presented.clientCertPem);
    if (!cert) return { kind: 'refused', reason: 'certificate_malformed', certificate: factsFromEvent(presented) };
    const certificate: CertificateFacts = { serial: clip(cert.serial), subject: clip(formatName(cert.subject)) };
    const refused = (reason: CertificateRefusal): CertificateCheck => ({ kind: 'refused', reason, certificate });

    const revoked =
      this.revokedFingerprints.has(cert.fingerprint) ||
      this.config.revoked.some((r) => 'serial' in r && r.serial === cert.serial && sameName(r.issuer, cert.issuer));
    if (revoked) return refused('certificate_revoked');
    const now = this.now();
    if (now < cert.notBeforeMs || now > cert.notAfterMs) return refused('certificate_expired');

    let best: CertificatePrincipalConfig[] = [];
    let bestRank = 0;
    for (const principal of this.config.principals) {
      const rank = matches(principal, cert);
      if (rank === 0) continue;
      if (bestRank === 0 || rank < bestRank) {
        best = [principal];
        bestRank = rank;
      } else if (rank === bestRank) {
        best.push(principal);
      }
    }
    if (best.length > 1) return refused('certificate_ambiguous');
    const found = best[0];
    if (!found) return this.config.unmapped === 'credential' ? { kind: 'none' } : refused('certificate_unknown');
    if (found.mode === 'certificate+credential') {
      return { kind: 'bound', binding: { name: found.name, tenant: found.tenant, scopes: found.scopes }, certificate };
    }
    return {
      kind: 'principal',
      principal: {
        principalId: certificatePrincipalId(found.name),
        authMethod: 'certificate',
        tenant: found.tenant,
        scopes: found.scopes,
        admin: false,
        certificate: found.name,
      },
      certificate,
    };
  }
}

/**
 * `certificate+credential` mode: the credential's principal, bound to the certificate — refused unless it is of the
 * certificate's tenant; its scopes are those both allow; never an administrator (a machine identity is not one).
 */
export function bindPrincipal(principal: Principal, binding: CertificateBinding): Principal | undefined {
  if (principal.tenant !== binding.tenant) return undefined;
  const allowed = new Set(binding.scopes);
  return { ...principal, scopes: principal.scopes.filter((s) => allowed.has(s)), admin: false, certificate: binding.name };
}
