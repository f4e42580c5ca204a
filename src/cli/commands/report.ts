/** `ftpipe report`: writes a run's report as one self-contained HTML file. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { PipelineResult, PipelineStatus } from '../../client';
import { buildRunReport, statusFromVisibility } from '../../report/build';
import { BASE_MODEL, FINE_TUNED_MODEL, JOB_ID, PROFILE, RUN_NAME, STAGE } from '../../temporal/search-attributes';
import { renderReport } from '../../report/html';
import { parseRunReport } from '../../report/parse';
import type { RunReport } from '../../pipeline/types';
import { connect, withConnectionFlags, type ConnectionFlags } from '../connection';
import { usageError } from '../usage';
import { failureCause } from './runs';

interface ReportFlags extends ConnectionFlags {
  out?: string;
  fromJson?: string;
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

/**
 * The report of a run in any state (run = workflow id or run name): a completed run's own report from its result;
 * otherwise one built from its `status` query (Temporal answers queries on closed runs too, through a worker of the
 * run's task queue) and, for a run that failed or was cancelled, the failure.
 */
async function reportFromRun(run: string, flags: ReportFlags): Promise<RunReport> {
  const client = await connect(flags);
  try {
    const { handle, execution } = await client.findPipeline(run);
    const id = handle.workflowId;
    let result: PipelineResult | undefined;
    let failure: string | null = null;
    if (execution === 'COMPLETED') {
      result = await handle.result();
      if (result.report) return parseRunReport(result.report, `run ${id}`);
    } else if (execution !== 'RUNNING' && execution !== 'PAUSED') {
      failure = await handle.result().then(() => null, (err: unknown) => failureCause(err));
    }
    let status: PipelineStatus;
    let caveat: string | undefined;
    let known: { jobId: string | null; fineTunedModel: string | null } | undefined;
    try {
      status = await handle.status();
    } catch (err) {
      // No worker answered (or the run is no pipeline of this version): report what the visibility store and the
      // failure say, and say that this is all.
      const described = await handle.workflow.describe();
      const attrs = described.typedSearchAttributes;
      status = statusFromVisibility({
        runName: attrs.get(RUN_NAME) ?? id,
        profile: attrs.get(PROFILE) ?? '-',
        baseModel: attrs.get(BASE_MODEL) ?? '-',
        stage: attrs.get(STAGE) ?? 'preflight',
        startedAt: described.startTime.toISOString(),
      });
      known = { jobId: attrs.get(JOB_ID) ?? null, fineTunedModel: attrs.get(FINE_TUNED_MODEL) ?? null };
      caveat = `Partial: the run's status query was not answered (${(err as Error).message}), so this report holds only what Temporal's search attributes${failure ? ' and the failure' : ''} say; with a worker of its task queue running, ftpipe report gives the whole run.`;
    }
    return buildRunReport({
      status,
      ...(caveat ? { caveat } : {}),
      ...(known ? { known } : {}),
      execution,
      outcome: result?.outcome ?? null,
      failure,
      // A result of another version (or workflow) may lack these lists.
      deleted: result ? [...(result.deletedDeployments as string[] | undefined ?? []), ...(result.deletedFiles as string[] | undefined ?? [])] : [],
      generatedAt: new Date().toISOString(),
    });
  } finally {
    await client.close();
  }
}

export function registerReportCommand(program: Command): void {
  withConnectionFlags(program.command('report [run]'))
    .description('Write a run\'s report, in any state (curves, checkpoints, eval scores, decision, stages, copies, what is live) as one self-contained HTML file')
    .option('--out <file>', 'where to write it (default <runName>-report.html)')
    .option('--from-json <file>', 'render a report saved as JSON (a RunReport) instead of reading a run')
    .action(async (run: string | undefined, flags: ReportFlags) => {
      if (!run && !flags.fromJson) {
        throw usageError('report: name a run (workflow id or run name) or give --from-json <file>');
      }
      const report = flags.fromJson ? readReportFile(flags.fromJson) : await reportFromRun(run!, flags);
      const out = resolve(flags.out ?? `${report.runName.replace(/[^A-Za-z0-9._-]/g, '_')}-report.html`);
      writeFileSync(out, renderReport(report));
      console.log(out);
    });
}
