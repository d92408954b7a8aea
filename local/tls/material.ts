/**
 * The local stack's TLS files, in `<state dir>/tls/` (mode 0600 in the 0700 state directory):
 * - `ca.pem`, `ca-key.pem`: the local CA. Kept across restarts with `--persist` (so a client that trusts it keeps
 *   trusting it); otherwise a new one every start, like the rest of the state.
 * - `server.pem`, `server-key.pem`: the gateway's certificate (localhost, 127.0.0.1, ::1), issued every start.
 * - with `--mtls`: `client.pem`, `client-key.pem`, a client certificate the local CA issued
 *   (`CN=gatehouse-local-client,O=Gatehouse local`), for curl, the CLI and the client library.
 *
 * The server policy mirrors the deployment's (infra/domain-config.ts): TLS 1.3 only for `--https`; TLS 1.2 and up
 * for `--mtls`, where API Gateway allows no newer policy; with `--mtls` a connection without a certificate the local
 * CA issued, or with an expired one, fails in the handshake — nothing reaches the gateway.
 */
import { readFile, writeFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type * as CaModule from './ca.js';
import type { IssuedCertificate, LocalCa } from './ca.js';

/** Loaded on first use: @peculiar/x509 is an optional peer of the package, needed only with --https or --mtls. */
async function loadCa(): Promise<typeof CaModule> {
  try {
    return await import('./ca.js');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error('--https and --mtls need @peculiar/x509 and reflect-metadata: npm install --save-dev @peculiar/x509 reflect-metadata', { cause: error });
  }
}

export const TLS_MODES = ['https', 'mtls'] as const;
export type LocalTlsMode = (typeof TLS_MODES)[number];

export const TLS_DIR = 'tls';
export const LOCAL_CLIENT_SUBJECT = 'CN=gatehouse-local-client,O=Gatehouse local';

export interface LocalTlsFiles {
  readonly ca: string;
  readonly caKey: string;
  readonly server: string;
  readonly serverKey: string;
  readonly client?: string;
  readonly clientKey?: string;
}

export interface LocalTls {
  readonly mode: LocalTlsMode;
  readonly ca: LocalCa;
  readonly server: IssuedCertificate;
  /** `--mtls`: the client certificate issued for this machine's tools. */
  readonly client?: IssuedCertificate;
  readonly files: LocalTlsFiles;
}

async function writePrivate(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The CA to use: the persisted one when asked and present, else a new one. */
async function caFor(dir: string, persist: boolean): Promise<LocalCa> {
  const { createLocalCa, loadLocalCa } = await loadCa();
  if (persist) {
    const [cert, key] = await Promise.all([readIfPresent(join(dir, 'ca.pem')), readIfPresent(join(dir, 'ca-key.pem'))]);
    if (cert && key) {
      try {
        return await loadLocalCa(cert, key);
      } catch {
        // Unreadable (or from another tool): a new CA, as without --persist.
      }
    }
  }
  return createLocalCa();
}

/** Creates (or, with persist, reuses) the CA and issues this run's certificates into `<stateDir>/tls/`. */
export async function prepareLocalTls(stateDir: string, mode: LocalTlsMode, persist: boolean): Promise<LocalTls> {
  const dir = join(stateDir, TLS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await caFor(dir, persist);
  const { issueClientCertificate, issueServerCertificate } = await loadCa();
  const [server, client] = await Promise.all([issueServerCertificate(ca), mode === 'mtls' ? issueClientCertificate(ca, { subject: LOCAL_CLIENT_SUBJECT }) : undefined]);
  const files: LocalTlsFiles = {
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    server: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    ...(client ? { client: join(dir, 'client.pem'), clientKey: join(dir, 'client-key.pem') } : {}),
  };
  await Promise.all([
    writePrivate(files.ca, ca.certPem),
    writePrivate(files.caKey, ca.keyPem),
    writePrivate(files.server, server.certPem),
    writePrivate(files.serverKey, server.keyPem),
    ...(client && files.client && files.clientKey ? [writePrivate(files.client, client.certPem), writePrivate(files.clientKey, client.keyPem)] : []),
  ]);
  return { mode, ca, server, ...(client ? { client } : {}), files };
}

/** The HTTPS server's options for this mode. */
export function serverTlsOptions(tls: LocalTls): TlsOptions & SecureContextOptions {
  const mtls = tls.mode === 'mtls';
  return {
    cert: tls.server.certPem,
    key: tls.server.keyPem,
    minVersion: mtls ? 'TLSv1.2' : 'TLSv1.3',
    ...(mtls ? { ca: tls.ca.certPem, requestCert: true, rejectUnauthorized: true } : {}),
  };
}
