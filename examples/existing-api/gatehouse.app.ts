/**
 * The reports service's API behind Gatehouse: its scopes, its routes and what serves each route, with Gatehouse's
 * own routes (keys, whoami, usage, audit, verify, OpenAPI, health) mounted under /gatehouse. One declaration serves
 * the CDK app (bin/app.ts) and the local stack (`npx gatehouse-local --app gatehouse.app.ts`).
 *
 * Lambda entries are relative to this file's folder (APP_DIR), for CDK and the local stack alike.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineApp, type GatehouseApp } from 'gatehouse';

/** The folder of this declaration: what its Lambda targets' entries are relative to. */
export const APP_DIR = dirname(fileURLToPath(import.meta.url));

/** The weather service the team already runs (GET /weather/{city} is proxied to it). */
export const WEATHER_SERVICE_URL = 'https://weather.example.com/api';

/**
 * The app, with the weather service at `weatherUrl`: by default WEATHER_SERVICE_URL, or WEATHER_SERVICE_URL from the
 * environment (a service on your machine while running the local stack). Read when the declaration is loaded, so
 * `cdk synth` with it set would deploy that URL: leave it unset for a deployment.
 */
export function reportsApp(weatherUrl: string = process.env.WEATHER_SERVICE_URL ?? WEATHER_SERVICE_URL): GatehouseApp {
  return defineApp({
    title: 'Reports',
    scopes: {
      'reports:read': { description: 'Read reports', groups: ['admins', 'users'] },
      'weather:read': { description: 'Read the weather', groups: ['admins', 'users'] },
    },
    routes: [
      { method: 'GET', path: '/reports', handler: 'reports', auth: 'token', scope: 'reports:read', summary: 'List reports' },
      { method: 'GET', path: '/weather/{city}', handler: 'weather', auth: 'token', scope: 'weather:read', summary: 'Current weather in a city' },
    ],
    targets: {
      // A Lambda function of the team's: src/reports.ts exports `handler` (it reads the caller with gatehouse/runtime).
      reports: { kind: 'lambda', entry: 'src/reports.ts', memorySize: 256, timeoutSeconds: 5 },
      // An HTTP service of the team's: GET /weather/{city} → <url>/weather/{city}, the caller in X-Gatehouse-* headers.
      weather: { kind: 'http', url: weatherUrl, timeoutMs: 10_000 },
    },
    gatehouse: { basePath: '/gatehouse' },
  });
}

export const app = reportsApp();
export default app;
