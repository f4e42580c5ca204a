/** `ftpipe report`: writes a run's report as one self-contained HTML file. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { renderReport } from '../../report/html';
import { parseRunReport } from '../../report/parse';
import type { RunReport } from '../../report/types';
import { connect } from './runs';

interface ReportFlags {
  out?: string;
  fromJson?: string;
  address?: string;
  namespace?: string;
}

function readReportFile(path: string): RunReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseRunReport(value, path);
}

/** The report in a finished run's result (run = workflow id or run name). */
async function reportFromRun(run: string, flags: ReportFlags): Promise<RunReport> {
  const client = await connect(flags);
  try {
    const { handle, execution } = await client.findPipeline(run);
    const id = handle.workflowId;
    if (execution === 'RUNNING') throw new Error(`run ${id} is still running: its report is written when it ends`);
    if (execution !== 'COMPLETED') throw new Error(`run ${id} ended ${execution.toLowerCase()} without a result; its status (ftpipe status ${run}) says why`);
    const result = (await handle.result()) as unknown as { report?: unknown };
    if (result.report === undefined || result.report === null) throw new Error(`run ${id}'s result carries no report (the job produced no model)`);
    return parseRunReport(result.report, `run ${id}`);
  } finally {
    await client.close();
  }
}

export function registerReportCommand(program: Command): void {
  program
    .command('report [run]')
    .description('Write a run\'s report (curves, checkpoints, eval scores, decision, deployments) as one self-contained HTML file')
    .option('--out <file>', 'where to write it (default <runName>-report.html)')
    .option('--from-json <file>', 'render a report saved as JSON (a RunReport) instead of reading a run')
    .option('--address <host:port>', 'Temporal frontend address (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <ns>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or default)')
    .action(async (run: string | undefined, flags: ReportFlags) => {
      if (!run && !flags.fromJson) {
        process.exitCode = 2;
        throw new Error('report: name a run (workflow id or run name) or give --from-json <file>');
      }
      const report = flags.fromJson ? readReportFile(flags.fromJson) : await reportFromRun(run!, flags);
      const out = resolve(flags.out ?? `${report.runName.replace(/[^A-Za-z0-9._-]/g, '_')}-report.html`);
      writeFileSync(out, renderReport(report));
      console.log(out);
    });
}
