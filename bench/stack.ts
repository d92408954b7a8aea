/**
 * The local stack (local/stack.ts) for parts 3 and 4, on a free loopback port with its state in a temporary
 * directory (the user's `.gatehouse/` is never touched), and small HTTP helpers for the API.
 *
 * WAF and stage-throttle limits are raised for the benchmark (they would otherwise answer most of a load test
 * with 429s); every other setting is the default — the decision cache (3 s), API Gateway's authorizer cache off —
 * unless the caller passes settings (§3 runs once more in gateway cache mode). Credentials travel in Authorization,
 * which works in both modes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../local/stack.js';

/** The most the settings accept (lambdas/core/settings.ts). */
export const RAISED_LIMITS = {
  GATEHOUSE_RATE_LIMIT_PER_IP: '2000000000',
  GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: '2000000000',
  GATEHOUSE_THROTTLE_RATE_LIMIT: '10000',
  GATEHOUSE_THROTTLE_BURST_LIMIT: '5000',
} as const;

export interface BenchStack {
  readonly stack: LocalStack;
  /** apiUrl on 127.0.0.1 (the stack says `localhost`, which may resolve to ::1 first). */
  readonly baseUrl: string;
  readonly adminKey: string;
  readonly env: Readonly<Record<string, string>>;
  createKey(name: string, scopes: string[]): Promise<{ id: string; key: string }>;
  revokeKey(id: string): Promise<number>;
  machineToken(): Promise<string>;
  close(): Promise<void>;
}

/** `settings`: GATEHOUSE_* variables for this stack beside the raised limits (e.g. gateway cache mode for §3). */
export async function startBenchStack(settings: Readonly<Record<string, string>> = {}): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-stack-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_')) env[k] = v;
  Object.assign(env, RAISED_LIMITS, settings);
  const stack = await startLocalStack({ port: 0, host: '127.0.0.1', stateDir, env, logLevel: 'ERROR' });
  const baseUrl = stack.apiUrl.replace('://localhost:', '://127.0.0.1:');
  const adminKey = stack.config.adminKey;
  return {
    stack,
    baseUrl,
    adminKey,
    env: { ...RAISED_LIMITS, ...settings },
    async createKey(name, scopes) {
      const res = await fetch(`${baseUrl}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, scopes }),
      });
      if (res.status !== 201) throw new Error(`POST /v1/keys answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { id: string; key: string };
    },
    async revokeKey(id) {
      const res = await fetch(`${baseUrl}/v1/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } });
      await res.arrayBuffer();
      return res.status;
    },
    async machineToken() {
      const { tokenEndpoint, machineClient } = stack.config.oidc;
      const res = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(machineClient.clientId)}:${encodeURIComponent(machineClient.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: machineClient.scopes.join(' ') }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`no token from the local OIDC provider: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async close() {
      await stack.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
