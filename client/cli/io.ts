/**
 * Everything the CLI reads and writes goes through a {@link CliIo}, so tests run commands in-process with captured
 * output and scripted input; {@link defaultIo} is the real process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import type { Env } from '../config.js';
import type { RetryOptions } from '../retry.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
  cwd: string;
  /** Opens a URL in the user's browser; default `open` (macOS), `xdg-open` (elsewhere), `start` (Windows). */
  openUrl: (url: string) => void;
  /** All of standard input (`call --data -`). */
  readStdin: () => Promise<string>;
  /**
   * Standard input line by line, as it is typed or piped (`login --no-browser` reads a pasted URL); ends at end of
   * input, or when `signal` aborts (the login was decided another way): then the input is let go.
   */
  readLines: (signal: AbortSignal) => AsyncIterable<string>;
  fetch?: typeof fetch;
  /** For tests: retry timing. */
  retry?: RetryOptions;
  now?: () => number;
}

/** Starts the platform's URL opener detached; failures are ignored (the URL is always printed too). */
export function openInBrowser(url: string, env: Env = process.env): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replaceAll('&', '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env: { ...env } });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the printed URL is the way.
  }
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A terminal or a pipe alike: readline without terminal handling (the terminal's own line editing applies). */
async function* readStdinLines(signal: AbortSignal): AsyncGenerator<string> {
  if (signal.aborted) return;
  const lines = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  const stop = () => lines.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const text of lines) yield text;
  } finally {
    signal.removeEventListener('abort', stop);
    lines.close();
    // A paused stdin no longer keeps the process alive once the login is decided.
    process.stdin.pause();
  }
}

export function defaultIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    openUrl: (url) => openInBrowser(url),
    readStdin: readAllStdin,
    readLines: readStdinLines,
  };
}
