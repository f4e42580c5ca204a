/** Every workflow type the ftpipe worker registers. */
export { checkWorker } from './doctor';
export type { CheckWorkerInput, CheckWorkerResult } from './doctor';
