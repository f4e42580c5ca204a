/**
 * Every signal, update and query of the pipeline workflow, registered in one place (definitions: messages.ts). Each
 * handler parses its raw argument at the boundary and hands the request to the run (run.ts); signals record a refusal,
 * update validators throw it, so no caller can fail a workflow task. Workflow-safe.
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { patched } from './patches';
import { safeParseCopyRequest } from '../src/pipeline/input';
import { ledgerOf } from '../src/report/build';
import { isTerminalJobStatus, type ApprovalRecord, type ControlKind } from '../src/pipeline/types';
import { checkQueryArg, messageOrFail, parseMessage } from './boundary';
import { parseApprovalInput, parseControlInput, parseEvalProgressNotice } from './boundary-schemas';
import {
  DESCRIPTIONS, approveSignal, approveUpdate, copyToRegionSignal, copyToRegionUpdate, evalProgressSignal, pauseSignal, pauseUpdate, rejectSignal, rejectUpdate,
  resumeSignal, resumeUpdate, statusQuery, type ControlOutcome,
} from './messages';
import { nowIso, type PipelineRun } from './run';

/**
 * A validator's refusal: one failure type for every refusal, which the payload codec leaves readable, so the Web UI's
 * update dialog shows the reason inline (it holds only states and ids, never data).
 */
function refused(reason: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(reason, 'RequestRefused');
}

export function registerHandlers(run: PipelineRun): void {
  const { status } = run;

  const onControlSignal = (kind: ControlKind) => (raw?: unknown): void => {
    const parsed = parseMessage(parseControlInput, raw, {});
    if (!parsed.ok) return run.refuseSignal(kind, parsed.reason);
    run.queueControlSignal(kind, parsed.value.by);
  };
  const onControlUpdate = (kind: ControlKind) => async (raw?: unknown): Promise<ControlOutcome> => {
    const request = messageOrFail(parseControlInput, raw, kind, {});
    const job = await run.controlNow(kind, request.by);
    return { jobStatus: job.status, message: `${kind === 'pause' ? 'pause' : 'resume'} sent to Azure; job ${job.id} is ${job.status}` };
  };
  /** Refuses only what cannot be stale (bad input, no job yet, a job or training that ended); the job's state is read from Azure by the handler. */
  const controlValidator = (kind: ControlKind) => (raw?: unknown): void => {
    messageOrFail(parseControlInput, raw, kind, {});
    const job = status.job;
    if (!job) throw refused(`cannot ${kind}: there is no Azure job yet (stage ${status.stage})`);
    if (isTerminalJobStatus(job.status)) throw refused(`cannot ${kind}: job ${job.id} has ended (${job.status})`);
    // A job the run stopped (at its budget, Azure's billing limit, early) stays paused: no monitor would watch it resumed.
    const over = run.trainingOverRefusal();
    if (over) throw refused(`cannot ${kind}: ${over}`);
  };
  setHandler(pauseSignal, onControlSignal('pause'), { description: DESCRIPTIONS.pause });
  setHandler(resumeSignal, onControlSignal('resume'), { description: DESCRIPTIONS.resume });
  setHandler(pauseUpdate, onControlUpdate('pause'), { validator: controlValidator('pause'), description: DESCRIPTIONS.pauseRun });
  setHandler(resumeUpdate, onControlUpdate('resume'), { validator: controlValidator('resume'), description: DESCRIPTIONS.resumeRun });
  setHandler(statusQuery, (raw?: unknown) => {
    checkQueryArg(raw);
    return { ...status, ledger: ledgerOf(status, nowIso()) };
  }, { description: DESCRIPTIONS.status });

  /** An approval is only taken while the run awaits it (signal and update alike): an early one is refused, never kept for later. */
  const approvalRefusal = (): string | undefined => (status.stage === 'await_approval' ? undefined : `the run is not awaiting approval (stage ${status.stage})`);
  const onApprovalSignal = (decision: ApprovalRecord['decision']) => (raw?: unknown): void => {
    const kind = decision === 'approved' ? 'approve' : 'reject';
    const parsed = parseMessage(parseApprovalInput, raw, {});
    if (!parsed.ok) return run.refuseSignal(kind, parsed.reason);
    // Runs from before took an early signal as a decision waiting for the stage (the patch keeps them so).
    const refusal = approvalRefusal();
    if (refusal && patched('ftpipe-approval-in-stage')) return run.refuseSignal(kind, refusal);
    run.decide(decision, parsed.value);
  };
  const approvalValidator = (raw?: unknown): void => {
    messageOrFail(parseApprovalInput, raw, 'approval', {});
    const refusal = approvalRefusal();
    if (refusal) throw refused(refusal);
  };
  setHandler(approveSignal, onApprovalSignal('approved'), { description: DESCRIPTIONS.approve });
  setHandler(rejectSignal, onApprovalSignal('rejected'), { description: DESCRIPTIONS.reject });
  setHandler(approveUpdate, async (raw?: unknown) => run.decide('approved', messageOrFail(parseApprovalInput, raw, 'approve', {})), { validator: approvalValidator, description: DESCRIPTIONS.approveRun });
  setHandler(rejectUpdate, async (raw?: unknown) => run.decide('rejected', messageOrFail(parseApprovalInput, raw, 'reject', {})), { validator: approvalValidator, description: DESCRIPTIONS.rejectRun });

  const copyValidator = (raw?: unknown): void => {
    messageOrFail(safeParseCopyRequest, raw, 'copy');
    const refusal = run.copyRefusal();
    if (refusal) throw refused(refusal);
  };
  setHandler(copyToRegionSignal, (raw?: unknown) => {
    const parsed = parseMessage(safeParseCopyRequest, raw);
    const refusal = parsed.ok ? run.copyRefusal() : parsed.reason;
    if (refusal) run.refuseSignal('copyToRegion', refusal);
    else if (parsed.ok) run.queueCopy(parsed.value);
  }, { description: DESCRIPTIONS.copyToRegion });
  // Display only: a notice that does not parse, or is about a deployment the run is not scoring now, changes nothing.
  setHandler(evalProgressSignal, (raw?: unknown) => {
    const parsed = parseMessage(parseEvalProgressNotice, raw);
    if (parsed.ok) run.noteEvalItems(parsed.value);
  }, { description: DESCRIPTIONS.evalProgress });
  setHandler(copyToRegionUpdate, async (raw?: unknown) => run.queueCopy(messageOrFail(safeParseCopyRequest, raw, 'copy')), { validator: copyValidator, description: DESCRIPTIONS.copyToRegionRun });
}
