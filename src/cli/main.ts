/** The `ftpipe` command line. Each command lives in its own module under ./commands and registers itself here. */
import { Command, CommanderError } from 'commander';
import { registerDevCommands } from './commands/dev';
import { registerEmulatorCommand } from './commands/emulator';
import { registerReportCommand } from './commands/report';
import { registerRunCommands } from './commands/runs';
import { registerScheduleCommands } from './commands/schedule';
import { registerValidateCommand } from './commands/validate';
import { registerWatchCommand } from './commands/watch';
import { packageVersion } from '../paths';

export function buildProgram(): Command {
  const program = new Command('ftpipe')
    .description('A durable fine-tuning pipeline for Azure OpenAI, on Temporal')
    .version(packageVersion())
    .showHelpAfterError()
    // Before the commands are added, so that every subcommand inherits it (usage errors exit 2, not 1).
    .exitOverride();
  registerDevCommands(program);
  registerEmulatorCommand(program);
  registerReportCommand(program);
  registerRunCommands(program);
  registerScheduleCommands(program);
  registerValidateCommand(program);
  registerWatchCommand(program);
  return program;
}

/** Exit codes: 0 success, 1 failure (including invalid data), 2 bad usage. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(`ftpipe: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  }
}

if (require.main === module) void main();
