/** The pipeline's activity stubs, with the run's timeouts. Workflow-safe. */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PipelineInput, Timeouts } from '../src/pipeline/input';
import { validationTaskQueue } from '../src/temporal/constants';

/**
 * Retry by cause: a lost worker, a heartbeat or start-to-close timeout and a transient Azure fault are retried with
 * backoff for as long as the run's timeouts allow (no attempt limit: five crashed workers must not fail a run);
 * what retrying cannot fix (invalid data, a refusal, Azure's 4xx including auth failures) is thrown non-retryable
 * by the activity and fails at once.
 */
const RETRY_BY_CAUSE: ActivityOptions['retry'] = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes' };

/** Activity stubs with this run's timeouts. (proxyActivities returns a Proxy: take its members by name, never spread it.) */
export function activitiesFor(timeouts: Timeouts, polling: PipelineInput['polling']) {
  const heartbeatTimeout = `${timeouts.heartbeatSeconds} seconds` as const;
  const azure = proxyActivities<Activities>({ startToCloseTimeout: `${timeouts.azureCallSeconds} seconds`, retry: RETRY_BY_CAUSE });
  // On the validation task queue: a validation waits there for a slot (see workers/worker.ts), not inside an activity.
  const validation = proxyActivities<Activities>({ taskQueue: validationTaskQueue(workflowInfo().taskQueue), startToCloseTimeout: '2 hours', heartbeatTimeout, retry: RETRY_BY_CAUSE });
  const long = proxyActivities<Activities>({ startToCloseTimeout: '6 hours', heartbeatTimeout, retry: RETRY_BY_CAUSE });
  // Creating activities finish their cancellation before the workflow's cleanup runs: otherwise a create still in
  // flight could make its deployment or file after cleanup deleted what it knew of.
  const creating = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout,
    retry: RETRY_BY_CAUSE,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const fileWait = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: `${Math.max(timeouts.heartbeatSeconds, Math.ceil(polling.fileIntervalSeconds * 3))} seconds`,
    retry: RETRY_BY_CAUSE,
  });
  // Bounded (about 15 s of retries): a dead webhook costs the run a few seconds at its end, never a stage.
  const notify = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout: '30 seconds', retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 4 } });
  return {
    notifyRun: notify.notifyRun,
    preflight: azure.preflight,
    proveCredentials: azure.proveCredentials,
    describeFile: azure.describeFile,
    importFile: azure.importFile,
    deleteFiles: azure.deleteFiles,
    createFineTuningJob: azure.createFineTuningJob,
    adoptFineTuningJob: azure.adoptFineTuningJob,
    pollFineTuningJob: azure.pollFineTuningJob,
    pauseFineTuningJob: azure.pauseFineTuningJob,
    resumeFineTuningJob: azure.resumeFineTuningJob,
    cancelFineTuningJob: azure.cancelFineTuningJob,
    collectJobResults: azure.collectJobResults,
    readAutomaticEvaluations: azure.readAutomaticEvaluations,
    lineageState: azure.lineageState,
    analyzeJobMetrics: azure.analyzeJobMetrics,
    checkDeploymentPlan: azure.checkDeploymentPlan,
    listDeployments: azure.listDeployments,
    startCheckpointCopy: azure.startCheckpointCopy,
    joinAdmissionQueue: azure.joinAdmissionQueue,
    admissionView: azure.admissionView,
    scheduleKeepAlive: azure.scheduleKeepAlive,
    removeKeepAlive: azure.removeKeepAlive,
    validateTrainingData: validation.validateTrainingData,
    uploadFile: creating.uploadFile,
    createDeployment: creating.createDeployment,
    deleteDeployment: long.deleteDeployment,
    smokeTestDeployment: long.smokeTestDeployment,
    runEvalSet: long.runEvalSet,
    awaitCheckpointCopy: long.awaitCheckpointCopy,
    awaitFileProcessed: fileWait.awaitFileProcessed,
    awaitFilesProcessed: fileWait.awaitFilesProcessed,
  };
}

export type PipelineActivities = ReturnType<typeof activitiesFor>;

/**
 * Short calls as local activities: run by the worker inside the workflow task that reaches them, each result recorded
 * as one marker, so a call costs no activity task and no workflow task of its own. The training monitor's poll (one
 * workflow task, about 6 history events a poll, instead of an activity task and a second workflow task: 11),
 * preflight's reads (prepare.ts), the run's messages to its admission queue (slots.ts: joins and releases; the queue
 * keys requests by holder), a deployment plan's check (post-training.ts: no Azure call) and collect's two reads of the
 * job's results (its checkpoints; results.csv, analysed in the activity). Each only reads or is
 * keyed, so running one again (a retried workflow task, a worker lost mid-call) is
 * harmless; retries by cause as the other activities do (the SDK backs off in the worker up to a minute, then through
 * a server timer).
 */
export function localActivitiesFor(timeouts: Timeouts) {
  const local = proxyLocalActivities<Activities>({ startToCloseTimeout: `${timeouts.azureCallSeconds} seconds`, retry: RETRY_BY_CAUSE });
  return {
    pollFineTuningJob: local.pollFineTuningJob,
    preflight: local.preflight,
    proveCredentials: local.proveCredentials,
    joinAdmissionQueue: local.joinAdmissionQueue,
    releaseAdmissionSlots: local.releaseAdmissionSlots,
    checkDeploymentPlan: local.checkDeploymentPlan,
    collectJobResults: local.collectJobResults,
    analyzeJobMetrics: local.analyzeJobMetrics,
  };
}

export type PipelineLocalActivities = ReturnType<typeof localActivitiesFor>;
