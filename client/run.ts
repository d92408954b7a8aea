/**
 * The process around the CLI: arguments in, exit code out. `bin/gatehouse.js` loads this through tsx; it is also
 * the entry point for a self-contained bundle (`esbuild client/run.ts --bundle --platform=node --format=esm …`).
 */
import { main } from './cli.js';

// The AWS SDK (SigV4 credential chain) warns once on Node < 22; Gatehouse supports Node >= 20.19 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const code = await main(process.argv.slice(2));
// Exit once output is flushed, without waiting for idle keep-alive sockets.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
