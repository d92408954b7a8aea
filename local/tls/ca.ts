/**
 * The local certificate authority: what lets `npm start -- --https` serve the gateway over TLS and `--mtls` ask
 * for client certificates, all on one machine. node:crypto cannot make X.509 certificates, so they are built with
 * @peculiar/x509 (TypeScript, on the platform's WebCrypto: the keys are Node's own), which needs the
 * reflect-metadata polyfill its dependency injection uses. Keys are ECDSA P-256 with SHA-256 signatures: what API
 * Gateway accepts in a truststore too, so a bundle made here can be tried against a real domain.
 *
 * Nothing here is for production: the CA key sits in the state directory (mode 0600) beside the certificates.
 */
import 'reflect-metadata';
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Extended key usages (RFC 5280 §4.2.1.12). */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER, `AB:CD:…` (what a `{ sha256 }` match names). */
  readonly sha256: string;
  /** Hex, upper case (what a `{ serial, issuer }` revocation names). */
  readonly serial: string;
  /** RFC 4514 (what a `{ subject }` match names). */
  readonly subject: string;
}

/**
 * A CA is a certificate and its key like any other: its PEMs are all it needs to sign. (Plain strings, so the package's
 * declarations never name @peculiar/x509's types: a team without it still type-checks against gatehouse/local.)
 */
export type LocalCa = IssuedCertificate;

/** PKCS #8 PEM of a WebCrypto key, and back: node:crypto's KeyObject does the encoding. */
const pemOfKey = (key: CryptoKey): string => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
const derOfKey = (pem: string): Buffer => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });

/** A positive 16-byte serial number (RFC 5280 allows up to 20; the top bit clear keeps it positive). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function describe(cert: x509.X509Certificate, privateKey: CryptoKey): IssuedCertificate {
  const certPem = cert.toString('pem');
  const node = new NodeX509(certPem);
  return {
    certPem: `${certPem}\n`,
    keyPem: pemOfKey(privateKey),
    sha256: node.fingerprint256,
    serial: node.serialNumber.toUpperCase(),
    subject: node.subject.split('\n').reverse().join(','),
  };
}

export interface CaOptions {
  /** Default `CN=Gatehouse local CA,O=Gatehouse`. */
  readonly subject?: string;
  readonly validDays?: number;
}

/** A new self-signed CA (it may sign end-entity certificates only: path length 0). */
export async function createLocalCa(options: CaOptions = {}): Promise<LocalCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: rfc4514ToCertificateOrder(options.subject ?? 'CN=Gatehouse local CA,O=Gatehouse'),
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validDays ?? 365) * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return describe(cert, keys.privateKey);
}

/** The CA of an earlier run (its certificate and key as written to the state directory); throws if unusable. */
export async function loadLocalCa(certPem: string, keyPem: string): Promise<LocalCa> {
  return describe(new x509.X509Certificate(certPem), await signingKeyOf(keyPem));
}

function signingKeyOf(keyPem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', derOfKey(keyPem), ALGORITHM, true, ['sign']);
}

/**
 * RFC 4514 text lists the most specific RDN first (`CN=…,O=…`); a certificate stores the most general first. The
 * generator writes names in the order given, so the text is reversed into certificate order.
 */
function rfc4514ToCertificateOrder(subject: string): string {
  return subject.split(/(?<!\\),/).reverse().join(', ');
}

export interface LeafOptions {
  /** RFC 4514, e.g. `CN=billing,O=Example`. */
  readonly subject: string;
  /** Default: one minute ago. */
  readonly notBefore?: Date;
  /** Default: 30 days after notBefore. */
  readonly notAfter?: Date;
  /** SAN entries: `{ dns }`, `{ ip }`, `{ uri }`, `{ email }`. */
  readonly altNames?: readonly ({ dns: string } | { ip: string } | { uri: string } | { email: string })[];
}

async function issue(ca: LocalCa, options: LeafOptions, usage: string): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const altNames = (options.altNames ?? []).map((n) =>
    'dns' in n ? { type: 'dns' as const, value: n.dns } : 'ip' in n ? { type: 'ip' as const, value: n.ip } : 'uri' in n ? { type: 'url' as const, value: n.uri } : { type: 'email' as const, value: n.email },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: rfc4514ToCertificateOrder(options.subject),
    issuer: caCert.subject,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + 30 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: await signingKeyOf(ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
    ],
  });
  return describe(cert, keys.privateKey);
}

/** The gateway's certificate: `localhost`, 127.0.0.1 and ::1. */
export function issueServerCertificate(ca: LocalCa, hostnames: readonly string[] = []): Promise<IssuedCertificate> {
  const names = [...new Set(['localhost', ...hostnames])].map((dns) => ({ dns }));
  return issue(ca, { subject: 'CN=localhost,O=Gatehouse local', altNames: [...names, { ip: '127.0.0.1' }, { ip: '::1' }] }, SERVER_AUTH);
}

/** A client certificate for mutual TLS. */
export function issueClientCertificate(ca: LocalCa, options: LeafOptions): Promise<IssuedCertificate> {
  return issue(ca, options, CLIENT_AUTH);
}

