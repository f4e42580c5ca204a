/** `ftpipe run`, `status`, `pause`, `resume`, `cancel`, `list`: starting and steering pipeline runs. */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { connect, withConnectionFlags, withPipeline, type ConnectionFlags } from '../connection';
import { formatTable } from '../table';
import { PipelineAlreadyRunningError, type PipelineHandle, type PipelineResult, type PipelineStatus } from '../../client';
import { pipelineInputKeysAt, safeParsePipelineInput, type PipelineInputDraft } from '../../pipeline/input';
import { describeSourceIssues, readSourceFile, type SourceFile } from '../../config/source-file';
import { moreSecretWebhookFields } from '../../notify/schema';
import { TASK_QUEUE } from '../../temporal/constants';
import { formatPlan, planRun } from '../dry-run';
import { barLine, pipedKey } from '../progress-bar';
import { parsePositiveInt, usageError } from '../usage';
import { approvalEvidenceLines } from '../../pipeline/approval';
import { formatProgressLine, trainingEta, type ProgressView } from '../../pipeline/progress';
import { isTerminalJobStatus, type ApprovalRecord, type CopyStatus, type JobSnapshot } from '../../pipeline/types';

/** A pipeline file as read: the input (relative dataset paths taken relative to the file) and where its keys are. */
export interface PipelineFile {
  input: PipelineInputDraft;
  source: SourceFile;
}

/** Reads a pipeline file (YAML or JSON); relative dataset paths are taken relative to the file. */
export function readPipelineSource(path: string): PipelineFile {
  let source: SourceFile;
  try {
    source = readSourceFile(path, 'pipeline file');
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const raw = source.value;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw usageError(`${path}: a pipeline file holds one object (the workflow input)`);
  const input = raw as PipelineInputDraft & Record<string, unknown>;
  const base = dirname(resolve(path));
  const absolute = <T>(source: T): T =>
    source && typeof source === 'object' && 'path' in source && typeof source.path === 'string' && !isAbsolute(source.path) ? { ...source, path: resolve(base, source.path) } : source;
  const training = absolute(input.training);
  const validation = absolute(input.validation);
  const evaluation = input.evaluation?.evalSet ? { ...input.evaluation, evalSet: absolute(input.evaluation.evalSet) } : input.evaluation;
  return { input: { ...input, ...(training ? { training } : {}), ...(validation ? { validation } : {}), ...(evaluation ? { evaluation } : {}) }, source };
}

export function readPipelineFile(path: string): PipelineInputDraft {
  return readPipelineSource(path).input;
}

/**
 * Checks a pipeline file's input (with the flags that set fields of it) as the workflow will, before anything talks to
 * Temporal: bad input exits 2 with one line per fault, `file:line: field: reason`, or `file: --flag: reason` for a flag.
 */
export function checkPipelineInput(file: PipelineFile, flags: { fromJob?: string } = {}): void {
  const input = { ...file.input, ...(flags.fromJob ? { fromJob: flags.fromJob } : {}) };
  const parsed = safeParsePipelineInput(input);
  if (parsed.success) {
    const secretWebhooks = moreSecretWebhookFields(parsed.data.notify).map(({ path, message }) => ({ code: 'custom' as const, path, message, input: undefined }));
    if (secretWebhooks.length === 0) return;
    const lines = describeSourceIssues(file.source, secretWebhooks);
    throw usageError(lines.length === 1 ? lines[0]! : `invalid pipeline file:\n  ${lines.join('\n  ')}`);
  }
  const lines = parsed.error.issues.flatMap((issue) => {
    if (flags.fromJob && issue.path[0] === 'fromJob') return [`${file.source.path}: --from-job: ${issue.message}`];
    const named = flags.fromJob ? issue : { ...issue, message: issue.message.replace(/unless fromJob names/, 'unless fromJob (or --from-job) names') };
    return describeSourceIssues(file.source, [named], pipelineInputKeysAt);
  });
  throw usageError(lines.length === 1 ? lines[0]! : `invalid pipeline file:\n  ${lines.join('\n  ')}`);
}

function fmt(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

/** How each outcome of a completed run reads, in `ftpipe run --wait`'s summary and `ftpipe status`. */
const OUTCOME_HEADLINES: Record<PipelineResult['outcome'], string> = { succeeded: 'succeeded', not_promoted: 'trained, not promoted', cancelled_in_azure: 'ended: the job was cancelled in Azure', skipped_no_new_data: 'skipped: no new data', not_deployable: 'ended: Azure\'s safety evaluation found the model not deployable', stopped_at_billing_limit: 'stopped: Azure paused the job at its billing limit and the budget allows no more', stopped_at_budget: 'stopped: the training spend passed budget.maxTrainingUsd; the job is paused', stopped_early: 'stopped early: the job\'s automatic evaluation stayed flat; the job was cancelled' };

const PAUSE_STATUSES: ReadonlySet<string> = new Set(['pausing', 'paused']);

/** `training: step n/N (p%)`, with the ETA only while the job trains: a paused job's would count down, and "measuring" would never end. */
export function trainingLine(job: Pick<JobSnapshot, 'status' | 'createdAt'>, progress: PipelineStatus['progress'], nowSeconds: number): string {
  const training = !isTerminalJobStatus(job.status) && !PAUSE_STATUSES.has(job.status);
  const p = progress;
  return `training: step ${p.step ?? '-'}/${p.totalSteps ?? '?'}${p.percent !== null ? ` (${p.percent}%)` : ''}${training ? `, ${trainingEta(p, nowSeconds, job.createdAt)}` : ''}`;
}

/** A copy the run was asked for, as the Web UI's details word it: `copy to <region>: <status>`, where it deployed, why it failed. */
export function copyLine(c: CopyStatus): string {
  const deployed = c.deployment ? ` (deployed as ${c.deployment.name}, profile ${c.deployment.profile})` : '';
  return `copy to ${c.region}: ${c.status}${deployed}${c.error ? `: ${c.error}` : ''}`;
}

/** Who decided the run's deployment, when, and their comment: `approval: approved by maria at <time> ("scores look right")`. */
export function approvalLine(a: ApprovalRecord): string {
  return `approval: ${a.decision} by ${a.by} at ${a.at}${a.comment ? ` (${JSON.stringify(a.comment)})` : ''}`;
}

/** `outcome: <outcome>`, with its headline in parentheses when that says more than the outcome's own word. */
export function outcomeLine(outcome: PipelineResult['outcome']): string {
  const headline = OUTCOME_HEADLINES[outcome];
  return headline === outcome ? `outcome: ${outcome}` : `outcome: ${outcome} (${headline})`;
}

/**
 * The status in words; `now` (what the run is doing, from its activities' heartbeats too) when the caller read it;
 * the result of a completed run, whose outcome and notes the status does not hold (a run skipped for unchanged data
 * is stage `completed` with no job).
 */
export function formatStatus(status: PipelineStatus, now?: ProgressView, result?: PipelineResult): string {
  const lines = [
    `run ${status.runName} (profile ${status.profile}, base ${status.baseModel})`,
    `  stage: ${status.stage}${status.continuations ? ` (continued ${status.continuations}x)` : ''}`,
  ];
  if (now) lines.push(`  now: ${formatProgressLine(now)}`);
  if (result) lines.push(`  ${outcomeLine(result.outcome)}`);
  if (status.job) {
    const p = status.progress;
    lines.push(`  job: ${status.job.id} ${status.job.status}${status.job.fineTunedModel ? ` -> ${status.job.fineTunedModel}` : ''}`);
    lines.push(`  ${trainingLine(status.job, p, Date.now() / 1000)}`);
    if (status.job.error) lines.push(`  Azure error: ${status.job.error.code ?? ''} ${status.job.error.message}`);
  }
  if (status.latestMetrics) {
    const m = status.latestMetrics;
    lines.push(`  metrics @${m.step}: train loss ${fmt(m.trainLoss)}, accuracy ${fmt(m.trainMeanTokenAccuracy)}, valid loss ${fmt(m.validLoss ?? m.fullValidLoss)}`);
  }
  if (status.evaluation) {
    const { analysis, scores, decision } = status.evaluation;
    lines.push(`  chosen: ${analysis.chosen.model} (step ${analysis.chosen.step}): ${analysis.reason}`);
    const baseline = scores.find((s) => s.kind === 'baseline');
    for (const s of scores) {
      const lift = baseline && s.kind === 'candidate' ? `, lift ${s.score - baseline.score >= 0 ? '+' : ''}${(s.score - baseline.score).toFixed(3)} over the baseline` : '';
      lines.push(`  eval ${s.kind} ${s.candidate}: ${s.score.toFixed(3)} over ${s.items} items${lift}`);
    }
    lines.push(`  evaluation's decision: ${decision.promoted ? 'promote' : 'do not promote'}: ${decision.reason}`);
  }
  for (const c of status.copies) lines.push(`  ${copyLine(c)}`);
  if (status.approval) lines.push(`  ${approvalLine(status.approval)}`);
  if (status.stage === 'await_approval') {
    lines.push(`  awaiting approval: ftpipe approve ${status.runName} --by NAME, or ftpipe reject ${status.runName} --by NAME --comment WHY`);
    for (const line of status.approvalEvidence ? approvalEvidenceLines(status.approvalEvidence) : ['approving deploys a fine-tuned deployment, billed by the hour unless DeveloperTier']) lines.push(`    ${line}`);
  }
  for (const file of status.files) lines.push(`  ${file.role} file: ${file.fileId} (${file.origin}, ${file.status})`);
  for (const request of status.requests.slice(-5)) lines.push(`  ${request.kind} (${request.via}${request.by ? ` by ${request.by}` : ''}): ${request.state}${request.reason ? `: ${request.reason}` : ''}`);
  for (const error of status.errors.slice(-3)) lines.push(`  error in ${error.stage}: ${error.message}`);
  for (const event of status.recentEvents.slice(-3)) lines.push(`  event: ${event.message}`);
  for (const note of result?.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

export function formatResult(result: PipelineResult): string {
  const headline = OUTCOME_HEADLINES[result.outcome];
  const lines = [`${headline}: run ${result.runName}${result.jobId ? `, job ${result.jobId}` : ''}`];
  if (result.fineTunedModel) lines.push(`  fine-tuned model: ${result.fineTunedModel}`);
  if (result.trainedTokens !== null) lines.push(`  trained tokens: ${result.trainedTokens}`);
  const chosen = result.evaluation?.analysis.chosen.id;
  for (const c of result.checkpoints) {
    lines.push(`  checkpoint step ${c.step}: ${c.model} (full valid loss ${fmt(c.metrics.fullValidLoss)}, train loss ${fmt(c.metrics.trainLoss)})${c.id === chosen ? '  <- chosen' : ''}`);
  }
  if (result.evaluation) {
    const { analysis, scores, decision } = result.evaluation;
    lines.push(`  choice: ${analysis.reason}${analysis.overfitting.detected ? `; overfitting: ${analysis.overfitting.detail}` : ''}`);
    for (const s of scores) lines.push(`  eval ${s.kind} ${s.candidate}: ${s.score.toFixed(3)} over ${s.items} items`);
    lines.push(`  decision: ${decision.promoted ? 'promote' : 'do not promote'}: ${decision.reason}`);
  }
  if (result.approval) lines.push(`  ${approvalLine(result.approval)}`);
  for (const d of result.deployments) lines.push(`  live deployment: ${d.name} (${d.sku} x${d.capacity}, profile ${d.profile}) -> ${d.model}`);
  for (const c of result.copies) lines.push(`  ${copyLine(c)}`);
  if (result.deletedDeployments.length) lines.push(`  retired deployments: ${result.deletedDeployments.join(', ')}`);
  if (result.resultFileId) lines.push(`  results.csv: file ${result.resultFileId}`);
  for (const note of result.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

/** What Ctrl-C while following a run prints: the run is not cancelled, and how to find it again. */
export function detachMessage(workflowId: string): string {
  return [
    `stopped following ${workflowId}; the run goes on in Temporal (Ctrl-C does not cancel it).`,
    `  follow it again: ftpipe watch ${workflowId}`,
    `  its status:      ftpipe status ${workflowId}`,
    `  stop it:         ftpipe cancel ${workflowId}`,
  ].join('\n');
}

/**
 * Until `follow` returns, Ctrl-C (SIGINT) detaches: it says that the run goes on and how to follow it, then exits 130
 * (the shell's code for an interrupt), without waiting for the pending Temporal calls.
 */
export async function detachOnInterrupt<T>(workflowId: string, follow: () => Promise<T>, beforeMessage: () => void = () => undefined): Promise<T> {
  const onInterrupt = (): void => {
    beforeMessage();
    process.stdout.write(`\n${detachMessage(workflowId)}\n`, () => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await follow();
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/**
 * Follows a run to its end: on a terminal one progress line redrawn in place (cli-progress), piped a line per change;
 * Ctrl-C detaches. The line names what the run does now (queued, training n/N steps, scoring n/N items, deploying).
 */
async function follow(handle: PipelineHandle): Promise<void> {
  const interactive = process.stdout.isTTY === true;
  const bar = new SingleBar({ format: (_options, _params, payload: { line: string }) => payload.line, hideCursor: true, clearOnComplete: false });
  let started = false;
  const stopBar = (): void => {
    if (started) bar.stop();
    started = false;
  };
  let printed = '';
  await detachOnInterrupt(handle.workflowId, async () => {
    for await (const { view, status } of handle.watchProgress({ intervalMs: 1_000 })) {
      const line = barLine(view);
      if (interactive) {
        if (!started) bar.start(1, 0, { line });
        started = true;
        bar.update(0, { line });
        continue;
      }
      const key = pipedKey(view, status.progress.etaSeconds);
      if (key === printed) continue;
      printed = key;
      console.log(line.replace(/\s+\|/g, ' |'));
    }
  }, stopBar);
  stopBar();
}

/** Why a run ended without a result, in words: the failure's own message (Azure's, the dataset's), or "cancelled". */
export function failureCause(err: unknown): string {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause as (Error & { cause?: Error }) | undefined;
    if (cause instanceof CancelledFailure) return 'cancelled';
    if (cause instanceof TerminatedFailure) return `terminated${cause.message ? `: ${cause.message}` : ''}`;
    return cause?.cause?.message ?? cause?.message ?? err.message;
  }
  return (err as Error).message;
}

/**
 * A dry run's failure in words: nothing ran, so a refused input is the preflight's refusal naming each field
 * (workflows/plan.ts fails with InvalidPipelineInput), not "run failed". Exit code 1 (invalid data), as main.ts says.
 */
export function dryRunRefusal(err: unknown): string {
  if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidPipelineInput') {
    const issues = (err.cause.details?.[0] as { issues?: string[] } | undefined)?.issues;
    return `dry run: the preflight refused the input (nothing ran, nothing was written to Azure): ${issues?.length ? issues.join('; ') : err.cause.message}`;
  }
  return `dry run failed (nothing was written to Azure): ${failureCause(err)}`;
}

/** A steering command's failure in words: the run's failure, or the run's refusal of an update with its reason. */
export function failureMessage(err: unknown): string {
  if (err instanceof WorkflowFailedError) return `run failed: ${failureCause(err)}`;
  if (err instanceof WorkflowUpdateFailedError) return `refused: ${(err.cause)?.message ?? err.message}`;
  return (err as Error).message;
}

/** The command that follows the run `ftpipe run` started or found open: the same file, workflow id and task queue. */
export function joinCommand(file: string, opts: { workflowId?: string; taskQueue?: string }): string {
  return `ftpipe run ${file}${opts.workflowId ? ` --workflow-id ${opts.workflowId}` : ''}${opts.taskQueue ? ` --task-queue ${opts.taskQueue}` : ''} --join --wait`;
}

export function registerRunCommands(program: Command): void {
  withConnectionFlags(program.command('run <pipeline-file>'))
    .description('Start a pipeline run from a YAML or JSON file holding the workflow input')
    .option('--wait', 'follow the run with a progress bar, then print its summary')
    .option('--workflow-id <id>', 'workflow id (default ftpipe-<runName>)')
    .option('--join', 'if a run with this id is open, follow it instead of refusing')
    .option('--dry-run', 'print the plan (validation, cost estimate, free slots, deployments and their hourly cost) without writing to Azure')
    .option('--task-queue <queue>', 'task queue of the workers (default fine-tuning)')
    .option('--from-job <ftjob-id>', 'carry on from this Azure job (running or succeeded) instead of training: the input\'s fromJob')
    .action(async (file: string, opts: ConnectionFlags & { wait?: boolean; workflowId?: string; join?: boolean; dryRun?: boolean; taskQueue?: string; fromJob?: string }) => {
      const pipeline = readPipelineSource(file);
      checkPipelineInput(pipeline, opts);
      const input = { ...pipeline.input, ...(opts.fromJob ? { fromJob: opts.fromJob } : {}) };
      const client = await connect(opts);
      try {
        if (opts.dryRun) {
          console.log(formatPlan(await planRun(client, input, opts.taskQueue ?? TASK_QUEUE).catch((err: unknown) => {
            throw new Error(dryRunRefusal(err));
          })));
          return;
        }
        const handle = await client.startPipeline(input, { ...(opts.workflowId ? { workflowId: opts.workflowId } : {}), ...(opts.taskQueue ? { taskQueue: opts.taskQueue } : {}), ifRunning: opts.join ? 'join' : 'fail' });
        console.log(`started ${handle.workflowId}`);
        if (!opts.wait) {
          console.log(`  follow it: ftpipe watch ${handle.workflowId} (curves), ftpipe status ${handle.workflowId}, or ${joinCommand(file, opts)}`);
          return;
        }
        await follow(handle);
        console.log(formatResult(await handle.result()));
      } catch (err) {
        if (err instanceof PipelineAlreadyRunningError) {
          throw new Error(`a run with workflow id "${err.workflowId}" is already open: follow it with --join (${joinCommand(file, opts)}), watch it with ftpipe watch ${err.workflowId}, or cancel it with ftpipe cancel ${err.workflowId}`);
        }
        throw new Error(failureMessage(err));
      } finally {
        await client.close();
      }
    });

  withConnectionFlags(program.command('status <run>'))
    .description('Show a run\'s stage, job, progress, metrics and events (run = workflow id or run name)')
    .option('--json', 'print the status as JSON')
    .action(async (run: string, opts: ConnectionFlags & { json?: boolean }) => {
      await withPipeline(opts, run, async ({ handle }) => {
        if (opts.json) {
          console.log(JSON.stringify(await handle.status(), null, 2));
          return;
        }
        const { status, view, execution } = await handle.progress();
        console.log(formatStatus(status, view, execution === 'COMPLETED' ? await handle.result() : undefined));
      });
    });

  for (const kind of ['pause', 'resume'] as const) {
    withConnectionFlags(program.command(`${kind} <run>`))
      .description(kind === 'pause' ? 'Pause the run\'s Azure job (it must be running and have trained a step)' : 'Resume the run\'s paused Azure job')
      .option('--by <name>', 'who asks, for the record')
      .action(async (run: string, opts: ConnectionFlags & { by?: string }) => {
        await withPipeline(opts, run, async ({ handle }) => {
          const outcome = await (kind === 'pause' ? handle.pause(opts.by ? { by: opts.by } : {}) : handle.resume(opts.by ? { by: opts.by } : {})).catch((err: unknown) => {
            throw new Error(failureMessage(err));
          });
          console.log(outcome.message);
        });
      });
  }

  for (const kind of ['approve', 'reject'] as const) {
    withConnectionFlags(program.command(`${kind} <run>`))
      .description(kind === 'approve' ? 'Approve the deployment of a run that awaits approval' : 'Reject the deployment of a run that awaits approval (it ends not promoted)')
      .option('--by <name>', 'who decides, for the record')
      .option('--comment <text>', 'why, for the record')
      .action(async (run: string, opts: ConnectionFlags & { by?: string; comment?: string }) => {
        await withPipeline(opts, run, async ({ handle }) => {
          const request = { ...(opts.by ? { by: opts.by } : {}), ...(opts.comment ? { comment: opts.comment } : {}) };
          const record = await (kind === 'approve' ? handle.approve(request) : handle.reject(request)).catch((err: unknown) => {
            throw new Error(failureMessage(err));
          });
          const next = record.decision === 'approved' ? 'the run deploys the chosen checkpoint now' : 'the run ends not promoted';
          console.log(`${record.decision} by ${record.by} at ${record.at}${record.comment ? ` ("${record.comment}")` : ''}: ${next}`);
        });
      });
  }

  withConnectionFlags(program.command('cancel <run>'))
    .description('Cancel a run: its Azure job is cancelled and the files it uploaded are cleaned up')
    .action(async (run: string, opts: ConnectionFlags) => {
      await withPipeline(opts, run, async ({ handle }) => {
        const outcome = await handle.cancel();
        if (outcome.state === 'requested') console.log(`cancellation requested for ${handle.workflowId}: its Azure job is cancelled and its uploads cleaned up (follow it with ftpipe status ${run})`);
        else if (outcome.state === 'already_cancelling') console.log(`run ${handle.workflowId} is already being cancelled (an earlier request); follow it with ftpipe status ${run}`);
        else console.log(`run ${handle.workflowId} has already closed (${outcome.execution.toLowerCase()}): nothing to cancel`);
      });
    });

  withConnectionFlags(program.command('list'))
    .description('List recent runs from Temporal\'s visibility store, one row per run (its latest execution)')
    .option('--query <filter>', 'extra visibility filter, e.g. "FtpipeStage = \'train\'" or "ExecutionStatus = \'Running\'"')
    .option('--limit <n>', 'at most this many runs', parsePositiveInt, 20)
    .option('--json', 'print JSON')
    .action(async (opts: ConnectionFlags & { query?: string; limit: number; json?: boolean }) => {
      const client = await connect(opts);
      try {
        const runs = await client.listPipelines({ ...(opts.query ? { query: opts.query } : {}), limit: opts.limit });
        if (opts.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log('no runs');
          return;
        }
        const when = (d: Date | undefined): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
        console.log(formatTable(
          ['RUN', 'STATUS', 'STAGE', 'BASE MODEL', 'STARTED', 'CLOSED', 'WORKFLOW ID'],
          runs.map((r) => [r.runName ?? '-', r.status, r.stage ?? '-', r.baseModel ?? '-', when(r.startTime), when(r.closeTime), r.workflowId]),
        ));
      } finally {
        await client.close();
      }
    });
}
