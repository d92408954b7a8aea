/**
 * Builds the console's files (assets.ts) from its browser code (`web/`): esbuild bundles and minifies `web/main.ts`
 * into one ES module for current browsers; the stylesheet and icon are text; names carry a hash of their content.
 * Runs where the group's bundle hook runs — at synth and at `npm start` — never in Lambda.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import { encodeConsoleAssets, type ConsoleAssets } from './assets.js';
import { CONSOLE_ICON, consolePage } from './page.js';
import { CONSOLE_CSS } from './web/styles.js';

/** `web/main.ts` in the repository, `web/main.js` in the installed package. */
function entryFile(): string {
  for (const ext of ['ts', 'js']) {
    const file = fileURLToPath(new URL(`./web/main.${ext}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error(`The console's browser code is missing: no web/main.ts or web/main.js beside ${fileURLToPath(import.meta.url)}`);
}

/**
 * esbuild, loaded when a build runs: a static import would put the bundler into the console's Lambda bundle (this
 * module is part of it, through the group's bundle hook). It is a peer dependency wherever synth or `npm start` runs.
 */
function loadEsbuild(): typeof Esbuild {
  return createRequire(import.meta.url)('esbuild') as typeof Esbuild;
}

const hashed = (base: string, ext: string, body: string) => `${base}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;

export function buildConsoleAssets(): ConsoleAssets {
  const result = loadEsbuild().buildSync({
    entryPoints: [entryFile()],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    sourcemap: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error('esbuild produced no console script');
  const names = { script: hashed('app', 'js', script), style: hashed('app', 'css', CONSOLE_CSS), icon: hashed('icon', 'svg', CONSOLE_ICON) };
  return {
    page: consolePage(names),
    files: {
      [names.script]: { contentType: 'text/javascript; charset=utf-8', body: script },
      [names.style]: { contentType: 'text/css; charset=utf-8', body: CONSOLE_CSS },
      [names.icon]: { contentType: 'image/svg+xml', body: CONSOLE_ICON },
    },
  };
}

let built: string | undefined;

/** The encoded files, built once per process (they depend on nothing but the code: synth builds them once). */
export function encodedConsoleBuild(): string {
  built ??= encodeConsoleAssets(buildConsoleAssets());
  return built;
}
