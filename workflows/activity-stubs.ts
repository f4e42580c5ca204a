/** The pipeline's activity stubs, with the run's timeouts. Workflow-safe. */
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PipelineInput, Timeouts } from '../src/pipeline/input';

/** Transient Azure errors are retried without limit (a run waits out an outage); client errors fail fast (not retryable). */
const AZURE_RETRY: ActivityOptions['retry'] = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' };

/** Activity stubs with this run's timeouts. (proxyActivities returns a Proxy: take its members by name, never spread it.) */
export function activitiesFor(timeouts: Timeouts, polling: PipelineInput['polling']) {
  const heartbeatTimeout = `${timeouts.heartbeatSeconds} seconds` as const;
  const azure = proxyActivities<Activities>({ startToCloseTimeout: `${timeouts.azureCallSeconds} seconds`, retry: AZURE_RETRY });
  const validation = proxyActivities<Activities>({ startToCloseTimeout: '2 hours', heartbeatTimeout, retry: { maximumAttempts: 3 } });
  const long = proxyActivities<Activities>({ startToCloseTimeout: '6 hours', heartbeatTimeout, retry: AZURE_RETRY });
  // Creating activities finish their cancellation before the workflow's cleanup runs: otherwise a create still in
  // flight could make its deployment or file after cleanup deleted what it knew of.
  const creating = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout,
    retry: AZURE_RETRY,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const fileWait = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: `${Math.max(timeouts.heartbeatSeconds, Math.ceil(polling.fileIntervalSeconds * 3))} seconds`,
    retry: AZURE_RETRY,
  });
  return {
    preflight: azure.preflight,
    proveCredentials: azure.proveCredentials,
    describeFile: azure.describeFile,
    importFile: azure.importFile,
    deleteFiles: azure.deleteFiles,
    createFineTuningJob: azure.createFineTuningJob,
    pollFineTuningJob: azure.pollFineTuningJob,
    pauseFineTuningJob: azure.pauseFineTuningJob,
    resumeFineTuningJob: azure.resumeFineTuningJob,
    cancelFineTuningJob: azure.cancelFineTuningJob,
    collectJobResults: azure.collectJobResults,
    lineageState: azure.lineageState,
    analyzeJobMetrics: azure.analyzeJobMetrics,
    checkDeploymentPlan: azure.checkDeploymentPlan,
    listDeployments: azure.listDeployments,
    startCheckpointCopy: azure.startCheckpointCopy,
    validateTrainingData: validation.validateTrainingData,
    uploadFile: creating.uploadFile,
    createDeployment: creating.createDeployment,
    deleteDeployment: long.deleteDeployment,
    smokeTestDeployment: long.smokeTestDeployment,
    runEvalSet: long.runEvalSet,
    awaitCheckpointCopy: long.awaitCheckpointCopy,
    awaitFileProcessed: fileWait.awaitFileProcessed,
  };
}

export type PipelineActivities = ReturnType<typeof activitiesFor>;
