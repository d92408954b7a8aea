/**
 * GET /reports, a Lambda function of the team's behind Gatehouse. The authorizer has already checked the caller's
 * credential and the route's scope; gatehouseHandler reads the caller from the request context, checks the scope
 * again (defence in depth: this function may one day sit behind another route) and answers refusals and failures
 * in Gatehouse's error envelope.
 */
import { gatehouseHandler } from 'gatehouse/runtime';

interface Report {
  readonly id: string;
  readonly title: string;
}

const REPORTS: readonly Report[] = [
  { id: 'r-2026-q3', title: 'Third quarter' },
  { id: 'r-2026-q4', title: 'Fourth quarter' },
];

export const handler = gatehouseHandler({ scope: 'reports:read' }, ({ principal }) =>
  // A real service would read the tenant's own reports: principal.tenant is the partition, never a client's input.
  Promise.resolve({ status: 200, body: { tenant: principal.tenant, reports: REPORTS } }),
);
