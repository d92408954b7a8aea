/**
 * The real executable (`client/bin/gatehouse.js`) as a child process, the way a person or a script runs it:
 * exit codes, stdout/stderr, and the whole newcomer session (log in, create a key, call with it, verify with SigV4).
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PRINTED_URL, problem, removeTempDirs, scriptedServer, signInElsewhere, startTestStack, tempDir, TestBrowser, type TestStack } from './support.js';

const BIN = fileURLToPath(new URL('../../client/bin/gatehouse.js', import.meta.url));

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  await removeTempDirs();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin; `onStderr` sees stderr as it arrives (for the login URL). Standard input is empty, or with
 * `onStdin` a pipe the test writes to (and ends when it likes).
 */
function gatehouse(
  args: string[],
  options: { env?: Record<string, string>; onStderr?: (text: string) => void; onStdin?: (stdin: Writable) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...stack.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (options.onStdin) options.onStdin(child.stdin);
    else child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the gatehouse executable', () => {
  it('--help exits 0 and documents exit codes; a usage error exits 2', async () => {
    const help = await gatehouse(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    const bad = await gatehouse(['keys', 'create']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("required option '--name <name>' not specified");
  });

  it('log in, create a key, call with it, verify it with SigV4; not found exits 4', async () => {
    let signedIn: Promise<unknown> | undefined;
    const login = await gatehouse(['--profile', 'local', 'login', '--no-browser'], {
      onStderr: (text) => {
        const url = PRINTED_URL.exec(text)?.[1];
        if (url && !signedIn) signedIn = new TestBrowser().signIn(url, 'alice', stack.password('alice'));
      },
    });
    await signedIn;
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe('Logged in as alice (profile local).\n');

    const created = await gatehouse(['--profile', 'local', 'keys', 'create', '--name', 'bin', '--scopes', 'items:read,items:write', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain('only time the key is shown');
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };

    const item = await gatehouse(['--profile', 'local', 'call', 'POST', '/v1/items', '--data', '{"name":"from the bin"}'], { env: { GATEHOUSE_API_KEY: key } });
    expect(item.code, item.stderr).toBe(0);
    expect(JSON.parse(item.stdout)).toMatchObject({ name: 'from the bin', createdBy: `key:${id}` });

    const verify = await gatehouse(['--profile', 'local', 'call', 'POST', '/v1/verify', '--sigv4', '--data', JSON.stringify({ key })]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true, keyId: id, scopes: ['items:read', 'items:write'] });

    const missing = await gatehouse(['--profile', 'local', 'keys', 'get', 'AAAAAAAAAAAA']);
    expect(missing.code).toBe(4);
    expect(`${created.stderr}${item.stderr}${verify.stderr}${missing.stderr}`).not.toContain(key);
  });

  it('item 3: with --json every stderr line of the process is JSON — the credential, each retry, the error — nothing else (no warning)', async () => {
    const jsonLines = (stderr: string) => stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const gateway = await scriptedServer((_req, res) => problem(res, 503, 'SERVICE_UNAVAILABLE', { 'retry-after': '0' }));
    try {
      const listed = await gatehouse(['--api-url', gateway.url, '--profile', 'adhoc', 'keys', 'list', '--json'], { env: { GATEHOUSE_API_KEY: stack.config.adminKey } });
      expect(listed.code).toBe(1);
      expect(listed.stdout).toBe('');
      expect(jsonLines(listed.stderr).map((l) => l.event ?? Object.keys(l)[0])).toEqual(['credential', 'retry', 'retry', 'retry', 'error']);
      // Signed with SigV4 (the AWS SDK's signer), refused: the process still writes nothing but JSON.
      const signed = await gatehouse(['--api-url', gateway.url, '--profile', 'adhoc', '--region', 'us-east-1', 'call', 'POST', '/v1/verify', '--data', '{"key":"x"}', '--json'], {
        env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12', AWS_SECRET_ACCESS_KEY: 'example-secret-example-secret-example-12' },
      });
      expect(signed.code).toBe(1);
      expect(jsonLines(signed.stderr).map((l) => l.event ?? Object.keys(l)[0])).toEqual(['credential', 'error']);
      expect(signed.stderr).not.toContain('example-secret');
    } finally {
      await gateway.close();
    }
  });

  it('paste-back over a pipe: login --no-browser reads the URL the browser ended on from standard input', async () => {
    const env = { GATEHOUSE_CONFIG_DIR: await tempDir() };
    let input: Writable | undefined;
    let pasted: Promise<void> | undefined;
    const login = await gatehouse(['--profile', 'local', 'login', '--no-browser', '--timeout', '60'], {
      env,
      onStdin: (stdin) => (input = stdin),
      onStderr: (text) => {
        const url = PRINTED_URL.exec(text)?.[1];
        if (!url || pasted) return;
        pasted = signInElsewhere(url, 'alice', stack.password('alice')).then((landed) => {
          input!.write(`${landed.href}\n`);
        });
      },
    });
    await pasted;
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe('Logged in as alice (profile local).\n');
    const me = await gatehouse(['--profile', 'local', 'whoami', '--json'], { env });
    expect(JSON.parse(me.stdout)).toMatchObject({ authMethod: 'jwt' });
  });
});
