/**
 * The pipeline workflow's contract: its workflow type and every signal, update and query it answers, with the
 * descriptions the Web UI shows. The workflow registers its handlers from these definitions; the client, the CLI,
 * schedules and tests import them instead of spelling names, so a rename is one edit that the compiler follows.
 * Safe to import from workflow and Node code alike (definitions only; types from the boundary and src/pipeline).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CopyRequest } from '../src/pipeline/input';
import type { ApprovalRecord, CopyStatus, JobStatus, PipelineStatus } from '../src/pipeline/types';
import type { ApprovalInput, ControlInput } from './boundary';
import type { EvalProgressNotice } from './boundary-schemas';

export type { ApprovalInput, ControlInput } from './boundary';
/** Sent to a run by its resource's admission queue; defined beside that queue (workflows/admission.ts). */
export { admissionNoticeSignal } from './admission';

/** The workflow types the ftpipe worker registers, as clients start them (each is the exported function's name). */
export const PIPELINE_WORKFLOW_TYPE = 'fineTunePipeline';
export const CHECK_WORKER_WORKFLOW_TYPE = 'checkWorker';
/** Started by a promoted deployment's keep-alive schedule (`deployment.idle: keepAlive`): one call to the deployment. */
export const KEEP_ALIVE_WORKFLOW_TYPE = 'keepDeploymentAlive';
export const PLAN_WORKFLOW_TYPE = 'planPipeline';
export const ADMISSION_WORKFLOW_TYPE = 'resourceAdmission';

/** What a pause or resume update answers. */
export interface ControlOutcome {
  jobStatus: JobStatus;
  message: string;
}

export const pauseSignal = defineSignal<[ControlInput]>('pause');
export const resumeSignal = defineSignal<[ControlInput]>('resume');
export const pauseUpdate = defineUpdate<ControlOutcome, [ControlInput]>('pauseRun');
export const resumeUpdate = defineUpdate<ControlOutcome, [ControlInput]>('resumeRun');
export const approveSignal = defineSignal<[ApprovalInput]>('approve');
export const rejectSignal = defineSignal<[ApprovalInput]>('reject');
export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalInput]>('approveRun');
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalInput]>('rejectRun');
export const copyToRegionSignal = defineSignal<[CopyRequest]>('copyToRegion');
export const copyToRegionUpdate = defineUpdate<CopyStatus, [CopyRequest]>('copyToRegionRun');
/**
 * Sent by the runEvalSet activity to its own run after its first answer and each quarter of the eval set it has scored (a workflow cannot read
 * its activities' heartbeats), so `status.task` and the Web UI's current details show the items n/N. Internal: the
 * Web UI lists every registered signal, so its description says so. Its name stays as recorded histories and open
 * runs have it (a renamed handler would leave their notices unhandled).
 */
export const evalProgressSignal = defineSignal<[EvalProgressNotice]>('evalProgress');
export const statusQuery = defineQuery<PipelineStatus, [Record<string, never>?]>('status');

/** What the Web UI shows beside each handler (its "Send a Signal"/"Execute Update"/"Query" dialogs). */
export const DESCRIPTIONS = {
  pause: 'Pause the Azure fine-tuning job (ftpipe sends it once the job has trained its first step); a deployable checkpoint is kept. Input: {"by": "name"} or {}.',
  resume: 'Resume a paused Azure fine-tuning job. Input: {"by": "name"} or {}.',
  pauseRun: 'Pause the Azure job now and answer with its status, or refuse with the reason.',
  resumeRun: 'Resume the paused Azure job now and answer with its status, or refuse with the reason.',
  approve: 'Approve the production deployment while the run awaits approval (refused before, in status.requests). Input: {"by": "name", "comment": "..."}.',
  reject: 'Reject the production deployment while the run awaits approval (refused before, in status.requests). Input: {"by": "name", "comment": "..."}.',
  approveRun: 'Approve now; refused unless the run awaits approval.',
  rejectRun: 'Reject now; refused unless the run awaits approval.',
  copyToRegion:
    'Copy the chosen checkpoint to another account/region (preview copy API), and deploy it there if asked. Input: {"destinationResourceId": "/subscriptions/.../accounts/x", "region": "northcentralus", "deploy": {"profile": "...", "name": "..."}}.',
  copyToRegionRun: 'Queue a checkpoint copy to another region; answers with its status record.',
  evalProgress: 'Internal, not a control: the run\'s own runEvalSet activity sends it with the eval items scored so far, for the current details and status.task. Display only: sent by hand it steers nothing, and a notice about a deployment the run is not scoring now is ignored. Input: {"deployment": "...", "done": 4, "total": 10}.',
  status: 'Stage, job status, progress and ETA, latest metrics, recent events, files, timeline, requests and errors. Input: {} or none.',
} as const satisfies Record<string, string>;
