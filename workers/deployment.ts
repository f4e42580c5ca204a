/**
 * Which Worker Deployment version a worker process is: `--deployment-name` / `--build-id` / `--default-versioning`,
 * else FTPIPE_DEPLOYMENT_NAME / FTPIPE_BUILD_ID / FTPIPE_DEFAULT_VERSIONING (for containers). Both a name and a build
 * id, or neither (an unversioned worker).
 */
import type { VersioningBehavior } from '@temporalio/common';
import type { WorkerDeployment } from './worker';

export interface WorkerDeploymentFlags {
  deploymentName?: string | undefined;
  buildId?: string | undefined;
  defaultVersioning?: string | undefined;
}

const BEHAVIORS: Record<string, VersioningBehavior> = { pinned: 'PINNED', 'auto-upgrade': 'AUTO_UPGRADE' };

export class WorkerDeploymentError extends Error {}

export function workerDeploymentFrom(flags: WorkerDeploymentFlags, env: NodeJS.ProcessEnv = process.env): WorkerDeployment | undefined {
  const pick = (flag: string | undefined, name: string): { value: string; from: string } | undefined =>
    flag ? { value: flag, from: `--${name.replace(/^FTPIPE_/, '').toLowerCase().replace(/_/g, '-')}` } : env[name] ? { value: env[name], from: name } : undefined;
  const deploymentName = pick(flags.deploymentName, 'FTPIPE_DEPLOYMENT_NAME');
  const buildId = pick(flags.buildId, 'FTPIPE_BUILD_ID');
  const behavior = pick(flags.defaultVersioning, 'FTPIPE_DEFAULT_VERSIONING');
  if (!deploymentName && !buildId) {
    if (behavior) throw new WorkerDeploymentError(`${behavior.from} needs --deployment-name and --build-id (or FTPIPE_DEPLOYMENT_NAME and FTPIPE_BUILD_ID)`);
    return undefined;
  }
  if (!deploymentName || !buildId) {
    const [given, missing] = deploymentName ? [deploymentName.from, '--build-id (or FTPIPE_BUILD_ID)'] : [buildId!.from, '--deployment-name (or FTPIPE_DEPLOYMENT_NAME)'];
    throw new WorkerDeploymentError(`${given} needs ${missing}: a versioned worker is one build of one Worker Deployment`);
  }
  // The server joins a version's name and build id with ":" (with "." in older fields), so neither may be in the name.
  if (/[.:]/.test(deploymentName.value)) throw new WorkerDeploymentError(`${deploymentName.from}: "${deploymentName.value}" may not contain "." or ":"`);
  const defaultVersioningBehavior = behavior ? BEHAVIORS[behavior.value] : 'PINNED';
  if (!defaultVersioningBehavior) throw new WorkerDeploymentError(`${behavior!.from}: "${behavior!.value}" is not pinned or auto-upgrade`);
  return { deploymentName: deploymentName.value, buildId: buildId.value, defaultVersioningBehavior };
}
