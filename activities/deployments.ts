import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment } from '@azure/arm-cognitiveservices';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure, callAzure, isAzureNotFound } from '../src/azure/errors';
import { deploymentCreateBody } from '../src/azure/requests';
import { BUILTIN_CATALOG, baseModelDeployment, deploymentTypesFor, normalizeRegion, resolveModel, type DeploymentType } from '../src/catalog';
import type { DeploymentInfo } from '../src/pipeline/types';
import type { ActivityDeps, AzureAccess } from './deps';

export interface DeploymentPlanInput {
  profile: string;
  /** The base model of the fine-tuned model (or the fine-tuned model id itself): what the catalogue knows. */
  baseModel: string;
  type: DeploymentType;
  capacity: number;
}

export interface CreateDeploymentInput {
  profile: string;
  /** Deployment name; a new model gets a new (versioned) name, since Azure refuses in-place model changes. */
  name: string;
  /** Fine-tuned model id, checkpoint id (`ftchkpt-...`, also a checkpoint copied into this account), or a base model (`base`). */
  model: string;
  /** A base model (an evaluation baseline): deployed by its catalogue name and version, not as a fine-tune ("1"). */
  base?: boolean;
  type: DeploymentType;
  capacity: number;
  /** How often the provisioning state is read while Azure creates the deployment (default 10). */
  pollIntervalSeconds?: number;
  /** How long 409 RequestConflict (another operation on the account) is waited out here before the activity retries (default 600). */
  conflictWaitSeconds?: number;
}

export interface DeleteDeploymentInput {
  profile: string;
  name: string;
  pollIntervalSeconds?: number;
  conflictWaitSeconds?: number;
}

export interface ListDeploymentsInput {
  profile: string;
  /** Only deployments whose name starts with this (e.g. a run's versioned-name stem). */
  prefix?: string;
}

export interface SmokeTestInput {
  profile: string;
  deployment: string;
  /** Give up after this long (default 600): DeploymentNotReady can last minutes after ARM says Succeeded. */
  timeoutSeconds?: number;
  /** Pause between attempts (default 10; a longer Retry-After wins). */
  intervalSeconds?: number;
}

export interface SmokeTestResult {
  ok: true;
  attempts: number;
  latencyMs: number;
}

const DEFAULT_POLL_SECONDS = 10;
const DEFAULT_CONFLICT_WAIT_SECONDS = 600;
/** After the in-activity wait for a busy account, Temporal retries the activity this much later. */
const CONFLICT_RETRY_DELAY_MS = 30_000;
const DEFAULT_SMOKE_TIMEOUT_SECONDS = 600;
const DEFAULT_SMOKE_INTERVAL_SECONDS = 10;
const HEARTBEAT_MS = 1_000;
const SMOKE_PROMPT = 'Reply with OK.';
/** Data-plane answers that mean "not serving yet" shortly after ARM reports Succeeded. */
const NOT_YET_SERVING = new Set(['DeploymentNotReady', 'DeploymentNotFound']);
/** ARM states from which a deployment never reaches Succeeded by waiting. */
const DEAD_STATES = new Set(['Failed', 'Canceled']);

/** Heartbeats every second (the SDK throttles to the heartbeat timeout) while `fn` runs, with `details()` as progress. */
async function heartbeating<T>(details: () => unknown, fn: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(details()), HEARTBEAT_MS);
  try {
    context.heartbeat(details());
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

function pause(seconds: number): Promise<void> {
  return sleep(seconds * 1000, undefined, { signal: Context.current().cancellationSignal });
}

/** After a cancellation aborted a call, its error is reported as the cancellation it is, not as an Azure failure. */
export function throwIfCancelled(): void {
  if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('activity cancelled');
}

function isRequestConflict(err: unknown): boolean {
  return azureErrorInfo(err)?.status === 409;
}

/** The core-lro poller reports a Failed ARM operation as a plain Error with this message, then Azure's code and message. */
function isFailedOperation(err: unknown): err is Error {
  return err instanceof Error && err.message.startsWith('The long-running operation has failed');
}

function conflictFailure(operation: string, waitedSeconds: number): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${operation}: the account is still busy with another deployment operation (409 RequestConflict) after ${waitedSeconds} s; retrying later`,
    type: 'RequestConflict',
    nextRetryDelay: CONFLICT_RETRY_DELAY_MS,
  });
}

export function deploymentInfo(profile: string, d: Deployment): DeploymentInfo {
  return {
    profile,
    name: d.name ?? '',
    model: d.properties?.model?.name ?? '',
    sku: d.sku?.name ?? '',
    capacity: d.sku?.capacity ?? 0,
    provisioningState: d.properties?.provisioningState ?? 'Unknown',
  };
}

export function deploymentActivities(deps: ActivityDeps, azure: AzureAccess) {
  const catalog = deps.catalog ?? BUILTIN_CATALOG;

  const target = (profileName: string) => {
    const p = azure.profile(profileName);
    return { arm: azure.arm(profileName), rg: p.resourceGroup, account: p.account };
  };

  /** The deployment, or undefined when Azure answers 404. */
  const find = async (profileName: string, name: string): Promise<Deployment | undefined> => {
    const { arm, rg, account } = target(profileName);
    try {
      return await arm.deployments.get(rg, account, name);
    } catch (err) {
      if (isAzureNotFound(err)) return undefined;
      throw azureFailure(err, `get deployment ${name}`);
    }
  };

  return {
    /** Checks a deployment's type and capacity against the catalogue for the profile's region, before any Azure call. */
    async checkDeploymentPlan(input: DeploymentPlanInput): Promise<{ ok: true }> {
      const p = azure.profile(input.profile);
      const region = normalizeRegion(p.region);
      const resolved = resolveModel(input.baseModel, catalog);
      if (!resolved) {
        throw ApplicationFailure.nonRetryable(`model "${input.baseModel}" is not in the model catalogue; add it with FTPIPE_CATALOG if Azure offers it`, 'UnknownModel');
      }
      const available = deploymentTypesFor(resolved.entry, region);
      if (!available.includes(input.type)) {
        throw ApplicationFailure.nonRetryable(
          `deployment type "${input.type}" is not available for fine-tuned ${resolved.entry.id} in ${region} (profile "${p.name}"); available there: ${available.join(', ') || 'none'}`,
          'DeploymentTypeNotAvailable',
        );
      }
      if (!Number.isInteger(input.capacity) || input.capacity < 1) {
        throw ApplicationFailure.nonRetryable(`deployment capacity must be a positive integer, got ${input.capacity}`, 'InvalidCapacity');
      }
      return { ok: true };
    },

    /**
     * Creates a deployment and waits until Azure says Succeeded. Idempotent: an existing deployment of the same name
     * and model is waited for and returned (a retry after a crash or a lost response creates nothing); one with another
     * model is refused, since Azure cannot upgrade a fine-tuned deployment in place. While another operation runs on
     * the account (409 RequestConflict) it waits, and past `conflictWaitSeconds` fails retryably.
     */
    async createDeployment(input: CreateDeploymentInput): Promise<DeploymentInfo> {
      const { arm, rg, account } = target(input.profile);
      const served = input.base ? baseModelDeployment(input.model, catalog) : { name: input.model, version: undefined };
      if (!served) {
        throw ApplicationFailure.nonRetryable(`base model "${input.model}" is not in the model catalogue, so its version is unknown; add it with FTPIPE_CATALOG`, 'UnknownModel');
      }
      const body = deploymentCreateBody({ model: served.name, version: served.version, type: input.type, capacity: input.capacity });
      const interval = input.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS;
      const conflictWait = input.conflictWaitSeconds ?? DEFAULT_CONFLICT_WAIT_SECONDS;
      const conflictDeadline = Date.now() + conflictWait * 1000;
      const operation = `create deployment ${input.name} on ${account}`;
      let state = 'Unknown';
      return heartbeating(
        () => ({ deployment: input.name, state }),
        async () => {
          for (;;) {
            const existing = await find(input.profile, input.name);
            if (existing) {
              state = existing.properties?.provisioningState ?? 'Unknown';
              const model = existing.properties?.model?.name ?? '';
              if (state === 'Deleting') {
                await pause(interval);
                continue;
              }
              if (DEAD_STATES.has(state)) {
                throw ApplicationFailure.nonRetryable(`${operation}: the deployment exists in state ${state}; delete it or choose another name`, 'DeploymentFailed');
              }
              if (model !== served.name) {
                throw ApplicationFailure.nonRetryable(
                  `${operation}: it already serves ${model}, and Azure cannot change a fine-tuned deployment's model in place; deploy ${served.name} under a new (versioned) name and retire the old one after`,
                  'ModelUpgradeNotSupported',
                );
              }
              if (state === 'Succeeded') return deploymentInfo(input.profile, existing);
              await pause(interval);
              continue;
            }
            try {
              state = 'Creating';
              const poller = await arm.deployments.beginCreateOrUpdate(rg, account, input.name, body, {
                updateIntervalInMs: interval * 1000,
                abortSignal: Context.current().cancellationSignal,
              });
              const done = await poller.pollUntilDone();
              state = done.properties?.provisioningState ?? 'Unknown';
              if (state !== 'Succeeded') continue;
              return deploymentInfo(input.profile, done);
            } catch (err) {
              throwIfCancelled();
              if (isRequestConflict(err)) {
                state = 'RequestConflict';
                if (Date.now() >= conflictDeadline) throw conflictFailure(operation, conflictWait);
                await pause(interval);
                continue;
              }
              if (isFailedOperation(err)) throw ApplicationFailure.nonRetryable(`${operation}: ${err.message}`, 'DeploymentFailed');
              throw azureFailure(err, operation);
            }
          }
        },
      );
    },

    /**
     * One chat completion against the deployment, retried through DeploymentNotReady / DeploymentNotFound (a new
     * deployment may not serve for minutes after ARM says Succeeded), 429 and transient errors until `timeoutSeconds`.
     */
    async smokeTestDeployment(input: SmokeTestInput): Promise<SmokeTestResult> {
      const client = azure.openai(input.profile);
      const deadline = Date.now() + (input.timeoutSeconds ?? DEFAULT_SMOKE_TIMEOUT_SECONDS) * 1000;
      const interval = input.intervalSeconds ?? DEFAULT_SMOKE_INTERVAL_SECONDS;
      let attempts = 0;
      let last = 'no attempt';
      return heartbeating(
        () => ({ deployment: input.deployment, attempts, last }),
        async () => {
          for (;;) {
            attempts++;
            const started = Date.now();
            try {
              // No max_tokens: reasoning models (o4-mini fine-tunes) refuse it.
              await client.chat.completions.create(
                { model: input.deployment, messages: [{ role: 'user', content: SMOKE_PROMPT }] },
                { maxRetries: 0, signal: Context.current().cancellationSignal },
              );
              return { ok: true as const, attempts, latencyMs: Date.now() - started };
            } catch (err) {
              throwIfCancelled();
              const info = azureErrorInfo(err);
              if (!info) throw azureFailure(err, `smoke test of ${input.deployment}`);
              last = `${info.status ?? 'no response'}${info.code ? ` ${info.code}` : ''}: ${info.message}`;
              const waitable = info.status === undefined || info.status === 429 || info.status >= 500 || (info.code !== undefined && NOT_YET_SERVING.has(info.code));
              if (!waitable) {
                throw ApplicationFailure.nonRetryable(`smoke test of deployment ${input.deployment} failed: ${last}`, 'SmokeTestFailed');
              }
              const waitMs = Math.max(interval * 1000, info.retryAfterMs ?? 0);
              if (Date.now() + waitMs > deadline) {
                throw ApplicationFailure.nonRetryable(
                  `smoke test of deployment ${input.deployment} failed: still not answering after ${attempts} attempts; last answer ${last}`,
                  'SmokeTestFailed',
                );
              }
              Context.current().heartbeat({ deployment: input.deployment, attempts, last });
              await pause(waitMs / 1000);
            }
          }
        },
      );
    },

    /** Deletes a deployment and waits until it is gone. `deleted: false` when there was nothing to delete. */
    async deleteDeployment(input: DeleteDeploymentInput): Promise<{ deleted: boolean }> {
      const { arm, rg, account } = target(input.profile);
      const interval = input.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS;
      const conflictWait = input.conflictWaitSeconds ?? DEFAULT_CONFLICT_WAIT_SECONDS;
      const conflictDeadline = Date.now() + conflictWait * 1000;
      const operation = `delete deployment ${input.name} on ${account}`;
      let state = 'Unknown';
      let sawIt = false;
      return heartbeating(
        () => ({ deployment: input.name, state }),
        async () => {
          for (;;) {
            const existing = await find(input.profile, input.name);
            if (!existing) return { deleted: sawIt };
            sawIt = true;
            state = existing.properties?.provisioningState ?? 'Unknown';
            if (state === 'Deleting') {
              await pause(interval);
              continue;
            }
            try {
              const poller = await arm.deployments.beginDelete(rg, account, input.name, {
                updateIntervalInMs: interval * 1000,
                abortSignal: Context.current().cancellationSignal,
              });
              await poller.pollUntilDone();
            } catch (err) {
              throwIfCancelled();
              if (isAzureNotFound(err)) continue;
              if (isRequestConflict(err)) {
                state = 'RequestConflict';
                if (Date.now() >= conflictDeadline) throw conflictFailure(operation, conflictWait);
                await pause(interval);
                continue;
              }
              throw azureFailure(err, operation);
            }
          }
        },
      );
    },

    /** The account's deployments, optionally only those whose name starts with `prefix`. */
    async listDeployments(input: ListDeploymentsInput): Promise<DeploymentInfo[]> {
      const { arm, rg, account } = target(input.profile);
      return callAzure(`list deployments on ${account}`, async () => {
        const all: DeploymentInfo[] = [];
        for await (const d of arm.deployments.list(rg, account)) {
          if (!input.prefix || (d.name ?? '').startsWith(input.prefix)) all.push(deploymentInfo(input.profile, d));
        }
        return all;
      });
    },
  };
}
