/** Every workflow type the ftpipe worker registers, and the pipeline's message contract (workflows/messages.ts). */
export { checkWorker } from './doctor';
export type { CheckWorkerInput, CheckWorkerResult } from './doctor';
export { fineTunePipeline } from './pipeline';
export type { PipelineWorkflowInput, PipelineContinuation } from './pipeline';
export * from './messages';
export { resourceAdmission, requestSlotsSignal, releaseSlotsSignal, admissionQuery } from './admission';
export type { AdmissionInput, AdmissionView, SlotRequest, SlotRelease } from './admission';
export { keepDeploymentAlive } from './keep-alive';
export type { KeepAliveInput } from './keep-alive';
export { planPipeline } from './plan';
export type { RunPlan, PlannedDeployment } from './plan';
