/** All activities, built from the worker's dependencies. Workflows import this module by type only. */
import { admissionActivities } from './admission';
import { automaticEvaluationActivities } from './automatic-evaluations';
import { azureAccess } from './azure-access';
import { copyActivities } from './copies';
import { credentialActivities } from './credentials';
import { datasetActivities } from './dataset';
import type { ActivityDeps } from './deps';
import { deploymentActivities } from './deployments';
import { evaluationActivities } from './evaluation';
import { fileActivities } from './files';
import { jobActivities } from './jobs';
import { keepAliveActivities } from './keep-alive';
import { lineageActivities } from './lineage';
import { notifyActivities } from './notify';
import { preflightActivities } from './preflight';
import { workerInfoActivities } from './worker-info';

export type { ActivityDeps } from './deps';
export type { WorkerDescription } from './worker-info';

export function createActivities(deps: ActivityDeps) {
  const azure = azureAccess(deps);
  return {
    ...workerInfoActivities(deps),
    ...preflightActivities(deps, azure),
    ...credentialActivities(deps, azure),
    ...datasetActivities(deps),
    ...fileActivities(azure),
    ...jobActivities(azure),
    ...automaticEvaluationActivities(azure),
    ...lineageActivities(),
    ...deploymentActivities(deps, azure),
    ...copyActivities(azure),
    ...evaluationActivities(deps, azure),
    ...notifyActivities(deps),
    ...admissionActivities(azure),
    ...keepAliveActivities(azure),
  };
}

export type Activities = ReturnType<typeof createActivities>;
