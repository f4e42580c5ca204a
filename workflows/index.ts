/** Every workflow type the ftpipe worker registers. */
export { checkWorker } from './doctor';
export type { CheckWorkerInput, CheckWorkerResult } from './doctor';
export {
  fineTunePipeline, pauseSignal, resumeSignal, pauseUpdate, resumeUpdate, statusQuery, approveSignal, rejectSignal, approveUpdate, rejectUpdate,
  copyToRegionSignal, copyToRegionUpdate, HISTORY_EVENT_BUDGET,
} from './pipeline';
export type { ApprovalInput, ControlInput, ControlOutcome, PipelineWorkflowInput, PipelineContinuation } from './pipeline';
export { resourceAdmission, requestSlotsSignal, releaseSlotsSignal, admissionQuery, admissionNoticeSignal } from './admission';
export type { AdmissionInput, AdmissionView, SlotRequest, SlotRelease } from './admission';
export { planPipeline } from './plan';
export type { RunPlan, PlannedDeployment } from './plan';
