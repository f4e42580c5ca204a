/**
 * ARM deployments under `/subscriptions/.../accounts/{account}/deployments/{name}`: PUT, GET, PATCH, DELETE, list,
 * as long-running operations the SDK poller follows (201/200/202 + `Azure-AsyncOperation`, an operation status
 * resource, a `Location` result for PATCH and DELETE). One operation at a time per account (else 409
 * RequestConflict). Operations complete, DeveloperTier deployments expire after 24 h and fine-tuned deployments
 * after 15 days without inference, lazily on read.
 */
import { randomBytes } from 'node:crypto';
import { deploymentTypesFor, resolveModel, type DeploymentType, type ModelEntry } from '../catalog';
import type { Timings } from './config';
import type { JobService } from './jobs';
import type { Dispatcher, RequestContext, Reply } from './server';
import { ApiError, armOperationJson, deploymentJson, newOperationId } from './shapes';
import { deploymentKey, type Account, type DeploymentRecord, type EmulatorState, type ModelRecord, type OperationRecord } from './state';

const SKUS: Record<string, DeploymentType> = {
  standard: 'Standard',
  globalstandard: 'GlobalStandard',
  developertier: 'DeveloperTier',
  provisionedmanaged: 'ProvisionedManaged',
};

const ACCOUNT_PATH = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.CognitiveServices/accounts/:accountName';
const LOCATION_PATH = '/subscriptions/:subscriptionId/providers/Microsoft.CognitiveServices/locations/:location';

const invalidProperties = (message: string): ApiError => new ApiError(400, 'InvalidResourceProperties', message);

export class DeploymentService {
  constructor(
    private readonly state: EmulatorState,
    private readonly jobs: JobService,
    private readonly timings: Timings,
  ) {}

  register(d: Dispatcher): void {
    d.arm('arm.deployments.list', 'GET', `${ACCOUNT_PATH}/deployments`, (ctx) => this.list(ctx));
    d.arm('arm.deployments.get', 'GET', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.get(ctx));
    d.arm('arm.deployments.put', 'PUT', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.put(ctx));
    d.arm('arm.deployments.patch', 'PATCH', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.patch(ctx));
    d.arm('arm.deployments.delete', 'DELETE', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.remove(ctx));
    d.arm('arm.operationStatuses.get', 'GET', `${LOCATION_PATH}/operationStatuses/:operationId`, (ctx) => this.operationStatus(ctx));
    d.arm('arm.operationResults.get', 'GET', `${LOCATION_PATH}/operationResults/:operationId`, (ctx) => this.operationResult(ctx));
  }

  /**
   * The deployment that serves inference for `name`, or the data-plane 404 Azure gives: unknown or still
   * creating (DeploymentNotFound), or within the not-ready window after ARM said Succeeded (DeploymentNotReady).
   */
  serving(account: Account, name: string, now: number): DeploymentRecord {
    this.refresh(account.name, now);
    const deployment = this.state.deployments.get(deploymentKey(account.name, name));
    if (!deployment || deployment.succeededAt === null) {
      throw new ApiError(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
    }
    if (now < deployment.succeededAt + this.timings.deploymentNotReadySeconds * 1000) {
      throw new ApiError(404, 'DeploymentNotReady', 'The API deployment for this resource is not ready yet. Please wait a moment and try again.');
    }
    // Not worth a state-file write per completion: saved with the next change.
    deployment.lastUsedAt = now;
    return deployment;
  }

  /** Completes due operations and removes expired (DeveloperTier) and inactive (fine-tuned) deployments of `account`. */
  refresh(account: string, now: number): void {
    let changed = false;
    for (const op of this.state.operations.values()) {
      if (op.account !== account || op.status !== 'InProgress' || now < op.endsAt) continue;
      const key = deploymentKey(account, op.deployment);
      if (op.kind === 'delete') this.state.deployments.delete(key);
      else if (op.pending) this.state.deployments.set(key, { ...op.pending, state: 'Succeeded', succeededAt: op.endsAt, modifiedAt: op.endsAt });
      op.status = 'Succeeded';
      changed = true;
    }
    const developerMs = this.timings.developerDeploymentLifetimeSeconds * 1000;
    const inactiveMs = this.timings.inactiveDeploymentLifetimeSeconds * 1000;
    for (const [key, deployment] of this.state.deployments) {
      if (deployment.account !== account || deployment.succeededAt === null) continue;
      const expired = deployment.sku.name === 'DeveloperTier' && now >= deployment.succeededAt + developerMs;
      const inactive = deployment.served !== null && now >= Math.max(deployment.succeededAt, deployment.lastUsedAt ?? 0) + inactiveMs;
      if (expired || inactive) {
        this.state.deployments.delete(key);
        changed = true;
      }
    }
    if (changed) this.state.markDirty();
  }

  private account(ctx: RequestContext): Account {
    const account = ctx.account!;
    if (ctx.params.subscriptionId?.toLowerCase() !== account.subscriptionId.toLowerCase() || ctx.params.resourceGroupName?.toLowerCase() !== account.resourceGroup.toLowerCase()) {
      throw new ApiError(404, 'ResourceNotFound', `The Resource 'Microsoft.CognitiveServices/accounts/${ctx.params.accountName ?? ''}' under resource group '${ctx.params.resourceGroupName ?? ''}' was not found.`);
    }
    this.refresh(account.name, ctx.now);
    return account;
  }

  private find(ctx: RequestContext, account: Account): DeploymentRecord {
    const name = ctx.params.deploymentName!;
    const deployment = this.state.deployments.get(deploymentKey(account.name, name));
    if (!deployment) {
      throw new ApiError(404, 'ResourceNotFound', `The Resource 'Microsoft.CognitiveServices/accounts/${account.name}/deployments/${name}' under resource group '${account.resourceGroup}' was not found.`);
    }
    return deployment;
  }

  private list(ctx: RequestContext): Reply {
    const account = this.account(ctx);
    const value = [...this.state.deployments.values()].filter((d) => d.account === account.name).map((d) => this.json(account, d));
    return { status: 200, json: { value } };
  }

  private get(ctx: RequestContext): Reply {
    const account = this.account(ctx);
    return { status: 200, json: this.json(account, this.find(ctx, account)) };
  }

  private async put(ctx: RequestContext): Promise<Reply> {
    const account = this.account(ctx);
    const name = ctx.params.deploymentName!;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/.test(name)) throw invalidProperties(`The deployment name '${name}' is invalid: use 2-64 letters, digits, '.', '_' or '-'.`);
    const body = await ctx.json();
    const sku = parseSku(body.sku);
    const model = parseModel(body.properties);
    const { entry, served } = this.resolveDeployable(account, model, ctx.now);
    checkSkuOffered(entry, account, sku.name, model.name);
    const existing = this.state.deployments.get(deploymentKey(account.name, name));
    if (existing?.served && existing.model.name !== model.name) {
      throw new ApiError(400, 'ModelUpgradeNotSupported', `The deployment '${name}' serves the fine-tuned model '${existing.model.name}' and cannot be changed in place to '${model.name}'. Delete it and create a new deployment.`);
    }
    this.requireIdle(account);
    const record: DeploymentRecord = {
      name: existing?.name ?? name,
      account: account.name,
      sku,
      model,
      served,
      createdAt: existing?.createdAt ?? ctx.now,
      modifiedAt: ctx.now,
      etag: randomBytes(8).toString('hex'),
      state: 'Creating',
      succeededAt: null,
    };
    if (!existing) this.state.deployments.set(deploymentKey(account.name, name), record);
    const op = this.startOperation(account, record.name, existing ? 'update' : 'create', ctx.now, record);
    return { status: existing ? 200 : 201, json: deploymentJson(record, account.armId, 'Accepted'), headers: this.operationHeaders(ctx, account, op, false) };
  }

  private async patch(ctx: RequestContext): Promise<Reply> {
    const account = this.account(ctx);
    const existing = this.find(ctx, account);
    const body = await ctx.json();
    const skuPatch = body.sku as { name?: unknown; capacity?: unknown } | undefined;
    const sku = skuPatch === undefined ? existing.sku : parseSku({ name: skuPatch.name ?? existing.sku.name, capacity: skuPatch.capacity ?? existing.sku.capacity });
    if (sku.name !== existing.sku.name) {
      const entry = resolveModel(existing.served?.baseModel ?? existing.model.name)?.entry;
      if (entry) checkSkuOffered(entry, account, sku.name, existing.model.name);
    }
    this.requireIdle(account);
    const record: DeploymentRecord = { ...existing, sku, modifiedAt: ctx.now, etag: randomBytes(8).toString('hex') };
    const op = this.startOperation(account, existing.name, 'update', ctx.now, record);
    return { status: 202, json: deploymentJson(record, account.armId, 'Accepted'), headers: this.operationHeaders(ctx, account, op, true) };
  }

  private remove(ctx: RequestContext): Reply {
    const account = this.account(ctx);
    const existing = this.state.deployments.get(deploymentKey(account.name, ctx.params.deploymentName!));
    if (!existing) return { status: 204 };
    this.requireIdle(account);
    existing.state = 'Deleting';
    const op = this.startOperation(account, existing.name, 'delete', ctx.now);
    return { status: 202, headers: this.operationHeaders(ctx, account, op, true) };
  }

  private operationStatus(ctx: RequestContext): Reply {
    const op = this.operation(ctx);
    const status = op.status;
    return { status: 200, json: armOperationJson(op.id, status, op.startedAt, status === 'InProgress' ? null : op.endsAt) };
  }

  private operationResult(ctx: RequestContext): Reply {
    const op = this.operation(ctx);
    if (op.status === 'InProgress') return { status: 202, headers: { location: this.operationUrl(ctx, op, 'operationResults') } };
    if (op.kind === 'delete') return { status: 204 };
    const account = this.state.accounts.get(op.account)!;
    const deployment = this.state.deployments.get(deploymentKey(op.account, op.deployment));
    return deployment ? { status: 200, json: this.json(account, deployment) } : { status: 204 };
  }

  private operation(ctx: RequestContext): OperationRecord {
    const op = this.state.operations.get(ctx.params.operationId!);
    if (!op) throw new ApiError(404, 'ResourceNotFound', `The operation '${ctx.params.operationId ?? ''}' was not found.`);
    this.refresh(op.account, ctx.now);
    return op;
  }

  private resolveDeployable(account: Account, model: DeploymentRecord['model'], now: number): { entry: ModelEntry; served: ModelRecord | null } {
    let owner = account;
    if (model.source) {
      const source = this.state.findAccountByArmId(model.source);
      if (!source) throw invalidProperties(`The source resource '${model.source}' was not found or is not accessible.`);
      owner = source;
    }
    const served = this.jobs.findModel(owner.name, model.name, now);
    const entry = resolveModel(served?.baseModel ?? model.name);
    if (!entry || (!served && entry.fineTuned)) {
      throw new ApiError(400, 'DeploymentModelNotSupported', `Creating account deployment is not supported by the model '${model.name}'. The model is unknown in this resource${model.source ? ' or its source' : ''}.`);
    }
    return { entry: entry.entry, served: served ?? null };
  }

  private requireIdle(account: Account): void {
    for (const op of this.state.operations.values()) {
      if (op.account === account.name && op.status === 'InProgress') {
        throw new ApiError(
          409,
          'RequestConflict',
          `Cannot modify resource with id '${account.armId}/deployments/${op.deployment}' because another operation is in progress on account '${account.name}'. Please wait for the provisioning state to become terminal and then retry the request.`,
        );
      }
    }
  }

  private startOperation(account: Account, deployment: string, kind: OperationRecord['kind'], now: number, pending?: DeploymentRecord): OperationRecord {
    const seconds = kind === 'create' ? this.timings.deploymentCreateSeconds : kind === 'update' ? this.timings.deploymentUpdateSeconds : this.timings.deploymentDeleteSeconds;
    const op: OperationRecord = { id: newOperationId(), account: account.name, deployment, kind, startedAt: now, endsAt: now + seconds * 1000, status: 'InProgress' };
    if (pending) op.pending = pending;
    this.state.operations.set(op.id, op);
    this.state.markDirty();
    return op;
  }

  private operationHeaders(ctx: RequestContext, account: Account, op: OperationRecord, withLocation: boolean): Record<string, string> {
    const headers: Record<string, string> = { 'azure-asyncoperation': this.operationUrl(ctx, op, 'operationStatuses', account) };
    if (withLocation) headers.location = this.operationUrl(ctx, op, 'operationResults', account);
    return headers;
  }

  private operationUrl(ctx: RequestContext, op: OperationRecord, kind: 'operationStatuses' | 'operationResults', account = this.state.accounts.get(op.account)!): string {
    const apiVersion = ctx.query.get('api-version') ?? '';
    return `https://${ctx.req.headers.host ?? 'localhost'}/subscriptions/${account.subscriptionId}/providers/Microsoft.CognitiveServices/locations/${account.region}/${kind}/${op.id}?api-version=${encodeURIComponent(apiVersion)}`;
  }

  private json(account: Account, deployment: DeploymentRecord): unknown {
    let state: string = deployment.state;
    const running = [...this.state.operations.values()].find((op) => op.account === account.name && op.deployment.toLowerCase() === deployment.name.toLowerCase() && op.status === 'InProgress');
    if (running && running.kind !== 'delete') state = 'Creating';
    return deploymentJson(deployment, account.armId, state);
  }
}

function parseSku(raw: unknown): { name: DeploymentType; capacity: number } {
  const sku = raw as { name?: unknown; capacity?: unknown } | undefined;
  if (typeof sku?.name !== 'string') throw invalidProperties("'sku.name' is required.");
  const name = SKUS[sku.name.toLowerCase()];
  if (!name) throw invalidProperties(`The SKU '${sku.name}' is not supported for fine-tuned deployments. Use Standard, GlobalStandard, DeveloperTier or ProvisionedManaged.`);
  const capacity = sku.capacity ?? 1;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) throw invalidProperties("'sku.capacity' must be a positive integer.");
  return { name, capacity };
}

function parseModel(raw: unknown): DeploymentRecord['model'] {
  const model = (raw as { model?: Record<string, unknown> } | undefined)?.model;
  if (!model || typeof model.name !== 'string' || model.name.length === 0) throw invalidProperties("'properties.model.name' is required.");
  const format = typeof model.format === 'string' ? model.format : 'OpenAI';
  if (format !== 'OpenAI') throw new ApiError(400, 'DeploymentModelNotSupported', `Model format '${format}' is not supported; use 'OpenAI'.`);
  const parsed: DeploymentRecord['model'] = { format, name: model.name, version: typeof model.version === 'string' ? model.version : '1' };
  if (typeof model.source === 'string' && model.source.length > 0) parsed.source = model.source;
  return parsed;
}

function checkSkuOffered(entry: ModelEntry, account: Account, sku: DeploymentType, modelName: string): void {
  const offered = deploymentTypesFor(entry, account.region);
  if (!offered.includes(sku)) {
    throw invalidProperties(`The specified SKU '${sku}' for model '${modelName}' is not supported in region '${account.region}'. Offered here: ${offered.join(', ') || 'none'}.`);
  }
}
