/**
 * AWS Signature Version 4 for IAM routes (`execute-api`), with @smithy/signature-v4. The payload hash is part of
 * the signature (and sent as `x-amz-content-sha256`), so a changed body fails verification. Credentials come from
 * the standard provider chain (environment, shared config and SSO, container and instance roles) unless given.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

import { SignatureV4 } from '@smithy/signature-v4';

import type { Authenticator } from './auth.js';
import { GatehouseCredentialsError } from './errors.js';

type SignerInit = ConstructorParameters<typeof SignatureV4>[0];
export type AwsCredentials = Exclude<SignerInit['credentials'], (...args: never[]) => unknown>;
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;
type SourceData = string | ArrayBuffer | ArrayBufferView;

const toBuffer = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 (or HMAC-SHA256 when given a secret) over node:crypto, in the shape the signer expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface SigV4Options {
  /** The API's region (e.g. from the stack outputs or the local stack's `iam.region`). */
  region: string;
  /** Explicit credentials or a provider; default `fromNodeProviderChain()`. */
  credentials?: AwsCredentials | AwsCredentialsProvider;
  /** Default `execute-api`. */
  service?: string;
}

async function defaultChain(): Promise<AwsCredentialsProvider> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return fromNodeProviderChain();
}

export function sigv4Auth(options: SigV4Options): Authenticator {
  if (!options.region) throw new GatehouseCredentialsError('SigV4 needs a region.');
  let provider: Promise<AwsCredentialsProvider> | undefined;
  const credentials = async (): Promise<AwsCredentials> => {
    const given = options.credentials;
    if (given !== undefined && typeof given !== 'function') return given;
    provider ??= given ? Promise.resolve(given) : defaultChain();
    try {
      return await (await provider)();
    } catch (error) {
      throw new GatehouseCredentialsError(
        `No AWS credentials for SigV4 (${(error as Error).message}). Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use the local profile.`,
        { cause: error },
      );
    }
  };
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials,
    sha256: NodeSha256,
    applyChecksum: true,
    uriEscapePath: true,
  });
  return {
    kind: 'sigv4',
    async apply(request) {
      const { url } = request;
      const headers: Record<string, string> = { host: url.host };
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of url.searchParams) {
        const existing = query[name];
        query[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
      }
      const signed = await signer.sign({
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers,
        body: request.body ?? '',
      });
      for (const [name, value] of Object.entries(signed.headers)) {
        if (name.toLowerCase() !== 'host') request.headers.set(name, value);
      }
    },
  };
}
