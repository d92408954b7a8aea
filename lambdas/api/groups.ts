/**
 * Finds the handler groups an API's routes name, by convention: route `handler: 'reports'` is served by the folder
 * `lambdas/api/reports/`, whose `index.ts` exports `group`. Nothing lists the groups, so adding one edits nothing
 * but the route table and its own folder. Used where every group must be known at once: CDK (functions, grants,
 * the OpenAPI document it bundles) and the local stack. Lambda bundles never use it (each imports its own group).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Api } from '../core/api-definition.js';
import type { HandlerGroup } from './group.js';

/** Where the group folders are (this folder: `lambdas/api/` in the repository, `dist/lambdas/api/` in the package). */
export const HANDLER_GROUPS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The Lambda entry file of a group folder, `.ts` in the repository or `.js` in the package. */
export function groupEntryFile(name: string, dir: string = HANDLER_GROUPS_DIR): string | undefined {
  for (const ext of ['ts', 'js']) {
    const file = `${dir.replace(/\/$/, '')}/${name}/index.${ext}`;
    if (existsSync(file)) return file;
  }
  return undefined;
}

export interface LoadGroupsOptions {
  /** Groups given as objects (tests, embedders): used instead of a folder of the same name. */
  readonly groups?: readonly HandlerGroup[];
  /** Handler names served by something else (a team's Lambda or HTTP targets): not looked up. */
  readonly targets?: Iterable<string>;
  /** Default: {@link HANDLER_GROUPS_DIR}. */
  readonly dir?: string;
}

/** Every handler group the API's routes name, by name; throws naming the route and the missing folder. */
export async function loadHandlerGroups(api: Api, options: LoadGroupsOptions = {}): Promise<ReadonlyMap<string, HandlerGroup>> {
  const given = new Map((options.groups ?? []).map((g) => [g.name, g]));
  const targets = new Set(options.targets ?? []);
  const dir = options.dir ?? HANDLER_GROUPS_DIR;
  const out = new Map<string, HandlerGroup>();
  for (const route of api.routes) {
    const name = route.handler;
    if (out.has(name) || targets.has(name)) continue;
    const provided = given.get(name);
    if (provided) {
      out.set(name, provided);
      continue;
    }
    const file = groupEntryFile(name, dir);
    if (!file) {
      throw new Error(`Route ${route.method} ${route.path} names handler group "${name}", but ${dir}${name}/index.ts does not exist: create the folder (docs/your-api.md)`);
    }
    const module = (await import(pathToFileURL(file).href)) as { group?: HandlerGroup };
    if (!module.group || module.group.name !== name) throw new Error(`${file} must export \`group\`, a handler group named "${name}" (defineHandlerGroup)`);
    out.set(name, module.group);
  }
  return out;
}

/** The groups' OpenAPI descriptions, by group name (openapi/document.ts). */
export function groupDocs(groups: ReadonlyMap<string, HandlerGroup>): Record<string, HandlerGroup['docs']> {
  return Object.fromEntries([...groups].map(([name, group]) => [name, group.docs]));
}
