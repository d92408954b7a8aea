/**
 * Environment variables for the functions, computed from the validated configuration: the variable names come from
 * lambdas/core/settings.ts and each function gets exactly the settings its own code reads (AUTHORIZER_SETTINGS,
 * API_SETTINGS, …). Values are written in the form the functions parse, and checked by parsing them back.
 */
import { isDeepStrictEqual } from 'node:util';
import { Token } from 'aws-cdk-lib';
import { NO_SCOPES, readSettings, SETTINGS, type SettingName } from '../lambdas/core/settings.js';
import { CONTEXT_SETTINGS, type ContextSettingName, type GatehouseConfig } from './config.js';

/** Values the deployment supplies itself (resource names, ARNs, JSON with tokens). */
export type ComputedEnv = Partial<Record<SettingName, string>>;

const JSON_SETTINGS: ReadonlySet<SettingName> = new Set(['oidcIssuers', 'cognito', 'plans', 'clientCertificates']);

function isContextSetting(name: SettingName): name is ContextSettingName {
  return (CONTEXT_SETTINGS as readonly SettingName[]).includes(name);
}

function envValue(name: ContextSettingName, config: GatehouseConfig): string | undefined {
  const value: unknown = config.settings[name];
  if (value === undefined || value === null) return undefined;
  if (JSON_SETTINGS.has(name)) {
    // JSON settings keep their input form: the parsed form has defaults and transforms (tokenUse any → null)
    // that the schema would not accept back.
    const raw = config.raw[name];
    if (raw === undefined) return JSON.stringify(value);
    return typeof raw === 'string' ? raw : JSON.stringify(raw);
  }
  // An empty environment variable reads as unset (the default): an empty scope list is spelt `none`.
  if (Array.isArray(value)) return value.length === 0 && name === 'anonymousScopes' ? NO_SCOPES : value.join(' ');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`No environment form for setting ${name}`);
}

/**
 * The environment for a function whose code reads `names`. `computed` supplies what the deployment creates; a
 * name that is neither in context nor computed (localPepper) is left out. Throws if a value would not read back
 * as the same setting (a bug here, not a configuration error).
 */
export function settingsEnvironment(names: readonly SettingName[], config: GatehouseConfig, computed: ComputedEnv = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const roundTrip: ContextSettingName[] = [];
  for (const name of names) {
    const fixed = computed[name];
    if (fixed !== undefined) {
      env[SETTINGS[name].env] = fixed;
      continue;
    }
    if (!isContextSetting(name)) continue;
    const value = envValue(name, config);
    if (value === undefined) continue;
    env[SETTINGS[name].env] = value;
    roundTrip.push(name);
  }
  const plain = Object.fromEntries(Object.entries(env).filter(([, v]) => !Token.isUnresolved(v)));
  const back = readSettings(roundTrip, plain);
  for (const name of roundTrip) {
    if (!isDeepStrictEqual(back[name], config.settings[name])) {
      throw new Error(`Setting ${name} does not survive its environment form ${SETTINGS[name].env}=${env[SETTINGS[name].env]}`);
    }
  }
  return env;
}
