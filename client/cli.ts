/**
 * `gatehouse`: the command line for Gatehouse. `main(argv, io)` runs one command and resolves to the exit code; it
 * never calls process.exit and writes only through `io`, so tests run it in-process. `bin/gatehouse.js` (through
 * run.ts) is the executable around it. The commands live in cli/commands/, one module per group; what they share
 * (io, output, credentials, errors) in cli/.
 */
import { CommanderError } from 'commander';

import { CommandContext } from './cli/context.js';
import { reportError } from './cli/errors.js';
import { EXIT } from './cli/exit-codes.js';
import { defaultIo, type CliIo } from './cli/io.js';
import type { GlobalOptions } from './cli/options.js';
import { buildProgram, configureForIo, EPILOG, wantsJson } from './cli/program.js';

export { EXIT, type ExitCode } from './cli/exit-codes.js';
export { defaultIo, openInBrowser, type CliIo } from './cli/io.js';

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo(), ...ioOverrides };
  const context = new CommandContext(io);
  const program = buildProgram(context);
  configureForIo(program, io, wantsJson(argv));
  if (argv.length === 0) {
    io.stdout(program.helpInformation());
    io.stdout(EPILOG);
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message; --help and --version exit 0, anything else is a usage error.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportError(error, program.opts<GlobalOptions>(), context);
  }
}
