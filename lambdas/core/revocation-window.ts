/**
 * The revocation window (CONTRACT §3): a revoked or expired credential is refused, on every route and every
 * container, within `revocationWindowSeconds` (5 by default). Two caches may still hold an Allow after the store
 * says otherwise:
 * - the authorizer's decision cache, per container: at most `cacheTtlSeconds` after the read that filled it;
 * - API Gateway's authorizer result cache (gateway cache mode, gateway-cache.ts): at most `gatewayCacheTtlSeconds`
 *   after the invocation that filled it — and that invocation may itself have answered from the decision cache.
 * The worst case is their sum, so the sum must fit in the window: checked where configuration is read (synth, the
 * local stack), never silently shortened.
 */
import { ConfigError } from './errors.js';
import { SETTINGS, type SettingName, type SettingsSource, type SettingsValues } from './settings.js';

export type RevocationSettings = Pick<SettingsValues, 'cacheTtlSeconds' | 'gatewayCacheTtlSeconds' | 'revocationWindowSeconds'>;

/** The longest a revoked or expired credential can still be allowed with these settings, in seconds. */
export function revocationBoundSeconds(settings: Pick<RevocationSettings, 'cacheTtlSeconds' | 'gatewayCacheTtlSeconds'>): number {
  return settings.cacheTtlSeconds + settings.gatewayCacheTtlSeconds;
}

/** A setting's name as the reader knows it: its variable (environment) or its camelCase key (CDK context). */
export function settingName(name: SettingName, source: SettingsSource): string {
  return source === 'env' ? SETTINGS[name].env : name;
}

/** Throws a ConfigError naming the cache that does not fit when the caches could outlast the promised window. */
export function checkRevocationWindow(settings: RevocationSettings, source: SettingsSource = 'env'): void {
  const { cacheTtlSeconds: decision, gatewayCacheTtlSeconds: gateway, revocationWindowSeconds: window } = settings;
  if (revocationBoundSeconds(settings) <= window) return;
  // Name the gateway's TTL when it is on and the decision cache fits alone (the gateway's is the optional one).
  const key = gateway > 0 && decision <= window ? 'gatewayCacheTtlSeconds' : 'cacheTtlSeconds';
  const room = Math.max(0, window - (key === 'gatewayCacheTtlSeconds' ? decision : gateway));
  throw new ConfigError(
    settingName(key, source),
    `at most ${room}: the decision cache (${settingName('cacheTtlSeconds', source)} ${decision}) and API Gateway's cache ` +
      `(${settingName('gatewayCacheTtlSeconds', source)} ${gateway}) together may hold an Allow ${decision + gateway} s, ` +
      `longer than the revocation window (${settingName('revocationWindowSeconds', source)} ${window})`,
  );
}
