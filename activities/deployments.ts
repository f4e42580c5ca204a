import type { Deployment } from '@azure/arm-cognitiveservices';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure, callAzure, isAzureNotFound, retryAfterMs } from '../src/azure/errors';
import { writeDeployment } from '../src/azure/arm-writes';
import { deploymentCreateBody } from '../src/azure/requests';
import { BUILTIN_CATALOG, CatalogConfigError, assessDeploymentPlan, baseModelDeployment, catalogForProfile, type Catalog, type DeploymentType } from '../src/catalog';
import type { AzureProfile } from '../src/config/profile';
import type { DeploymentInfo } from '../src/pipeline/types';
import type { ActivityDeps, AzureAccess } from './deps';
import { checkCopyDestination } from './preflight';
import { backoffMs, checkAgainLater } from './waiting';

export interface DeploymentPlanInput {
  profile: string;
  /** The base model of the fine-tuned model (or the fine-tuned model id itself): what the catalogue knows. */
  baseModel: string;
  type: DeploymentType;
  capacity: number;
  /** A copy's destination deploy (`profile` is its deploy profile): that profile must be the copy's account and region. */
  copy?: { destinationResourceId: string; region: string };
}

export interface DeploymentPlanCheck {
  ok: true;
  /** What the dated catalogue does not list for this deployment (Azure may offer it since), naming the catalogue's date. */
  warnings: string[];
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
  /** The first pause between checks of the provisioning state (default 10), backing off from there. */
  pollIntervalSeconds?: number;
  /**
   * The run chose this name for a deployment it makes now (an evaluation's, or the next version after listing the
   * versions): the first attempt sends the PUT without looking for one first. Every retry looks first (an earlier
   * attempt may have sent it). Unset (a copy's deployment, named in the input): every attempt looks first, so that
   * another deployment of that name is refused, never changed.
   */
  newName?: boolean;
}

export interface DeleteDeploymentInput {
  profile: string;
  name: string;
  /** As for CreateDeploymentInput. */
  pollIntervalSeconds?: number;
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
const DEFAULT_SMOKE_TIMEOUT_SECONDS = 600;
const DEFAULT_SMOKE_INTERVAL_SECONDS = 10;
/** The one-line prompt of a smoke test and of a keep-alive call (activities/keep-alive.ts). */
export const SMOKE_PROMPT = 'Reply with OK.';
/** Data-plane answers that mean "not serving yet" shortly after ARM reports Succeeded. */
const NOT_YET_SERVING = new Set(['DeploymentNotReady', 'DeploymentNotFound']);
/** ARM states from which a deployment never reaches Succeeded by waiting. */
const DEAD_STATES = new Set(['Failed', 'Canceled']);

/** After a cancellation aborted a call, its error is reported as the cancellation it is, not as an Azure failure. */
export function throwIfCancelled(): void {
  if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('activity cancelled');
}

function answerText(info: NonNullable<ReturnType<typeof azureErrorInfo>>): string {
  return `${info.status ?? 'no response'}${info.code ? ` ${info.code}` : ''}: ${info.message}`;
}

/** A failed first call to a new deployment that means "not serving yet, wait": no response, 429, 5xx, DeploymentNotReady/NotFound. */
export interface NotServingYet {
  last: string;
  retryAfterMs: number | undefined;
}

export function notServingYet(err: unknown): NotServingYet | undefined {
  const info = azureErrorInfo(err);
  if (!info) return undefined;
  const waitable = info.status === undefined || info.status === 429 || info.status >= 500 || (info.code !== undefined && NOT_YET_SERVING.has(info.code));
  return waitable ? { last: answerText(info), retryAfterMs: info.retryAfterMs } : undefined;
}

/**
 * Ends an attempt whose first call found the deployment not serving yet (a smoke test, or an evaluation's first
 * answer): Temporal calls the activity again after `intervalSeconds` (a longer Retry-After wins), holding no slot,
 * until `timeoutSeconds` after its first attempt; then it fails for good as SmokeTestFailed.
 */
export function awaitServing(deployment: string, answer: NotServingYet, wait: { timeoutSeconds?: number; intervalSeconds?: number }): never {
  const { attempt, scheduledTimestampMs } = Context.current().info;
  const deadline = scheduledTimestampMs + (wait.timeoutSeconds ?? DEFAULT_SMOKE_TIMEOUT_SECONDS) * 1000;
  const waitMs = Math.max((wait.intervalSeconds ?? DEFAULT_SMOKE_INTERVAL_SECONDS) * 1000, answer.retryAfterMs ?? 0);
  if (Date.now() + waitMs > deadline) {
    throw ApplicationFailure.nonRetryable(
      `smoke test of deployment ${deployment} failed: still not answering after ${attempt} attempts; last answer ${answer.last}`,
      'SmokeTestFailed',
    );
  }
  return checkAgainLater(`smoke test of deployment ${deployment}`, `answered ${answer.last}`, waitMs, 'SmokeTestFailed');
}

function isRequestConflict(err: unknown): boolean {
  return azureErrorInfo(err)?.status === 409;
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

  /** The catalogue the profile sees (preflight reads the same); a bad `catalog` entry in it is the profile's error. */
  const catalogOf = (profile: AzureProfile): Catalog => {
    try {
      return catalogForProfile(catalog, profile);
    } catch (err) {
      if (err instanceof CatalogConfigError) throw ApplicationFailure.nonRetryable(err.message, 'CatalogConfig');
      throw err;
    }
  };

  const target = (profileName: string) => {
    const p = azure.profile(profileName);
    return { arm: azure.arm(profileName), rg: p.resourceGroup, account: p.account };
  };

  /** The deployment (undefined when Azure answers 404), and Azure's Retry-After on the answer if it gave one. */
  const read = async (profileName: string, name: string): Promise<{ deployment: Deployment | undefined; retryAfter: number | undefined }> => {
    const { arm, rg, account } = target(profileName);
    let retryAfter: number | undefined;
    try {
      const deployment = await arm.deployments.get(rg, account, name, { onResponse: (raw) => (retryAfter = retryAfterMs(raw.headers)) });
      return { deployment, retryAfter };
    } catch (err) {
      if (isAzureNotFound(err)) return { deployment: undefined, retryAfter };
      throw azureFailure(err, `get deployment ${name}`);
    }
  };

  return {
    /**
     * Checks a deployment's capacity and, against the profile's catalogue for its region, its type, before any Azure
     * call. A type the dated catalogue does not list is a warning (Azure judges the deployment), or a refusal when the
     * profile asks for strict catalogue checks.
     */
    async checkDeploymentPlan(input: DeploymentPlanInput): Promise<DeploymentPlanCheck> {
      if (input.copy) checkCopyDestination(deps.config.profiles, { ...input.copy, deploy: { profile: input.profile } }, 'copy');
      const p = azure.profile(input.profile);
      if (!Number.isInteger(input.capacity) || input.capacity < 1) {
        throw ApplicationFailure.nonRetryable(`deployment capacity must be a positive integer, got ${input.capacity}`, 'InvalidCapacity');
      }
      const profileCatalog = catalogOf(p);
      const assessed = assessDeploymentPlan({ model: input.baseModel, type: input.type, region: p.region }, profileCatalog, p.catalog?.strict ?? false);
      if (assessed.refusal) throw ApplicationFailure.nonRetryable(`${assessed.refusal.message} (profile "${p.name}")`, assessed.refusal.type);
      return { ok: true, warnings: assessed.warnings.map((w) => `${w} (profile "${p.name}")`) };
    },

    /**
     * Creates a deployment; done when Azure says Succeeded. Each attempt is one short step (activities/waiting.ts), so
     * waiting for ARM holds no activity slot: it reads the deployment (not on the first attempt for a `newName`); when
     * there is none it sends the PUT; while ARM works (or another operation holds the account: 409 RequestConflict) it
     * asks Temporal to call it again later, backing off from `pollIntervalSeconds` and honouring Retry-After. It follows
     * the deployment's provisioningState (the GET a retry needs anyway), not the operation URL as well. Idempotent: an
     * existing deployment of the same name and model is waited for and returned (a retry after a crash or a lost
     * response creates nothing); one with another model is refused, since Azure cannot upgrade a fine-tuned deployment
     * in place.
     */
    async createDeployment(input: CreateDeploymentInput): Promise<DeploymentInfo> {
      const { arm } = target(input.profile);
      const profile = azure.profile(input.profile);
      const served = input.base ? baseModelDeployment(input.model, catalogOf(profile)) : { name: input.model, version: undefined };
      if (!served) {
        throw ApplicationFailure.nonRetryable(`base model "${input.model}" is not in the model catalogue, so its version is unknown; add it to the profile's catalogue or FTPIPE_CATALOG`, 'UnknownModel');
      }
      const body = deploymentCreateBody({ model: served.name, version: served.version, type: input.type, capacity: input.capacity });
      const operation = `create deployment ${input.name} on ${profile.account}`;
      const context = Context.current();
      const { attempt } = context.info;
      // Whether this activity has sent the PUT (an earlier attempt heartbeated so): a final failure says it in its
      // details (`{sent}`), so the run deletes a deployment it made and leaves one of that name it did not.
      let sent = (context.info.heartbeatDetails as { sent?: boolean } | undefined)?.sent === true;
      const later = (state: string, retryAfter: number | undefined): never =>
        checkAgainLater(operation, state, backoffMs(input.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS, attempt, retryAfter), 'DeploymentTimedOut', { sent });

      if (!(input.newName && attempt === 1)) {
        const { deployment: existing, retryAfter } = await read(input.profile, input.name);
        if (existing) {
          const state = existing.properties?.provisioningState ?? 'Unknown';
          const model = existing.properties?.model?.name ?? '';
          if (state === 'Deleting') later('an earlier deployment of this name is being deleted', retryAfter);
          if (DEAD_STATES.has(state)) {
            throw ApplicationFailure.nonRetryable(`${operation}: the deployment exists in state ${state}; delete it or choose another name`, 'DeploymentFailed', { sent });
          }
          if (model !== served.name) {
            throw ApplicationFailure.nonRetryable(
              `${operation}: it already serves ${model}, and Azure cannot change a fine-tuned deployment's model in place; deploy ${served.name} under a new (versioned) name and retire the old one after`,
              'ModelUpgradeNotSupported',
            );
          }
          if (state === 'Succeeded') return deploymentInfo(input.profile, existing);
          later(`provisioning state ${state}`, retryAfter);
        }
      }
      let answer;
      try {
        context.heartbeat({ sent: true });
        sent = true;
        answer = await writeDeployment(arm, profile, input.name, { method: 'PUT', body }, context.cancellationSignal);
      } catch (err) {
        throwIfCancelled();
        if (isRequestConflict(err)) later('the account is busy with another deployment operation (409 RequestConflict)', azureErrorInfo(err)?.retryAfterMs);
        throw azureFailure(err, operation, { quotaRetrySeconds: profile.limits?.quotaRetrySeconds });
      }
      if (answer.deployment?.properties?.provisioningState === 'Succeeded') return deploymentInfo(input.profile, answer.deployment);
      return later('requested; ARM is creating it', answer.retryAfterMs);
    },

    /**
     * One chat completion against the deployment per attempt, called again by Temporal (no slot held between) through
     * DeploymentNotReady / DeploymentNotFound (a new deployment may not serve for minutes after ARM says Succeeded),
     * 429 and transient errors, until `timeoutSeconds` after the first attempt. `attempts` counts the activity's attempts.
     */
    async smokeTestDeployment(input: SmokeTestInput): Promise<SmokeTestResult> {
      const client = azure.openai(input.profile);
      const { attempt } = Context.current().info;
      const started = Date.now();
      try {
        // No max_tokens: reasoning models (o4-mini fine-tunes) refuse it.
        await client.chat.completions.create(
          { model: input.deployment, messages: [{ role: 'user', content: SMOKE_PROMPT }] },
          { maxRetries: 0, signal: Context.current().cancellationSignal },
        );
        return { ok: true as const, attempts: attempt, latencyMs: Date.now() - started };
      } catch (err) {
        throwIfCancelled();
        const answer = notServingYet(err);
        if (answer) return awaitServing(input.deployment, answer, input);
        const info = azureErrorInfo(err);
        if (!info) throw azureFailure(err, `smoke test of ${input.deployment}`);
        throw ApplicationFailure.nonRetryable(`smoke test of deployment ${input.deployment} failed: ${answerText(info)}`, 'SmokeTestFailed');
      }
    },

    /**
     * Deletes a deployment; done when it is gone (`deleted: false` when there was nothing to delete). One short step
     * per attempt, like createDeployment: the first attempt sends the DELETE (ARM answers 204 when there is no such
     * deployment); once ARM has accepted it, later attempts read the deployment until it is gone, and delete again
     * only if it is there and not being deleted. Temporal calls again later between them (the attempt's heartbeat
     * carries "it existed" to the next attempt).
     */
    async deleteDeployment(input: DeleteDeploymentInput): Promise<{ deleted: boolean }> {
      const { arm } = target(input.profile);
      const profile = azure.profile(input.profile);
      const context = Context.current();
      const operation = `delete deployment ${input.name} on ${profile.account}`;
      const sawIt = (context.info.heartbeatDetails as { sawIt?: boolean } | undefined)?.sawIt === true;
      const later = (state: string, retryAfter: number | undefined): never => {
        context.heartbeat({ deployment: input.name, sawIt: true });
        return checkAgainLater(operation, state, backoffMs(input.pollIntervalSeconds ?? DEFAULT_POLL_SECONDS, context.info.attempt, retryAfter), 'DeploymentTimedOut');
      };
      if (sawIt) {
        const { deployment: existing, retryAfter } = await read(input.profile, input.name);
        if (!existing) return { deleted: true };
        if ((existing.properties?.provisioningState ?? 'Unknown') === 'Deleting') later('being deleted', retryAfter);
      }
      let answer;
      try {
        answer = await writeDeployment(arm, profile, input.name, { method: 'DELETE' }, context.cancellationSignal);
      } catch (err) {
        throwIfCancelled();
        if (isAzureNotFound(err)) return { deleted: sawIt };
        if (isRequestConflict(err)) later('the account is busy with another deployment operation (409 RequestConflict)', azureErrorInfo(err)?.retryAfterMs);
        throw azureFailure(err, operation);
      }
      if (answer.status === 204) return { deleted: sawIt };
      // 200: deleted at once (older api-versions answer so); 202: ARM deletes it, checked on the next attempt.
      if (answer.status === 200) return { deleted: true };
      return later('delete requested', answer.retryAfterMs);
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
