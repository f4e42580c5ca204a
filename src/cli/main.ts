/**
 * The `ftpipe` command line. Each command lives in its own module under ./commands and registers itself here. Only
 * the module of the command being run is loaded (the dev stack and the Temporal worker are heavy, and `ftpipe
 * validate` needs neither); help, the version and unknown commands load them all.
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../paths';
import { otlpTracesConfigured } from '../telemetry/otlp-env';

type Register = (program: Command) => void;

/**
 * Every command module, with the commands it registers (test/foundation/cli-commands.test.ts checks the lists), in the
 * order `ftpipe --help` lists them: a run's commands first, as the README's table of the CLI has them.
 */
export const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<Register> }> = [
  { commands: ['run', 'status', 'pause', 'resume', 'approve', 'reject', 'cancel', 'list'], load: async () => (await import('./commands/runs.js')).registerRunCommands },
  { commands: ['watch'], load: async () => (await import('./commands/watch.js')).registerWatchCommand },
  { commands: ['copy'], load: async () => (await import('./commands/copy.js')).registerCopyCommand },
  { commands: ['report'], load: async () => (await import('./commands/report.js')).registerReportCommand },
  { commands: ['schedule'], load: async () => (await import('./commands/schedule.js')).registerScheduleCommands },
  { commands: ['validate'], load: async () => (await import('./commands/validate.js')).registerValidateCommand },
  { commands: ['emulator'], load: async () => (await import('./commands/emulator.js')).registerEmulatorCommand },
  { commands: ['dev', 'worker', 'doctor', 'demo'], load: async () => (await import('./commands/dev.js')).registerDevCommands },
  { commands: ['codec-server'], load: async () => (await import('./commands/codec.js')).registerCodecCommand },
];

/** The program with the commands that `argv` can reach: the named command's module, or all of them. */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('ftpipe')
    .description('A durable fine-tuning pipeline for Azure OpenAI, on Temporal')
    .version(packageVersion())
    .showHelpAfterError()
    // Before the commands are added, so that every subcommand inherits it (usage errors exit 2, not 1).
    .exitOverride();
  // The program itself has only --help and --version, so the first word that is not an option names the command.
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const named = COMMAND_MODULES.filter((entry) => name !== undefined && entry.commands.includes(name));
  for (const entry of named.length > 0 ? named : COMMAND_MODULES) (await entry.load())(program);
  return program;
}

/** `ftpipe list | head`: the reader has gone, so what is left to print has none; end quietly, as a pipe's writer does. */
function stdoutClosed(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
}

/** Exit codes: 0 success, 1 failure (including invalid data), 2 bad usage. */
export async function main(argv: string[] = process.argv): Promise<void> {
  process.stdout.on('error', stdoutClosed);
  // Spans of the CLI's Temporal calls (and of a worker it runs), exported when OTLP is configured; flushed at exit.
  const tracing = otlpTracesConfigured() ? (await import('../telemetry/tracing.js')).setupTracing({ serviceName: 'ftpipe' }) : undefined;
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    // The SDK's words for a payload this process has no codec for: say which setting decodes it.
    const hint = /Unknown encoding: binary\/encrypted/.test(message)
      ? ' (the run\'s payloads are encrypted: set FTPIPE_CODEC_KEY_FILE or FTPIPE_CODEC_KEYS as the worker has them; `ftpipe dev` prints its key file)'
      : '';
    console.error(`ftpipe: ${message}${hint}`);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  } finally {
    await tracing?.shutdown();
  }
}

if (require.main === module) void main();
