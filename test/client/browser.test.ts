/**
 * `gatehouse login` in a real browser: Debian's chromium, headless, driven by playwright-core. The CLI "opens" the
 * sign-in URL in it (its openUrl hook), a person's steps are typed into the local provider's login form, and the
 * browser is redirected to the CLI's loopback callback. Skips itself (saying why) when chromium is not installed.
 */
import { existsSync } from 'node:fs';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '../../client/cli.js';
import { removeTempDirs, runCli, startTestStack, tempDir, type TestStack } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!haveChromium) console.warn(`browser login test skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

describe('login in a real browser', () => {
  let stack: TestStack;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!haveChromium) return;
    stack = await startTestStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await removeTempDirs();
  });

  it.runIf(haveChromium)(`headless chromium signs alice in and the CLI stores her tokens (needs ${CHROMIUM})`, async () => {
    const page = await browser!.newPage();
    let finalPage: Promise<string> | undefined;
    const configDir = await tempDir();
    const result = await runCli(['--profile', 'local', 'login'], {
      env: { ...stack.env, GATEHOUSE_CONFIG_DIR: configDir, GATEHOUSE_NO_BROWSER: undefined },
      openUrl: (url) => {
        finalPage = (async () => {
          await page.goto(url);
          await page.getByLabel('Username').fill('alice');
          await page.getByLabel('Password').fill(stack.password('alice'));
          await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/), page.getByRole('button', { name: 'Sign in' }).click()]);
          return page.content();
        })();
      },
    });
    expect(result.code, result.stderr).toBe(EXIT.OK);
    expect(result.stdout).toBe('Logged in as alice (profile local).\n');
    expect(await finalPage).toContain('Signed in to Gatehouse');
    const whoami = await runCli(['--profile', 'local', 'whoami', '--json'], { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: configDir } });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ authMethod: 'jwt', scopes: expect.arrayContaining(['audit:read']) });
  }, 60_000);
});
