/**
 * The console's static files — its page, script, stylesheet and icon — as one value the function carries in its
 * code (the group's bundle hook builds it: build.ts): deflate-raw + base64url of JSON, like the OpenAPI document.
 * No bucket, no CDN: the API serves them itself, from the same origin as the routes the page calls.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConfigError } from '../../core/errors.js';
import type { DeploymentValues } from '../group.js';

/** The variable the files are bundled under (esbuild `define`). */
export const CONSOLE_ASSETS_ENV = 'GATEHOUSE_CONSOLE_ASSETS';

export interface ConsoleFile {
  readonly contentType: string;
  readonly body: string;
}

export interface ConsoleAssets {
  /** The HTML page (`GET /console`). */
  readonly page: string;
  /** Files under `/console/`, by name; names carry a hash of their content, so they can be cached for good. */
  readonly files: Readonly<Record<string, ConsoleFile>>;
}

export function encodeConsoleAssets(assets: ConsoleAssets): string {
  return deflateRawSync(Buffer.from(JSON.stringify(assets), 'utf8'), { level: 9 }).toString('base64url');
}

function isFile(value: unknown): value is ConsoleFile {
  return typeof value === 'object' && value !== null && typeof (value as ConsoleFile).contentType === 'string' && typeof (value as ConsoleFile).body === 'string';
}

export function decodeConsoleAssets(encoded: string): ConsoleAssets {
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(Buffer.from(encoded, 'base64url')).toString('utf8'));
  } catch {
    throw new ConfigError(CONSOLE_ASSETS_ENV, "the console's files, encoded by its bundle hook");
  }
  const { page, files } = (parsed ?? {}) as { page?: unknown; files?: unknown };
  if (typeof page !== 'string' || typeof files !== 'object' || files === null || !Object.values(files).every(isFile)) {
    throw new ConfigError(CONSOLE_ASSETS_ENV, "the console's files, encoded by its bundle hook");
  }
  return { page, files: files as Record<string, ConsoleFile> };
}

/** The file named `name`, looked up among the object's own entries (`constructor` or `__proto__` is no file). */
export function consoleFile(assets: ConsoleAssets, name: string): ConsoleFile | undefined {
  return Object.hasOwn(assets.files, name) ? assets.files[name] : undefined;
}

/** The console's files: handed in by the local stack, else bundled (undefined outside a bundle that has them). */
export function encodedConsoleAssets(values: DeploymentValues = {}): string | undefined {
  // A literal `process.env.GATEHOUSE_CONSOLE_ASSETS` member expression: esbuild's define replaces exactly this text.
  return values[CONSOLE_ASSETS_ENV] || process.env.GATEHOUSE_CONSOLE_ASSETS || undefined;
}
