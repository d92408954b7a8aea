/**
 * `npm start -- --app <file>`: a team's app declaration, loaded from its module. The module exports the result of
 * `defineApp(...)` (lambdas/app.ts) as its default export or as `app`; the file's folder is where its Lambda
 * targets' relative entries are (as for CDK, which reads the same declaration).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GatehouseApp } from '../lambdas/app.js';

export class AppFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppFileError';
  }
}

export interface LoadedApp {
  readonly app: GatehouseApp;
  /** The declaration file's folder (absolute). */
  readonly baseDir: string;
  readonly file: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** What defineApp returns (a checked app), as opposed to the declaration it is given. */
function isGatehouseApp(value: unknown): value is GatehouseApp {
  return (
    isRecord(value) &&
    isRecord(value.definition) &&
    isRecord(value.api) &&
    Array.isArray(value.api.routes) &&
    isRecord(value.api.scopes) &&
    isRecord(value.targets) &&
    typeof value.title === 'string'
  );
}

export async function loadAppFile(path: string, cwd: string = process.cwd()): Promise<LoadedApp> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new AppFileError(`--app ${path}: ${file} does not exist`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    // A declaration that defineApp refuses fails here, with defineApp's message naming what is wrong.
    throw new AppFileError(`--app ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const candidates = [module.default, module.app];
  const app = candidates.find(isGatehouseApp);
  if (!app) {
    const plain = candidates.some((c) => isRecord(c) && Array.isArray(c.routes) && isRecord(c.targets));
    throw new AppFileError(
      plain
        ? `--app ${path}: the export is a plain declaration; export defineApp(...) of it instead (it checks the declaration)`
        : `--app ${path}: export the app as \`export default defineApp({...})\` (or \`export const app = defineApp({...})\`)`,
    );
  }
  return { app, baseDir: dirname(file), file };
}
