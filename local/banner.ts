/** The text `npm start` prints once the stack is ready: where things are and how to make a first call. */
import type { GatehouseApp, Target } from '../lambdas/app.js';
import { normaliseBasePath, type Route } from '../lambdas/core/api-definition.js';
import { LOCAL_METRICS_PATH } from './metrics-view.js';
import type { LocalStack } from './stack.js';

function targetLabel(name: string, target: Target | undefined): string {
  if (!target) return name;
  return target.kind === 'http' ? `${name} (http ${target.url})` : `${name} (lambda)`;
}

function access(route: Route): string {
  if (route.auth === 'public') return 'public';
  if (route.auth === 'iam') return 'SigV4';
  return route.scope ? `scope ${route.scope}` : 'any credential';
}

/** A team's routes, one a line: method, path, what serves it, what it needs. */
function teamRoutes(app: GatehouseApp): string[] {
  const own = app.api.routes.filter((r) => Object.hasOwn(app.targets, r.handler));
  const pathWidth = Math.max(0, ...own.map((r) => r.path.length));
  const served = own.map((r) => `${r.method.padEnd(6)} ${r.path.padEnd(pathWidth)}  → ${targetLabel(r.handler, app.targets[r.handler])}`);
  const servedWidth = Math.max(0, ...served.map((s) => s.length));
  return own.map((r, i) => `${served[i]!.padEnd(servedWidth)}  ${access(r)}`);
}

/** Where a Gatehouse handler group's route is, if the app serves it. */
function gatehousePath(app: GatehouseApp, handler: string, method = 'GET'): string | undefined {
  return app.api.routes.find((r) => r.handler === handler && r.method === method && !Object.hasOwn(app.targets, r.handler))?.path;
}

/** What `--https` and `--mtls` add: the CA to trust, the client certificate to present. */
function tlsLines(tls: LocalStack['config']['tls']): string[] {
  if (!tls) return [];
  const client = tls.clientCertificate;
  return [
    `  TLS            ${tls.mode === 'mtls' ? 'mutual TLS (client certificates of the local CA required), TLS 1.2+' : 'HTTPS, TLS 1.3 only'}; CA ${tls.ca}`,
    ...(client ? [`    client cert  ${client.cert}  key ${client.key}`, `                 subject ${client.subject}  issuer ${client.issuer}`] : []),
  ];
}

function curlTls(tls: LocalStack['config']['tls']): string {
  if (!tls) return '';
  const client = tls.clientCertificate;
  return ` --cacert ${tls.ca}${client ? ` --cert ${client.cert} --key ${client.key}` : ''}`;
}

export function banner(stack: LocalStack): string {
  const { config, app } = stack;
  const url = config.apiUrl;
  const isTeamApp = Object.keys(app.targets).length > 0 || app.definition.gatehouse !== undefined;
  const health = gatehousePath(app, 'health');
  const openapi = gatehousePath(app, 'openapi');
  const whoami = gatehousePath(app, 'whoami');
  const documents = [health, openapi].filter((p): p is string => p !== undefined).map((p) => `${url}${p}`);
  const users = config.oidc.users.map((u) => `${u.username} / ${u.password}  (${u.groups.join(', ') || 'no group'})`);
  const lines = [
    '',
    `${isTeamApp ? `${app.title} behind Gatehouse:` : 'Gatehouse'} local stack ready in ${stack.startupMs} ms${stack.persisted ? ' (persistent: data kept in the state directory)' : ' (in memory: data is gone when it stops; --persist keeps it)'}`,
    '',
    `  API            ${url}${documents.length > 0 ? `            (GET ${documents.join(', ')})` : ''}`,
  ];
  if (isTeamApp) {
    const routes = teamRoutes(app);
    lines.push(...routes.map((r, i) => `  ${i === 0 ? 'routes ' : '       '}        ${r}`));
    const mount = app.definition.gatehouse;
    lines.push(
      mount
        ? `  Gatehouse      ${url}${normaliseBasePath(mount.basePath)}  (its routes, e.g. ${whoami ?? health ?? '/'}, are under this base path)`
        : '  Gatehouse      its own routes are not mounted (add `gatehouse: { basePath }` to the app)',
    );
  }
  if (stack.consoleUrl !== undefined) {
    lines.push(`  console        ${stack.consoleUrl}  (in a browser: sign in as ${config.oidc.users.map((u) => u.username).join(' or ')})`);
  }
  lines.push(
    `  admin key      ${config.adminKey}`,
    `  OIDC issuer    ${config.oidc.issuer}`,
    `    token        ${config.oidc.tokenEndpoint}`,
    `    login        ${config.oidc.authorizationEndpoint}`,
    `    machine      client ${config.oidc.machineClient.clientId}  secret ${config.oidc.machineClient.clientSecret}`,
    `    login client ${config.oidc.loginClient.clientId}  redirect ${config.oidc.loginClient.redirectUris.join(' ')}`,
    ...users.map((u, i) => `    ${i === 0 ? 'users ' : '      '}       ${u}`),
    `  IAM (SigV4)    ${config.iam.region}  ${config.iam.accessKeyId} / ${config.iam.secretAccessKey}  (service execute-api)`,
    `  DynamoDB       ${stack.endpoints.dynamodb}  table ${stack.settings.tableName ?? ''}`,
    ...tlsLines(config.tls),
    `  metrics        ${url}${LOCAL_METRICS_PATH}  (the functions' CloudWatch metrics, aggregated; --metrics prints each)`,
    `  written to     ${stack.configPath}  (secrets: keep it private)`,
    '',
  );
  if (whoami) lines.push(`  try:  curl${curlTls(config.tls)} -H "Authorization: Bearer ${config.adminKey}" ${url}${whoami}`, '');
  for (const warning of stack.warnings) lines.push(`  WARNING  ${warning}`);
  if (stack.warnings.length > 0) lines.push('');
  lines.push('  Ctrl-C stops everything.', '');
  return lines.join('\n');
}
