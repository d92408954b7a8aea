/**
 * `gatehouse login --no-browser` where the browser is on another machine (SSH, a container): the person signs in
 * with the printed URL anywhere, the redirect to the CLI's loopback address fails to load there, and they paste
 * the address the browser ended on (or just its code) back into the CLI. Against the real local stack and its real
 * login form; the loopback server keeps listening, so whichever arrives first wins.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '../../client/cli.js';
import {
  pasteChannel,
  PRINTED_URL,
  removeTempDirs,
  runCli,
  scriptedServer,
  signInElsewhere,
  startCli,
  startTestStack,
  tempDir,
  TestBrowser,
  type PasteChannel,
  type TestStack,
} from './support.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  await removeTempDirs();
});

/** A private config dir, and `gatehouse --profile local login --no-browser …` reading `stdin`. */
async function startLogin(stdin: PasteChannel, args: string[] = []) {
  const configDir = await tempDir();
  const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: configDir };
  const run = startCli(['--profile', 'local', 'login', '--no-browser', '--timeout', '60', ...args], { env, readLines: stdin.readLines });
  return { run, env, configDir, tokenFile: join(configDir, 'tokens', 'local.json') };
}

describe('login --no-browser: paste back the redirect', () => {
  it('paste-back: the full URL the browser ended on (it never reached the CLI) logs alice in', async () => {
    const stdin = pasteChannel();
    const { run, env, tokenFile } = await startLogin(stdin);
    const url = await run.waitForStderr(PRINTED_URL);
    await run.waitForStderr(/paste/i);
    const landed = await signInElsewhere(url, 'alice', stack.password('alice'));
    expect(landed.searchParams.get('code')).toEqual(expect.any(String));
    stdin.paste(landed.href);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(EXIT.OK);
    expect(stdout).toBe('Logged in as alice (profile local).\n');
    expect(stdin.released).toBe(true);
    const tokens = JSON.parse(await readFile(tokenFile, 'utf8')) as { username: string; refreshToken?: string };
    expect(tokens).toMatchObject({ username: 'alice', refreshToken: expect.any(String) });
    const me = await runCli(['--profile', 'local', 'whoami', '--json'], { env });
    expect(JSON.parse(me.stdout)).toMatchObject({ authMethod: 'jwt', scopes: expect.arrayContaining(['audit:read']) });
  });

  it('paste-back: just the code value (blank lines before it are skipped) logs bob in', async () => {
    const stdin = pasteChannel();
    const { run, env } = await startLogin(stdin);
    const url = await run.waitForStderr(PRINTED_URL);
    const landed = await signInElsewhere(url, 'bob', stack.password('bob'));
    stdin.paste('');
    stdin.paste(`  ${landed.searchParams.get('code')!}  `);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(EXIT.OK);
    expect(stdout).toBe('Logged in as bob (profile local).\n');
    const me = await runCli(['--profile', 'local', 'whoami', '--json'], { env });
    expect(JSON.parse(me.stdout)).toMatchObject({ authMethod: 'jwt', scopes: expect.not.arrayContaining(['audit:read']) });
  });

  it('paste-back: the redirect of another login (wrong state) is refused, exit 3, nothing stored; its own login takes it', async () => {
    const first = pasteChannel();
    const one = await startLogin(first);
    const oneUrl = await one.run.waitForStderr(PRINTED_URL);
    const second = pasteChannel();
    const two = await startLogin(second);
    await two.run.waitForStderr(PRINTED_URL);

    const landedForOne = await signInElsewhere(oneUrl, 'alice', stack.password('alice'));
    second.paste(landedForOne.href);
    const refused = await two.run.done;
    expect(refused.code).toBe(EXIT.AUTH);
    expect(refused.stderr).toContain('Login failed: state_mismatch: the pasted URL belongs to another sign-in');
    expect(refused.stderr).not.toContain(landedForOne.searchParams.get('code')!);
    expect(existsSync(two.tokenFile)).toBe(false);

    // The code was not spent by the refusal: the login it belongs to still finishes with it.
    first.paste(landedForOne.href);
    const accepted = await one.run.done;
    expect(accepted.code, accepted.stderr).toBe(EXIT.OK);
    expect(existsSync(one.tokenFile)).toBe(true);
  });

  it('paste-back: an error redirect (access_denied) ends the login with exit 3', async () => {
    const stdin = pasteChannel();
    const { run, tokenFile } = await startLogin(stdin);
    const url = new URL(await run.waitForStderr(PRINTED_URL));
    stdin.paste(`${url.searchParams.get('redirect_uri')!}?error=access_denied&error_description=The+user+said+no&state=${url.searchParams.get('state')!}`);
    const { code, stderr } = await run.done;
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('Login failed: access_denied: The user said no');
    expect(existsSync(tokenFile)).toBe(false);
  });

  it('paste-back: a code already used is refused by the token endpoint with a clear message (exit 3)', async () => {
    const stdin = pasteChannel();
    const first = await startLogin(stdin);
    const landed = await signInElsewhere(await first.run.waitForStderr(PRINTED_URL), 'alice', stack.password('alice'));
    const code = landed.searchParams.get('code')!;
    stdin.paste(code);
    expect((await first.run.done).code).toBe(EXIT.OK);

    const again = pasteChannel();
    const second = await startLogin(again);
    await second.run.waitForStderr(PRINTED_URL);
    again.paste(code);
    const result = await second.run.done;
    expect(result.code).toBe(EXIT.AUTH);
    expect(result.stderr).toMatch(/Login failed: invalid_grant: .*the code was refused: it was already used, has expired, or belongs to another sign-in/);
    expect(result.stderr).not.toContain(code);
    expect(existsSync(second.tokenFile)).toBe(false);
  });

  it('paste-back: text that is neither a URL nor a code is refused without echoing it (exit 3)', async () => {
    const stdin = pasteChannel();
    const { run, tokenFile } = await startLogin(stdin);
    await run.waitForStderr(PRINTED_URL);
    stdin.paste('my secret password');
    const { code, stderr } = await run.done;
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('Login failed: invalid_paste');
    expect(stderr).not.toContain('my secret password');
    expect(existsSync(tokenFile)).toBe(false);
  });

  it('the loopback path still works while the CLI waits for a paste: the redirect wins and stdin is let go', async () => {
    const stdin = pasteChannel();
    const { run } = await startLogin(stdin);
    const url = await run.waitForStderr(PRINTED_URL);
    const page = await new TestBrowser().signIn(url, 'alice', stack.password('alice'));
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    expect(page.html).toContain('Signed in to Gatehouse');
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(EXIT.OK);
    expect(stdout).toBe('Logged in as alice (profile local).\n');
    expect(stdin.released).toBe(true);
  });

  it('paste-back: times out when nothing is pasted and nothing arrives', async () => {
    const stdin = pasteChannel();
    const { run } = await startLogin(stdin, ['--timeout', '1']);
    const { code, stderr } = await run.done;
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('no sign-in within 1 s');
    expect(stdin.released).toBe(true);
  });

  it('--json: stderr is JSON lines only, the first names the URL, and a pasted URL finishes the login', async () => {
    const stdin = pasteChannel();
    const { run } = await startLogin(stdin, ['--json']);
    const url = await run.waitForStderr(/"url":"([^"]+)"/);
    const landed = await signInElsewhere(url, 'alice', stack.password('alice'));
    stdin.paste(landed.href);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(EXIT.OK);
    const events = stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'authorize', url, redirectUri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/), listening: true, acceptsPaste: true, timeoutSeconds: 60 });
    expect(JSON.parse(stdout)).toMatchObject({ profile: 'local', username: 'alice' });
  });

  it('--json: a refused paste is a JSON error line on stderr', async () => {
    const stdin = pasteChannel();
    const { run } = await startLogin(stdin, ['--json']);
    await run.waitForStderr(/"url":"([^"]+)"/);
    stdin.paste('http://127.0.0.1:1/callback?code=abc&state=not-this-one');
    const { code, stderr } = await run.done;
    expect(code).toBe(EXIT.AUTH);
    const lines = stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ error: { message: expect.stringContaining('state_mismatch'), exitCode: EXIT.AUTH } });
  });

  describe('a callback port that something else holds (Cognito-style fixed port)', () => {
    async function busyPortProfile() {
      const dir = await tempDir();
      const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: dir };
      const squatter = await scriptedServer((_req, res) => res.end('someone else'));
      const callbackUrl = `${squatter.url}/callback`;
      const oidc = stack.config.oidc;
      const saved = await runCli(['configure', '--profile', 'busy', '--api-url', stack.apiUrl, '--issuer', oidc.issuer, '--client-id', oidc.loginClient.clientId, '--callback-url', callbackUrl], { env });
      expect(saved.code, saved.stderr).toBe(EXIT.OK);
      return { env, callbackUrl, squatter, tokenFile: join(dir, 'tokens', 'busy.json') };
    }

    it('--no-browser says the port is taken, and a pasted URL still finishes the login', async () => {
      const { env, callbackUrl, squatter } = await busyPortProfile();
      try {
        const stdin = pasteChannel();
        const run = startCli(['--profile', 'busy', 'login', '--no-browser', '--timeout', '60'], { env, readLines: stdin.readLines });
        const url = await run.waitForStderr(PRINTED_URL);
        expect(new URL(url).searchParams.get('redirect_uri')).toBe(callbackUrl);
        await run.waitForStderr(/is in use/);
        stdin.paste((await signInElsewhere(url, 'alice', stack.password('alice'))).href);
        const { code, stdout, stderr } = await run.done;
        expect(code, stderr).toBe(EXIT.OK);
        expect(stdout).toBe('Logged in as alice (profile busy).\n');
        expect(squatter.requests).toHaveLength(0);
      } finally {
        await squatter.close();
      }
    });

    it('--no-browser with stdin at its end and no loopback: fails at once (exit 3), nothing stored', async () => {
      const { env, squatter, tokenFile } = await busyPortProfile();
      try {
        const { code, stderr } = await runCli(['--profile', 'busy', 'login', '--no-browser'], { env, stdin: '' });
        expect(code).toBe(EXIT.AUTH);
        expect(stderr).toContain('Login failed: no_code: standard input ended before a URL or code was pasted');
        expect(existsSync(tokenFile)).toBe(false);
      } finally {
        await squatter.close();
      }
    });

    it('with a browser to open, a taken port is still an error, and it says --no-browser can finish by pasting', async () => {
      const { env, squatter } = await busyPortProfile();
      try {
        const { code, stderr } = await runCli(['--profile', 'busy', 'login'], { env: { ...env, GATEHOUSE_NO_BROWSER: undefined } });
        expect(code).toBe(EXIT.AUTH);
        expect(stderr).toMatch(/port \d+ is in use/);
        expect(stderr).toContain('login --no-browser');
      } finally {
        await squatter.close();
      }
    });
  });
});
