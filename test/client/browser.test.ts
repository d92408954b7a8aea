/**
 * `gatehouse login` in a real browser: Debian's chromium, headless, driven by playwright-core. The CLI "opens" the
 * sign-in URL in it (its openUrl hook), a person's steps are typed into the local provider's login form, and the
 * browser is redirected to the CLI's loopback callback. Skips itself (saying why) when chromium is not installed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '../../client/cli.js';
import { pkceAuthorization } from '../support/browser.js';
import { removeTempDirs, runCli, startTestStack, tempDir, type TestStack } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the sign-in page (git-ignored). */
const ARTIFACTS = fileURLToPath(new URL('../artifacts/login/', import.meta.url));
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

  it.runIf(haveChromium)('item 10: the sign-in page on a phone: styled under its own CSP (no violation), no wider than the screen, the error above the fields', async () => {
    const context = await browser!.newContext({ viewport: { width: 360, height: 740 } });
    try {
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      const { url } = pkceAuthorization({
        authorizationEndpoint: stack.config.oidc.authorizationEndpoint,
        clientId: stack.config.oidc.loginClient.clientId,
        redirectUri: 'http://127.0.0.1:53682/callback',
        scope: 'openid',
      });
      await page.goto(url);
      expect(await page.title()).toBe('Sign in · Gatehouse');
      expect(await page.locator('.brand').textContent()).toContain('Gatehouse');
      expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(1);
      const button = page.getByRole('button', { name: 'Sign in' });
      // The stylesheet applied (its hash is in the CSP): the brand colour, not the browser's grey button.
      expect(await button.evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(31, 95, 191)');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      expect((await page.getByLabel('Username').boundingBox())!.width).toBeGreaterThan(250);
      await page.screenshot({ path: `${ARTIFACTS}sign-in-phone.png`, fullPage: true });

      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('not-her-password');
      await button.click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toBe('Incorrect username or password.');
      expect((await alert.boundingBox())!.y + (await alert.boundingBox())!.height).toBeLessThanOrEqual((await page.getByLabel('Username').boundingBox())!.y);
      expect(await page.getByLabel('Username').inputValue()).toBe('alice');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
      await page.screenshot({ path: `${ARTIFACTS}sign-in-error-phone.png`, fullPage: true });
      // Chromium reports every style or script a CSP refuses as a console error: there is none.
      expect(refused).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
