/** `ftpipe validate`: checks a fine-tuning dataset before anything is uploaded. Exit 0 valid, 1 invalid, 2 bad usage. */
import { Command, Option } from 'commander';
import { CatalogConfigError, loadCatalog } from '../../catalog';
import { DatasetUsageError, formatSummary, validateDataset } from '../../dataset';
import { parsePositiveInt } from '../usage';

interface ValidateFlags {
  validation?: string;
  model: string;
  method: 'supervised' | 'dpo' | 'reinforcement';
  nEpochs?: number;
  json?: boolean;
  maxIssues: number;
  threads?: number;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Validate a JSONL fine-tuning dataset: format, encoding, limits, duplicates, exact token counts')
    .argument('<file>', 'training file (JSONL)')
    .option('--validation <file>', 'validation file (JSONL)')
    .requiredOption('--model <id>', 'base model, e.g. gpt-4.1-mini (see the catalogue; FTPIPE_CATALOG adds models)')
    .addOption(new Option('--method <method>', 'fine-tuning method').choices(['supervised', 'dpo', 'reinforcement']).default('supervised'))
    .option('--n-epochs <n>', 'epochs the job will run (default: the service\'s automatic rule)', parsePositiveInt)
    .option('--max-issues <n>', 'errors and warnings to list (the rest are counted)', parsePositiveInt, 20)
    .option('--json', 'print one JSON report instead of the summary')
    .option('--threads <n>', 'threads that check lines, this one included (default: one per 4 MiB of the file, at most the idle cores)', parsePositiveInt)
    // Parse errors throw to main(), which exits 2 (bad usage); subcommands added before the program's own exitOverride() do not inherit it.
    .exitOverride()
    .action(async (file: string, flags: ValidateFlags) => {
      try {
        const catalog = await loadCatalog();
        const report = await validateDataset({
          trainingFile: file, validationFile: flags.validation, model: flags.model, method: flags.method,
          nEpochs: flags.nEpochs, catalog, maxIssues: flags.maxIssues, callerThreadIdle: true,
          threads: flags.threads,
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`);
        process.exitCode = report.valid ? 0 : 1;
      } catch (error) {
        if (!(error instanceof DatasetUsageError || error instanceof CatalogConfigError)) throw error;
        process.stderr.write(`ftpipe validate: ${error.message}\n`);
        process.exitCode = 2;
      }
    });
}
