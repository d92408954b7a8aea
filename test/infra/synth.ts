/**
 * Builds the Gatehouse app for tests: cdk.json's context (what `cdk deploy` uses) plus the test's overrides, with
 * bundling skipped (`aws:cdk:bundling-stacks: []`) so no esbuild runs. The app is synthesised once and every
 * stack's template is read from that one cloud assembly (Template.fromStack would synthesise the app per stack).
 * The handler groups are loaded once, when this module loads (dynamic import), as infra/app.ts does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { REPO_ROOT } from '../../infra/function.js';
import { buildGatehouse, type BuildGatehouseOptions, type GatehouseStacks } from '../../infra/gatehouse.js';
import { loadAppGroups } from '../../infra/groups.js';

export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

/** Gatehouse's own handler groups (every group lambdas/routes.ts names). */
export const GATEHOUSE_GROUPS = await loadAppGroups();

/** Options of buildGatehouse besides the groups. */
export type BuildOptions = Omit<BuildGatehouseOptions, 'groups'>;

/** buildGatehouse with Gatehouse's own groups. */
export function buildDefault(app: App, options: BuildOptions = {}): GatehouseStacks {
  return buildGatehouse(app, { groups: GATEHOUSE_GROUPS, ...options });
}

export function createApp(overrides: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...overrides } });
}

export type StackKey = 'network' | 'data' | 'identity' | 'waf' | 'api';
export const STACK_KEYS: readonly StackKey[] = ['network', 'data', 'identity', 'waf', 'api'];

export interface SynthResult {
  readonly app: App;
  readonly stacks: GatehouseStacks;
  readonly assembly: CloudAssembly;
  readonly templates: Record<StackKey, Template>;
}

export function synthGatehouse(overrides: Record<string, unknown> = {}, options: BuildOptions = {}): SynthResult {
  const app = createApp(overrides);
  const stacks = buildDefault(app, options);
  const assembly = app.synth();
  const templates = Object.fromEntries(
    STACK_KEYS.map((key) => [key, Template.fromJSON(assembly.getStackByName(stacks[key].stackName).template as Record<string, unknown>)]),
  ) as Record<StackKey, Template>;
  return { app, stacks, assembly, templates };
}

/** Resources of one type in a template, by logical id. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export function resourcesOf(template: Template, type: string): Record<string, TemplateResource> {
  return template.findResources(type) as unknown as Record<string, TemplateResource>;
}
