/**
 * Checks a truststore bundle (PEM certificates) before it is uploaded for API Gateway's mutual TLS: what API Gateway
 * would otherwise report as warnings at deploy time, or not at all, fails synthesis with the certificate's subject.
 *
 * - Only `CERTIFICATE` blocks: a private key in the bundle would be uploaded to S3 with it.
 * - At most {@link MAX_TRUSTSTORE_CERTIFICATES} certificates and {@link MAX_TRUSTSTORE_BYTES} bytes: API Gateway's
 *   documented truststore quotas as of this writing (not verifiable from here: check the current quotas page).
 * - Keys API Gateway supports: RSA of 2048 bits or more, ECDSA on P-256 or larger. (It also requires SHA-256 or
 *   stronger signatures, which node:crypto does not report: not checked here.)
 * - No certificate past its end: API Gateway does not warn when a trusted certificate expires later, so rotate
 *   before (docs/custom-domain.md "Rotating the truststore").
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const MAX_TRUSTSTORE_CERTIFICATES = 1000;
export const MAX_TRUSTSTORE_BYTES = 1024 * 1024;

export class TruststoreError extends Error {
  constructor(file: string, problem: string) {
    super(`Truststore ${file}: ${problem}`);
    this.name = 'TruststoreError';
  }
}

export interface TruststoreSummary {
  readonly certificates: number;
  readonly bytes: number;
  /** The earliest end of validity among the certificates (rotate before it). */
  readonly firstExpiry: Date;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function keyProblem(cert: X509Certificate): string | undefined {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return (details.modulusLength ?? 0) >= 2048 ? undefined : `an RSA key of ${details.modulusLength ?? '?'} bits (API Gateway needs 2048 or more)`;
  }
  if (key.asymmetricKeyType === 'ec') {
    return ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '') ? undefined : `an EC key on ${details.namedCurve ?? '?'} (API Gateway needs P-256 or larger)`;
  }
  return `a ${key.asymmetricKeyType ?? 'unknown'} key (API Gateway supports RSA and ECDSA)`;
}

/** Reads and checks `file`; throws TruststoreError naming the first problem. */
export function checkTruststore(file: string, now = Date.now()): TruststoreSummary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TruststoreError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TRUSTSTORE_BYTES) throw new TruststoreError(file, `${bytes} bytes; API Gateway takes at most ${MAX_TRUSTSTORE_BYTES}`);
  const blocks = [...text.matchAll(BLOCK)];
  const other = blocks.find((b) => b[1] !== 'CERTIFICATE');
  if (other) throw new TruststoreError(file, `holds a ${other[1]} block: a truststore holds certificates only (never a private key)`);
  if (blocks.length === 0) throw new TruststoreError(file, 'holds no PEM certificate');
  if (blocks.length > MAX_TRUSTSTORE_CERTIFICATES) throw new TruststoreError(file, `${blocks.length} certificates; API Gateway takes at most ${MAX_TRUSTSTORE_CERTIFICATES}`);
  let firstExpiry = Infinity;
  blocks.forEach((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block[0]);
    } catch {
      throw new TruststoreError(file, `certificate ${i + 1} is not a valid X.509 certificate`);
    }
    const subject = cert.subject.replaceAll('\n', ', ');
    const problem = keyProblem(cert);
    if (problem) throw new TruststoreError(file, `certificate ${i + 1} (${subject}) has ${problem}`);
    const end = Date.parse(cert.validTo);
    if (!(end > now)) throw new TruststoreError(file, `certificate ${i + 1} (${subject}) expired on ${cert.validTo}`);
    firstExpiry = Math.min(firstExpiry, end);
  });
  return { certificates: blocks.length, bytes, firstExpiry: new Date(firstExpiry) };
}
