/**
 * The handler groups an app's routes name (Gatehouse's own, mounted or at the root), loaded by convention from
 * their folders (lambdas/api/groups.ts). Asynchronous (dynamic import): load them before building the constructs,
 * e.g. with top-level await in the CDK app's entry file.
 */
import { loadHandlerGroups, type LoadGroupsOptions } from '../lambdas/api/groups.js';
import type { HandlerGroup } from '../lambdas/api/group.js';
import { GATEHOUSE_APP, type GatehouseApp } from '../lambdas/app.js';

export function loadAppGroups(app: GatehouseApp = GATEHOUSE_APP, options: Omit<LoadGroupsOptions, 'targets'> = {}): Promise<ReadonlyMap<string, HandlerGroup>> {
  return loadHandlerGroups(app.api, { ...options, targets: Object.keys(app.targets) });
}
