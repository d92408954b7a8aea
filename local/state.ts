/**
 * The local stack's state directory (`.gatehouse/`, or GATEHOUSE_STATE_DIR):
 * - `local.json` — always written, exactly the CONTRACT §7 shape: where things are and the credentials to try them.
 * - `.gitignore` — ignores everything here, wherever GATEHOUSE_STATE_DIR puts the directory.
 * - with `--persist`: `state.json` (the pepper, the OIDC signing key, users with their passwords and subs, client
 *   ids and secrets, the IAM key) and `dynamodb/` (dynalite's LevelDB), so keys, items, passwords and tenants
 *   survive a restart.
 * Everything here is a secret: the directory is 0700 and the files 0600.
 */
import { randomBytes } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export const DEFAULT_STATE_DIR = '.gatehouse';
export const LOCAL_JSON = 'local.json';
export const STATE_JSON = 'state.json';
export const DYNAMODB_DIR = 'dynamodb';

/** `.gatehouse/local.json` (CONTRACT §7). */
export interface LocalConfig {
  apiUrl: string;
  adminKey: string;
  oidc: {
    issuer: string;
    tokenEndpoint: string;
    authorizationEndpoint: string;
    machineClient: { clientId: string; clientSecret: string; scopes: string[] };
    loginClient: { clientId: string; redirectUris: string[] };
    users: { username: string; password: string; groups: string[] }[];
  };
  iam: { region: string; accessKeyId: string; secretAccessKey: string };
  /** With `--https` or `--mtls` (local/tls): the CA to trust and, with `--mtls`, a client certificate it issued. */
  tls?: {
    mode: 'https' | 'mtls';
    ca: string;
    clientCertificate?: { cert: string; key: string; subject: string; issuer: string; sha256: string };
  };
}

const persistedState = z.object({
  version: z.literal(1),
  pepper: z.string().min(32),
  signingKey: z.record(z.string(), z.unknown()),
  users: z.array(z.object({ username: z.string().min(1), password: z.string().min(1), groups: z.array(z.string()), sub: z.string().min(1) })).min(1),
  machineClient: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) }),
  loginClient: z.object({ clientId: z.string().min(1) }),
  /** The console's client (absent in state written before the console existed: a new one is made). */
  consoleClient: z.object({ clientId: z.string().min(1) }).optional(),
  iam: z.object({ accessKeyId: z.string().min(16), secretAccessKey: z.string().min(32), userId: z.string().min(1) }),
  /** The OIDC provider's port, reused when free so the issuer (and tokens issued before) stay valid. */
  oidcPort: z.number().int().min(1).max(65535).optional(),
});

export type PersistedState = Omit<z.output<typeof persistedState>, 'signingKey'> & { signingKey: JsonWebKey };

export function stateDirOf(env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): string {
  return resolve(cwd, env.GATEHOUSE_STATE_DIR || DEFAULT_STATE_DIR);
}

export const STATE_GITIGNORE = '.gitignore';

/**
 * The directory's own `.gitignore`: everything in it is a secret (the admin key, passwords), and
 * GATEHOUSE_STATE_DIR may put it anywhere inside a repository, where the repository's ignore rules do not reach.
 * `*` ignores the file itself too, so the directory never shows up in `git status`.
 */
const GITIGNORE_TEXT = '# Written by the Gatehouse local stack: everything here is a secret (the admin key, passwords). Never commit it.\n*\n';

export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Left alone when present: a person may have written their own.
  await writeFile(join(dir, STATE_GITIGNORE), GITIGNORE_TEXT, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
}

/** Writes a secret file atomically (temp file + rename) with mode 0600, whatever mode an older file had. */
export async function writeSecretJson(file: string, value: unknown): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${file} is not valid JSON: delete it (or the whole state directory) to start afresh`);
  }
}

export async function readPersistedState(dir: string): Promise<PersistedState | undefined> {
  const file = join(dir, STATE_JSON);
  const raw = await readJson(file);
  if (raw === undefined) return undefined;
  const parsed = persistedState.safeParse(raw);
  if (!parsed.success) throw new Error(`${file} is not a Gatehouse local state file: delete the state directory to start afresh`);
  return parsed.data;
}

/** The admin key of the previous run, if its local.json is there (kept across restarts with --persist). */
export async function readPreviousAdminKey(dir: string): Promise<string | undefined> {
  const raw = await readJson(join(dir, LOCAL_JSON)).catch(() => undefined);
  const key = (raw as { adminKey?: unknown } | undefined)?.adminKey;
  return typeof key === 'string' && key.startsWith('gth_') ? key : undefined;
}

const BASE32_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomUpper(length: number): string {
  return Array.from(randomBytes(length), (byte) => BASE32_UPPER[byte % 32]).join('');
}

/** An IAM-user-shaped access key (AKIA…, 20 characters), secret (40) and user id (AIDA…). */
export function generateIamKey(): PersistedState['iam'] {
  return {
    accessKeyId: `AKIA${randomUpper(16)}`,
    secretAccessKey: randomBytes(30).toString('base64').replaceAll('=', ''),
    userId: `AIDA${randomUpper(17)}`,
  };
}

export function generatePepper(): string {
  return randomBytes(32).toString('base64url');
}
