/** `gatehouse whoami`: who the API thinks the caller is, whether an administrator, and which credential said so. */
import type { Command } from 'commander';

import type { Whoami } from '../../operations.js';
import type { CommandContext } from '../context.js';
import { fields } from '../format.js';

async function whoami(context: CommandContext, command: Command): Promise<void> {
  // The answer names the credential itself; only --json, whose stdout is the API's answer, gets the notice.
  const { client, profile, out } = await context.authedClient(command, { announce: false });
  if (out.json) context.announceCredential(out);
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
      // An API from before `admin` was part of the answer says nothing: then neither does this line.
      ['administrator', typeof me.admin === 'boolean' ? (me.admin ? "yes (reads every tenant's audit trail)" : 'no') : undefined],
      ['plan', me.plan],
      ['key id', me.keyId],
      ['certificate', me.certificate],
      ['credential', context.used.label],
      ['api', `${profile.apiUrl} (profile ${profile.name})`],
    ]),
  );
}

export function registerWhoami(program: Command, context: CommandContext): void {
  program
    .command('whoami')
    .description('who the API thinks you are (principal, tenant, scopes, administrator or not)')
    .action((_options: unknown, command: Command) => whoami(context, command));
}
