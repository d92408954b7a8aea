// Runs local/oidc/main.ts as a real child process, so tests get tokens from a provider they do not share a
// heap with (the same way the authorizer meets Cognito).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { LocalOidcConfig } from '../../local/oidc/provider.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export interface LocalOidcProcess {
  config: LocalOidcConfig;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

export async function spawnLocalOidc(env: NodeJS.ProcessEnv = {}): Promise<LocalOidcProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/oidc/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, OIDC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096); // keep the tail for error messages
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  try {
    const firstLine = await Promise.race([
      once(lines, 'line').then(([line]) => line as string),
      exited.then(([code, signal]) => {
        throw new Error(`local OIDC exited early (code ${String(code)}, signal ${String(signal)}): ${stderr}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`local OIDC did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      }),
    ]);
    return { config: JSON.parse(firstLine) as LocalOidcConfig, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
    lines.close();
    child.stdout.resume(); // drain anything else, so a chatty child can never block on a full pipe
  }
}
