/** `gatehouse whoami`: who the API thinks the caller is, and which credential said so. */
import type { Command } from 'commander';

import type { Whoami } from '../../operations.js';
import type { CommandContext } from '../context.js';
import { fields } from '../format.js';

async function whoami(context: CommandContext, command: Command): Promise<void> {
  const { client, profile, out } = await context.authedClient(command);
  const me: Whoami = await client.whoami();
  if (out.json) {
    out.value(me);
    return;
  }
  out.out(
    fields([
      ['principal', me.principalId],
      ['auth method', me.authMethod],
      ['tenant', me.tenant],
      ['scopes', me.scopes.join(' ') || '(none)'],
      ['key id', me.keyId],
      ['credential', context.credentialLabel],
      ['api', `${profile.apiUrl} (profile ${profile.name})`],
    ]),
  );
}

export function registerWhoami(program: Command, context: CommandContext): void {
  program
    .command('whoami')
    .description('who the API thinks you are (principal, tenant, scopes)')
    .action((_options: unknown, command: Command) => whoami(context, command));
}
