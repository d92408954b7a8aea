/** Services for handler tests: real dynalite, a static pepper, and output captured from the real Powertools logger. */
import { vi } from 'vitest';
import { createServices, type ApiSettings, type Services } from '../../lambdas/api/services.js';
import { NO_METRICS, type MetricsSink } from '../../lambdas/core/metrics.js';
import { StaticPepperSource } from '../../lambdas/core/pepper.js';
import { readSettings } from '../../lambdas/core/settings.js';
import { API_SETTINGS } from '../../lambdas/api/services.js';
import type { TestDynamo } from './dynalite.js';
import { groupDocs, loadHandlerGroups } from '../../lambdas/api/groups.js';
import { buildOpenApiDocument } from '../../lambdas/api/openapi/document.js';
import type { Api } from '../../lambdas/core/api-definition.js';
import { GATEHOUSE_API } from '../../lambdas/routes.js';

export const TEST_PEPPER = 'services-test-pepper-'.padEnd(48, 'q');

export function testSettings(overrides: Partial<ApiSettings> = {}, dynamo?: TestDynamo): ApiSettings {
  return {
    ...readSettings(API_SETTINGS, {}),
    keyEnvironment: 'test',
    ...(dynamo ? { tableName: dynamo.tableName } : {}),
    localPepper: TEST_PEPPER,
    ...overrides,
  };
}

/** Metrics go nowhere unless a test passes a sink (the EMF lines would otherwise mix into captured output). */
export function testServices(dynamo: TestDynamo, options: { settings?: Partial<ApiSettings>; now?: () => number; metrics?: MetricsSink } = {}): Services {
  return createServices(testSettings(options.settings, dynamo), 'gatehouse-test', {
    doc: dynamo.doc,
    pepperSource: new StaticPepperSource(TEST_PEPPER),
    metrics: options.metrics ?? NO_METRICS,
    ...(options.now ? { now: options.now } : {}),
  });
}

/** Everything Powertools writes (INFO to stdout, WARN/ERROR to stderr) while active; call restore() when done. */
export function captureOutput(): { text(): string; restore(): void } {
  const writes: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true)),
  );
  return { text: () => writes.join(''), restore: () => spies.forEach((s) => s.mockRestore()) };
}

/** The OpenAPI document of Gatehouse's own API, built as CDK and the local stack build it (every group loaded). */
export async function gatehouseOpenApiDocument(api: Api = GATEHOUSE_API): Promise<Record<string, unknown>> {
  return buildOpenApiDocument(api, { docs: groupDocs(await loadHandlerGroups(api)) });
}
