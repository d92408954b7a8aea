/**
 * The CDK app as `npm run synth` builds it from cdk.json (bundling skipped, no AWS account): what §2 bundles — every
 * function infra creates, with the entry, esbuild `define` and `alias` infra gives it (infra/bundle.ts, function.ts)
 * — and the templates whose idle resources §6 prices, for any context overrides (the dev and prod profiles).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { HandlerGroup } from '../lambdas/api/group.js';
import { GatehouseFunction, REPO_ROOT } from '../infra/function.js';
import { buildGatehouse } from '../infra/gatehouse.js';
import { loadAppGroups } from '../infra/groups.js';

/** A function as infra bundles it. */
export interface DeployedFunction {
  /** authorizer, api/<group>, bookkeeper, bootstrap, jwks-mirror. */
  readonly name: string;
  /** Relative to the repository. */
  readonly entry: string;
  readonly define: Readonly<Record<string, string>>;
  readonly alias: Readonly<Record<string, string>>;
  /** Its memory (MB) and whether it runs on Arm (the template's MemorySize and Architectures). */
  readonly memoryMb: number;
  readonly arm: boolean;
}

export interface SynthesizedDeployment {
  readonly functions: readonly DeployedFunction[];
  /** Every stack's CloudFormation template. */
  readonly templates: readonly { readonly stackName: string; readonly template: Record<string, unknown> }[];
}

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

let groups: Promise<ReadonlyMap<string, HandlerGroup>> | undefined;

/** infra's construct ids → the names the report uses. */
function nameOf(id: string): string {
  if (id.startsWith('Handler-')) return `api/${id.slice('Handler-'.length)}`;
  return id.replace(/(?<=[a-z])(?=[A-Z])/g, '-').toLowerCase();
}

export async function synthDeployment(overrides: Readonly<Record<string, unknown>> = {}): Promise<SynthesizedDeployment> {
  groups ??= loadAppGroups();
  // The cloud assembly goes to a folder of its own, removed afterwards; CloudFormation's own template validation is
  // the tests' business (as in test/infra), not the benchmark's.
  process.env.CDK_VALIDATION = 'false';
  const outdir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-synth-'));
  try {
    const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...overrides } });
    buildGatehouse(app, { groups: await groups });
    const functions = app.node
      .findAll()
      .filter((c): c is GatehouseFunction => c instanceof GatehouseFunction)
      .map((fn) => {
        const cfn = fn.fn.node.defaultChild as CfnFunction;
        return { name: nameOf(fn.node.id), entry: relative(REPO_ROOT, fn.entry), define: fn.define, alias: fn.alias, memoryMb: cfn.memorySize ?? 128, arm: (cfn.architectures ?? []).includes('arm64') };
      });
    const assembly = app.synth();
    return { functions, templates: assembly.stacks.map((s) => ({ stackName: s.stackName, template: s.template as Record<string, unknown> })) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
