import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The package's own entry points (`gatehouse`, `gatehouse/cdk`, …) resolve to the sources, so code written against the
 * public exports (examples/) runs in tests without a build: `./dist/infra/index.js` in package.json `exports` is
 * `infra/index.ts` here. tsconfig.json `paths` says the same for the type-checker (test/package checks they agree).
 */
const { exports } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { exports: Record<string, string | { default: string }> };
const packageAliases = Object.entries(exports)
  .filter((entry): entry is [string, { default: string }] => typeof entry[1] === 'object')
  .map(([subpath, target]) => ({
    find: new RegExp(`^${`gatehouse${subpath.slice(1)}`.replace(/[/.]/g, '\\$&')}$`),
    replacement: fileURLToPath(new URL(target.default.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts'), import.meta.url)),
  }));

export default defineConfig({
  resolve: { alias: packageAliases },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // A clean run prints results only: console output of passing tests is dropped (a failing test's is shown), and so
    // is what code writes straight to stdout and stderr (test/support/quiet-output.ts). `npx vitest run
    // --silent=false test/security` shows the security suites' reports.
    silent: 'passed-only',
    setupFiles: ['test/support/quiet-output.ts'],
    env: {
      // The AWS SDK warns on Node < 22 in every worker and every process a test starts (they inherit this);
      // Gatehouse supports Node >= 20.19 on purpose (README), so the warning says nothing to a reader of the tests.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    // Suites start real servers (dynalite, oidc-provider) on loopback; give them room on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
