/**
 * Helpers for the client and CLI suites: a local stack on port 0 in a temp state directory, the CLI run in-process
 * with captured output, a cookie-carrying "browser" that drives the local login form over plain HTTP, and tiny
 * gateways that misbehave on purpose.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { main, type CliIo } from '../../client/cli.js';
import { startLocalStack, type LocalStack } from '../../local/stack.js';
import { TestBrowser } from '../support/browser.js';

export interface TestStack extends LocalStack {
  /** Environment for the CLI: the stack's state dir and a private config dir. */
  env: Record<string, string>;
  configDir: string;
  password(username: string): string;
  stop(): Promise<void>;
}

const tempDirs: string[] = [];

/** A fresh private (0700) directory, removed by {@link removeTempDirs}. */
export async function tempDir(prefix = 'gatehouse-client-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export async function startTestStack(): Promise<TestStack> {
  const root = await tempDir();
  const stateDir = join(root, 'state');
  const configDir = join(root, 'config');
  const stack = await startLocalStack({ port: 0, env: {}, logLevel: 'SILENT', stateDir });
  return Object.assign(stack, {
    env: { GATEHOUSE_STATE_DIR: stateDir, GATEHOUSE_CONFIG_DIR: configDir, HOME: root, GATEHOUSE_NO_BROWSER: '1' },
    configDir,
    password(username: string): string {
      const user = stack.config.oidc.users.find((u) => u.username === username);
      if (!user) throw new Error(`no user ${username}`);
      return user.password;
    },
    async stop() {
      await stack.close();
      await rm(root, { recursive: true, force: true });
    },
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** Resolves with the first match of `pattern` in stderr (group 1 when there is one). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<CliResult>;
}

/** Standard input as lines: those of `text`, then its end (what a pipe from a file gives). */
export function linesOf(text: string): CliIo['readLines'] {
  return async function* lines() {
    for (const l of text === '' ? [] : text.replace(/\n$/, '').split('\n')) yield await Promise.resolve(l);
  };
}

/**
 * Standard input the test types into while the CLI runs (a person pasting into the terminal). `released` tells
 * whether the CLI has stopped reading it (it must, once the login is decided either way).
 */
export interface PasteChannel {
  readLines: CliIo['readLines'];
  paste(text: string): void;
  end(): void;
  readonly released: boolean;
}

export function pasteChannel(): PasteChannel {
  const queued: (string | undefined)[] = [];
  let wake: (() => void) | undefined;
  let released = false;
  const push = (item: string | undefined) => {
    queued.push(item);
    wake?.();
  };
  return {
    get released() {
      return released;
    },
    paste: (text) => push(text),
    end: () => push(undefined),
    async *readLines(signal) {
      const onAbort = () => wake?.();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        while (!signal.aborted) {
          if (queued.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          if (signal.aborted) return;
          const next = queued.shift();
          if (next === undefined) return;
          yield next;
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        released = true;
      }
    },
  };
}

/** Runs `gatehouse argv…` in-process; `io` overrides (env is merged over nothing: pass the stack's). */
export function startCli(argv: string[], io: Partial<CliIo> & { env: Record<string, string | undefined>; stdin?: string }): RunningCli {
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.pattern.exec(stderr);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[1] ?? m[0]);
      }
    }
  };
  const done = main(argv, {
    cwd: process.cwd(),
    openUrl: () => undefined,
    readStdin: () => Promise.resolve(io.stdin ?? ''),
    readLines: linesOf(io.stdin ?? ''),
    ...io,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
      check();
    },
  }).then((code) => ({ code, stdout, stderr }));
  return {
    done,
    waitForStderr(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}: ${stderr}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (s) => {
            clearTimeout(timer);
            resolve(s);
          },
        });
        check();
        void done.then((r) => {
          if (waiters.some((w) => w.pattern === pattern)) {
            clearTimeout(timer);
            reject(new Error(`the CLI exited (${r.code}) before stderr matched ${pattern}: ${r.stderr}`));
          }
        });
      });
    },
  };
}

export function runCli(argv: string[], io: Parameters<typeof startCli>[1]): Promise<CliResult> {
  return startCli(argv, io).done;
}

/** The sign-in URL the CLI prints (an indented line of its own). */
export const PRINTED_URL = /^ {2}(https?:\/\/\S+)$/m;

export { TestBrowser };

/** Logs `username` in through the CLI (`login --no-browser`), driving the printed URL with a TestBrowser. */
export async function loginWithCli(stack: TestStack, username: string, extraArgs: string[] = [], env: Record<string, string> = stack.env): Promise<CliResult & { page: { status: number; url: string; html: string } }> {
  const run = startCli(['--profile', 'local', 'login', '--no-browser', ...extraArgs], { env });
  const url = await run.waitForStderr(PRINTED_URL);
  const page = await new TestBrowser().signIn(url, username, stack.password(username));
  const result = await run.done;
  return { ...result, page };
}

/**
 * Signs in on the printed URL like a browser on another machine: the login form is submitted and redirects are
 * followed up to the redirect URI, which is never requested (nothing there answers). Answers the URL the browser
 * ended on: what a person copies from the address bar.
 */
export async function signInElsewhere(authorizeUrl: string, username: string, password: string): Promise<URL> {
  const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error(`no redirect_uri in ${authorizeUrl}`);
  const browser = new TestBrowser();
  const { res: formPage, url: formUrl } = await browser.followAll(authorizeUrl);
  const html = await formPage.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form at ${formUrl}: ${formPage.status}`);
  const { callback, page } = await browser.follow(
    new URL(action.replaceAll('&amp;', '&'), formUrl).href,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }) },
    redirectUri,
  );
  if (!callback) throw new Error(`the sign-in did not redirect to ${redirectUri}: ${page?.status}`);
  return callback;
}

/** A tiny HTTP server whose answers the test scripts; records every request. */
export interface ScriptedServer {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export async function scriptedServer(handler: (req: IncomingMessage, res: ServerResponse, index: number, body: string) => void): Promise<ScriptedServer> {
  const requests: ScriptedServer['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, res, requests.length - 1, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function problem(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: `https://gatehouse.dev/problems/${code.toLowerCase()}`, title: code, status, detail: `scripted ${status}`, code, requestId: `req-${status}` }));
}

export function ok(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
