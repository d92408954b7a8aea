/**
 * Where the CLI keeps things, and profiles.
 *
 * - Config directory: `GATEHOUSE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/gatehouse`, else `~/.config/gatehouse`
 *   (mode 0700). `config.json` holds profiles saved with `gatehouse configure`; `tokens/<profile>.json` holds the
 *   tokens of `gatehouse login`. Every file is written atomically with mode 0600.
 * - Profile `local` is read from the local stack's `local.json` (`GATEHOUSE_STATE_DIR`, else `.gatehouse/` in the
 *   working directory): API URL, OIDC endpoints and login client, admin key and IAM credentials.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import { ALL_SCOPES } from '../lambdas/routes.js';
import { GatehouseClientError } from './errors.js';
import { parseLoopbackRedirect, type TokenSet } from './oidc.js';
import type { AwsCredentials } from './sigv4.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const LOCAL_PROFILE = 'local';
export const DEFAULT_PROFILE = 'default';

/** A usage or configuration problem: the CLI exits 2 and prints the message. */
export class ConfigurationError extends GatehouseClientError {}

export function configDir(env: Env): string {
  if (env.GATEHOUSE_CONFIG_DIR) return resolve(env.GATEHOUSE_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME) return join(resolve(env.XDG_CONFIG_HOME), 'gatehouse');
  return join(env.HOME || homedir(), '.config', 'gatehouse');
}

export function localStateDir(env: Env, cwd: string): string {
  return resolve(cwd, env.GATEHOUSE_STATE_DIR || '.gatehouse');
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new ConfigurationError(`Invalid profile name "${name}": letters, digits, '.', '_' and '-' (up to 64).`);
  return name;
}

// -------------------------------------------------------------------------------------------------------------
// Secret files
// -------------------------------------------------------------------------------------------------------------

/**
 * Creates the directory (and missing parents) with mode 0700. A directory that already existed is never chmod-ed
 * (it might be shared, like /tmp): if others can enter it, this refuses and says how to fix it.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) return;
  const info = await stat(dir);
  if (!info.isDirectory()) throw new ConfigurationError(`${dir} is not a directory.`);
  if ((info.mode & 0o077) !== 0) {
    throw new ConfigurationError(`${dir} is accessible by other users (mode ${(info.mode & 0o777).toString(8)}): run \`chmod 700 ${dir}\`, or set GATEHOUSE_CONFIG_DIR.`);
  }
}

/** Atomically writes JSON readable by the owner only (0600), whatever mode an older file had. */
export async function writePrivateJson(file: string, value: unknown): Promise<void> {
  await ensurePrivateDir(dirname(file));
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readJsonFile(file: string): Promise<unknown> {
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
    throw new ConfigurationError(`${file} is not valid JSON; fix or delete it.`);
  }
}

// -------------------------------------------------------------------------------------------------------------
// Profiles
// -------------------------------------------------------------------------------------------------------------

const httpUrl = z.url({ protocol: /^https?$/ });

/** What the CDK app deploys (infra/config.ts, infra/identity-stack.ts; a test keeps these in step). */
export const COGNITO_DEFAULTS = {
  /** Cognito allows plain http only for localhost, and matches the port exactly. */
  callbackUrl: 'http://localhost:8976/callback',
  resourceServerId: 'gatehouse',
} as const;

export const isCognitoIssuer = (issuer: string): boolean => /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[A-Za-z0-9-]+_[A-Za-z0-9]+$/.test(issuer);

const loopbackUrl = z.string().refine((value) => {
  try {
    parseLoopbackRedirect(value);
    return true;
  } catch {
    return false;
  }
}, 'an http://127.0.0.1, http://[::1] or http://localhost URL with a port and path, e.g. http://localhost:8976/callback');

export const savedProfileSchema = z.strictObject({
  apiUrl: httpUrl,
  issuer: httpUrl.optional(),
  clientId: z.string().min(1).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/).optional(),
  scopes: z.array(z.string().min(1)).optional(),
  authorizationEndpoint: httpUrl.optional(),
  tokenEndpoint: httpUrl.optional(),
  tokenUse: z.enum(['access', 'id']).optional(),
  callbackUrl: loopbackUrl.optional(),
  // Mutual TLS (a custom domain that requires client certificates): files, read at each call.
  clientCert: z.string().min(1).optional(),
  clientKey: z.string().min(1).optional(),
  caCert: z.string().min(1).optional(),
});
export type SavedProfile = z.output<typeof savedProfileSchema>;

const configFileSchema = z.object({ profiles: z.record(z.string(), savedProfileSchema).default({}) });
type ConfigFile = z.output<typeof configFileSchema>;

/** Everything a command may need about where and how to call. */
export interface Profile {
  name: string;
  apiUrl: string;
  region?: string;
  oidc?: {
    issuer: string;
    clientId: string;
    scopes: string[];
    authorizationEndpoint?: string;
    tokenEndpoint?: string;
    tokenUse: 'access' | 'id';
    /** The registered loopback redirect; default `http://127.0.0.1:<any port>/callback`. */
    callbackUrl?: string;
  };
  /** Local profile only: the bootstrap admin key. */
  adminKey?: string;
  /** Local profile only: the local gateway's IAM user. */
  iam?: AwsCredentials & { region: string };
  /** Mutual TLS: client certificate and key files to present, and a CA file to trust (the local stack's). */
  tls?: ProfileTls;
  /** Where this profile came from (for messages). */
  source: string;
}

export interface ProfileTls {
  cert?: string;
  key?: string;
  ca?: string;
}

export const configFile = (env: Env): string => join(configDir(env), 'config.json');

async function readConfigFile(env: Env): Promise<ConfigFile> {
  const file = configFile(env);
  const raw = await readJsonFile(file);
  if (raw === undefined) return { profiles: {} };
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigurationError(`${file} is not a Gatehouse config file (${parsed.error.issues[0]?.message ?? 'invalid'}); fix or delete it.`);
  return parsed.data;
}

export async function saveProfile(env: Env, name: string, profile: SavedProfile): Promise<string> {
  checkProfileName(name);
  if (name === LOCAL_PROFILE) throw new ConfigurationError('Profile "local" is read from the local stack\'s local.json; choose another name.');
  const parsed = savedProfileSchema.safeParse(profile);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`Invalid ${issue?.path.join('.') ?? 'profile'}: ${issue?.message ?? 'invalid'}`);
  }
  const config = await readConfigFile(env);
  config.profiles[name] = parsed.data;
  const file = configFile(env);
  await writePrivateJson(file, config);
  return file;
}

const localJsonSchema = z.object({
  apiUrl: httpUrl,
  adminKey: z.string().optional(),
  oidc: z
    .object({
      issuer: httpUrl,
      tokenEndpoint: httpUrl,
      authorizationEndpoint: httpUrl,
      loginClient: z.object({ clientId: z.string().min(1) }),
      machineClient: z.object({ scopes: z.array(z.string()) }).partial().optional(),
      resourceServerId: z.string().optional(),
    })
    .optional(),
  iam: z.object({ region: z.string(), accessKeyId: z.string(), secretAccessKey: z.string() }).optional(),
  tls: z.object({ ca: z.string(), clientCertificate: z.object({ cert: z.string(), key: z.string() }).optional() }).optional(),
});

/**
 * Login scopes for an issuer with a resource server: `openid` plus every scope of the API, qualified. The local
 * stack's machine client holds every scope the running API declares (a team's too), so its list is the one to ask
 * for; without it, Gatehouse's own.
 */
function qualifiedScopes(resourceServerId: string | undefined, machineScopes: readonly string[] | undefined): string[] {
  if (machineScopes && machineScopes.length > 0 && machineScopes.every((s) => s.includes('/'))) return ['openid', ...machineScopes];
  const prefix =
    resourceServerId ?? machineScopes?.map((s) => s.slice(0, Math.max(0, s.lastIndexOf('/')))).find((p) => p !== '');
  return ['openid', ...(prefix ? ALL_SCOPES.map((s) => `${prefix}/${s}`) : [])];
}

export async function readLocalProfile(env: Env, cwd: string): Promise<Profile> {
  const dir = localStateDir(env, cwd);
  const file = join(dir, 'local.json');
  const raw = await readJsonFile(file);
  if (raw === undefined) {
    throw new ConfigurationError(`No local stack found: ${file} does not exist. Start it with \`npm start\` (or set GATEHOUSE_STATE_DIR).`);
  }
  const parsed = localJsonSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigurationError(`${file} is not a local stack file; restart the local stack.`);
  const local = parsed.data;
  return {
    name: LOCAL_PROFILE,
    apiUrl: local.apiUrl,
    ...(local.iam ? { region: local.iam.region } : {}),
    ...(local.oidc
      ? {
          oidc: {
            issuer: local.oidc.issuer,
            clientId: local.oidc.loginClient.clientId,
            scopes: qualifiedScopes(local.oidc.resourceServerId, local.oidc.machineClient?.scopes),
            authorizationEndpoint: local.oidc.authorizationEndpoint,
            tokenEndpoint: local.oidc.tokenEndpoint,
            tokenUse: 'access' as const,
          },
        }
      : {}),
    ...(local.adminKey ? { adminKey: local.adminKey } : {}),
    ...(local.iam ? { iam: { region: local.iam.region, accessKeyId: local.iam.accessKeyId, secretAccessKey: local.iam.secretAccessKey } } : {}),
    // `npm start -- --https | --mtls`: trust the local CA, and present the client certificate it issued.
    ...(local.tls
      ? { tls: { ca: local.tls.ca, ...(local.tls.clientCertificate ? { cert: local.tls.clientCertificate.cert, key: local.tls.clientCertificate.key } : {}) } }
      : {}),
    source: file,
  };
}

/**
 * The named profile. `apiUrl`/`region` overrides (from flags or GATEHOUSE_API_URL) apply on top; with an API URL
 * given and no such profile, an ad-hoc profile without login is returned.
 */
export async function loadProfile(env: Env, cwd: string, name: string, overrides: { apiUrl?: string; region?: string } = {}): Promise<Profile> {
  checkProfileName(name);
  let profile: Profile | undefined;
  if (name === LOCAL_PROFILE) {
    profile = await readLocalProfile(env, cwd);
  } else {
    const saved = (await readConfigFile(env)).profiles[name];
    if (saved) {
      profile = {
        name,
        apiUrl: saved.apiUrl,
        ...(saved.region ? { region: saved.region } : {}),
        ...(saved.issuer && saved.clientId
          ? {
              oidc: {
                issuer: saved.issuer,
                clientId: saved.clientId,
                scopes: saved.scopes ?? ['openid'],
                ...(saved.authorizationEndpoint ? { authorizationEndpoint: saved.authorizationEndpoint } : {}),
                ...(saved.tokenEndpoint ? { tokenEndpoint: saved.tokenEndpoint } : {}),
                tokenUse: saved.tokenUse ?? 'access',
                ...(saved.callbackUrl ? { callbackUrl: saved.callbackUrl } : {}),
              },
            }
          : {}),
        ...(saved.clientCert || saved.clientKey || saved.caCert
          ? { tls: { ...(saved.clientCert ? { cert: saved.clientCert } : {}), ...(saved.clientKey ? { key: saved.clientKey } : {}), ...(saved.caCert ? { ca: saved.caCert } : {}) } }
          : {}),
        source: configFile(env),
      };
    }
  }
  if (!profile) {
    if (!overrides.apiUrl) {
      throw new ConfigurationError(
        `No profile "${name}". Save one with \`gatehouse configure --profile ${name} --api-url URL --issuer URL --client-id ID --region REGION\`, ` +
          'use --profile local with the local stack (`npm start`), or pass --api-url.',
      );
    }
    profile = { name, apiUrl: overrides.apiUrl, source: 'command line' };
  }
  if (overrides.apiUrl) profile.apiUrl = overrides.apiUrl;
  if (overrides.region) profile.region = overrides.region;
  return profile;
}

// -------------------------------------------------------------------------------------------------------------
// Stored login tokens
// -------------------------------------------------------------------------------------------------------------

const storedTokensSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  tokenEndpoint: z.string(),
  accessToken: z.string().min(1),
  idToken: z.string().optional(),
  refreshToken: z.string().optional(),
  tokenType: z.string().default('Bearer'),
  scope: z.string().optional(),
  expiresAt: z.number(),
  username: z.string().optional(),
  savedAt: z.string().optional(),
});
export type StoredTokens = z.output<typeof storedTokensSchema> & TokenSet;

export const tokenFile = (env: Env, profile: string): string => join(configDir(env), 'tokens', `${checkProfileName(profile)}.json`);

export async function saveTokens(env: Env, profile: string, tokens: StoredTokens): Promise<string> {
  const file = tokenFile(env, profile);
  await ensurePrivateDir(configDir(env));
  await writePrivateJson(file, { ...tokens, savedAt: new Date().toISOString() });
  return file;
}

/** The stored tokens, or undefined when there are none; a file readable by others is tightened to 0600 first. */
export async function loadTokens(env: Env, profile: string): Promise<StoredTokens | undefined> {
  const file = tokenFile(env, profile);
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = storedTokensSchema.safeParse(await readJsonFile(file));
  if (!parsed.success) throw new ConfigurationError(`${file} is not a Gatehouse token file; run \`gatehouse logout --profile ${profile}\` and log in again.`);
  return parsed.data;
}

/** True when a file was deleted. */
export async function deleteTokens(env: Env, profile: string): Promise<boolean> {
  const file = tokenFile(env, profile);
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
