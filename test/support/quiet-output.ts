/**
 * Setup file of every test worker (vitest.config.mts): what the code under test writes straight to process.stdout
 * and process.stderr — the authorizer's bookkeeping lines, EMF metric documents, Powertools log lines, all written
 * as Lambda writes them — is held, and printed only when the test it belongs to fails. This is vitest's
 * `silent: 'passed-only'` (which covers console.* only) extended to direct writes, so a clean `npm test` shows the
 * results and nothing else, and a failure still shows everything its test wrote. Tests that capture output
 * themselves (spying on or replacing process.stdout.write) see every write as before: they wrap this writer.
 */
import { afterAll, afterEach } from 'vitest';

type Write = typeof process.stdout.write;
type Done = (error?: Error | null) => void;

interface Held {
  readonly stream: 'stdout' | 'stderr';
  readonly chunk: string | Uint8Array;
}

const realWrite: Record<Held['stream'], (chunk: string | Uint8Array) => boolean> = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};
let held: Held[] = [];

function holdingWrite(stream: Held['stream']): Write {
  const write = (chunk: string | Uint8Array, encodingOrDone?: BufferEncoding | Done, done?: Done): boolean => {
    held.push({ stream, chunk: typeof chunk === 'string' ? chunk : Buffer.from(chunk) });
    const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (callback) queueMicrotask(() => callback(null));
    return true;
  };
  return write;
}

process.stdout.write = holdingWrite('stdout');
process.stderr.write = holdingWrite('stderr');

/** Prints what was held, under a heading, and forgets it; with `show` false it is only forgotten. */
function release(show: boolean, heading: string): void {
  const output = held;
  held = [];
  if (!show || output.length === 0) return;
  realWrite.stderr(`\n--- output of ${heading} ---\n`);
  for (const { stream, chunk } of output) realWrite[stream](chunk);
}

afterEach((context) => {
  release(context.task.result?.state === 'fail', `the failed test "${context.task.name}"`);
});

// Written outside any test (a hook, a module's top level): shown only when a hook of the file failed.
// eslint-disable-next-line no-empty-pattern -- vitest requires a destructuring pattern for the (unused) context
afterAll(({}, file) => {
  release((file.result?.errors?.length ?? 0) > 0, `${file.name} outside its tests`);
});
