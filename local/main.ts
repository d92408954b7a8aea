// `npm start` (node --import tsx local/main.ts [--persist] [--quiet] [--metrics] [--https | --mtls] [--app <file>]): runs the whole of Gatehouse on
// this machine until SIGINT/SIGTERM — Gatehouse's own API, or with --app a team's API declared with defineApp, its
// Lambda and HTTP targets behind Gatehouse. Configuration: the GATEHOUSE_* variables the Lambda functions read, PORT
// (default 3000) and GATEHOUSE_STATE_DIR (default .gatehouse). Exit codes: 0 after a clean stop, 1 when it cannot start.
import { ApiDefinitionError } from '../lambdas/core/api-definition.js';
import { ConfigError } from '../lambdas/core/errors.js';
import { AppFileError, loadAppFile, type LoadedApp } from './app-file.js';
import { banner } from './banner.js';
import { PortInUseError, startLocalStack, type LocalStack } from './stack.js';

// The AWS SDK warns at the first client on Node < 22; the local stack runs on Node ≥ 20.19 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Run as `npm start` in this repository, or as the package's `gatehouse-local` bin (which sets the name).
const COMMAND = process.env.GATEHOUSE_LOCAL_COMMAND ?? 'npm start --';
const USAGE = `Usage: ${COMMAND} [--persist] [--quiet] [--metrics] [--https | --mtls] [--app <file>]

  --persist     keep DynamoDB data, keys, passwords and the pepper in the state directory across restarts
  --quiet       no access log lines
  --metrics     print every metric document (CloudWatch EMF) the functions write; GET /_local/metrics
                always answers them aggregated
  --https       serve over HTTPS (TLS 1.3) with a local CA written to the state directory's tls/
  --mtls        HTTPS that also requires a client certificate the local CA issued (one is written beside it);
                certificate-bound principals as configured by GATEHOUSE_CLIENT_CERTIFICATES
  --app <file>  serve a team's API: the module's default export (or export \`app\`) is defineApp({...});
                its Lambda entries are relative to the file's folder

Environment: PORT (default 3000), GATEHOUSE_STATE_DIR (default .gatehouse), and every GATEHOUSE_* setting
the Lambda functions read (README "Configuration").`;

function usageError(message: string): never {
  console.error(`gatehouse: ${message}\n\n${USAGE}`);
  process.exit(1);
}

const args = new Set<string>();
let appPath: string | undefined;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 1) {
  const arg = argv[i]!;
  if (arg === '--app' || arg.startsWith('--app=')) {
    const value = arg === '--app' ? argv[++i] : arg.slice('--app='.length);
    if (value === undefined || value === '' || value.startsWith('--')) usageError('--app needs a file: --app path/to/app.ts');
    if (appPath !== undefined) usageError('--app given twice');
    appPath = value;
  } else {
    args.add(arg);
  }
}
if (args.has('--help') || args.has('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = [...args].filter((a) => !['--persist', '--quiet', '--metrics', '--https', '--mtls'].includes(a));
if (unknown.length > 0) usageError(`unknown option ${unknown.join(' ')}`);
if (args.has('--https') && args.has('--mtls')) usageError('--https or --mtls, not both (--mtls is HTTPS too)');

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
const quiet = args.has('--quiet');
let stack: LocalStack;
try {
  const loaded: LoadedApp | undefined = appPath === undefined ? undefined : await loadAppFile(appPath);
  stack = await startLocalStack({
    ...(loaded ? { app: loaded.app, baseDir: loaded.baseDir } : {}),
    persist: args.has('--persist'),
    ...(args.has('--mtls') ? { tls: 'mtls' as const } : args.has('--https') ? { tls: 'https' as const } : {}),
    printMetrics: args.has('--metrics'),
    ...(quiet
      ? {}
      : {
          onRequest: (e) =>
            console.log(`${new Date().toISOString()} ${e.method} ${e.path} ${e.status} ${e.durationMs}ms ${e.answeredBy} ${e.requestId}`),
        }),
  });
} catch (error) {
  if (error instanceof PortInUseError || error instanceof ConfigError || error instanceof AppFileError || error instanceof ApiDefinitionError) {
    console.error(`gatehouse: ${oneLine(error.message)}`);
  } else {
    console.error(`gatehouse: could not start: ${oneLine(error instanceof Error ? error.message : String(error))}`);
  }
  process.exit(1);
}

console.log(banner(stack));

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) {
    console.error(`gatehouse: ${signal} again, exiting now`);
    process.exit(1);
  }
  stopping = true;
  console.log(`\ngatehouse: ${signal}: stopping…`);
  stack.close().then(
    () => {
      console.log('gatehouse: stopped');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('gatehouse: failed to stop cleanly:', error);
      process.exit(1);
    },
  );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// Under `npm start`, a SIGTERM sent to npm reaches only its `sh -c`, which dies without passing it on: this process
// would be orphaned and keep its ports. Stop as if signalled when the parent goes away.
if (process.env.npm_lifecycle_event === 'start') {
  const parent = process.ppid;
  setInterval(() => {
    if (!stopping && process.ppid !== parent) stop('SIGTERM');
  }, 250).unref();
}
