// `npx tsx local/oidc/main.ts`: starts the local OIDC provider, prints one line of JSON (LocalOidcConfig)
// on stdout, and runs until SIGINT/SIGTERM. Env: OIDC_HOST (default 127.0.0.1), OIDC_PORT (default 0).
import { startLocalOidc, toLocalOidcConfig } from './provider.js';

// stdout carries exactly one JSON line for whoever spawned us; route any library chatter to stderr.
console.log = console.info = console.error;

function portFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`OIDC_PORT is not a port: ${value}`);
  return port;
}

const oidc = await startLocalOidc({
  host: process.env.OIDC_HOST || undefined,
  port: portFromEnv(process.env.OIDC_PORT),
});
process.stdout.write(`${JSON.stringify(toLocalOidcConfig(oidc))}\n`);

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  oidc.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`local-oidc: failed to close on ${signal}:`, error);
      process.exit(1);
    },
  );
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
