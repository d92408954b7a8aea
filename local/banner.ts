/** The text `npm start` prints once the stack is ready: where things are and how to make a first call. */
import type { LocalStack } from './stack.js';

export function banner(stack: LocalStack): string {
  const { config } = stack;
  const users = config.oidc.users.map((u) => `${u.username} / ${u.password}  (${u.groups.join(', ') || 'no group'})`);
  const lines = [
    '',
    `Gatehouse local stack ready in ${stack.startupMs} ms${stack.persisted ? ' (persistent: data kept in the state directory)' : ' (in memory: data is gone when it stops; --persist keeps it)'}`,
    '',
    `  API            ${config.apiUrl}            (GET ${config.apiUrl}/health, ${config.apiUrl}/openapi.json)`,
    `  admin key      ${config.adminKey}`,
    `  OIDC issuer    ${config.oidc.issuer}`,
    `    token        ${config.oidc.tokenEndpoint}`,
    `    login        ${config.oidc.authorizationEndpoint}`,
    `    machine      client ${config.oidc.machineClient.clientId}  secret ${config.oidc.machineClient.clientSecret}`,
    `    login client ${config.oidc.loginClient.clientId}  redirect ${config.oidc.loginClient.redirectUris.join(' ')}`,
    ...users.map((u, i) => `    ${i === 0 ? 'users ' : '      '}       ${u}`),
    `  IAM (SigV4)    ${config.iam.region}  ${config.iam.accessKeyId} / ${config.iam.secretAccessKey}  (service execute-api)`,
    `  DynamoDB       ${stack.endpoints.dynamodb}  table ${stack.settings.tableName ?? ''}`,
    `  written to     ${stack.configPath}  (secrets: keep it private)`,
    '',
    `  try:  curl -H "Authorization: Bearer ${config.adminKey}" ${config.apiUrl}/v1/whoami`,
    '',
  ];
  for (const warning of stack.warnings) lines.push(`  WARNING  ${warning}`);
  if (stack.warnings.length > 0) lines.push('');
  lines.push('  Ctrl-C stops everything.', '');
  return lines.join('\n');
}
