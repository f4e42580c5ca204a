/**
 * ARM deployments under `/subscriptions/.../accounts/{account}/deployments/{name}`: PUT, GET, PATCH, DELETE, list,
 * as long-running operations the SDK poller follows, shaped as the 2025 recordings show: PUT answers 201 with
 * `provisioningState: Creating`, `Azure-AsyncOperation` at `.../locations/{region}/operationResults/{id}` (status
 * `Running`, then `Succeeded`) and a `Location` (`...&operationResultResponseType=Location`); DELETE answers 202
 * with both. One operation at a time per account (else 409 RequestConflict). Operations complete, DeveloperTier
 * deployments expire after 24 h and fine-tuned deployments after 15 days without inference, lazily on read.
 */
import { randomUUID } from 'node:crypto';
import type { CapacityService } from './capacity';
import type { Timings } from './config';
import type { JobService } from './jobs';
import type { Dispatcher, RequestContext, Reply } from './server';
import { ApiError, armAccountNotFound } from './errors';
import { armOperationJson, deploymentJson, newOperationId, quotedEtag } from './shapes';
import { enforceFineTunedDeploymentQuota } from './quotas';
import { BASE_MODEL_SKUS, deployableBaseModel, fineTunedSkusAt, normalizeRegion, resolveBaseModel, type ServiceModel, type ServiceSku } from './service';
import { deploymentKey, type Account, type DeploymentRecord, type EmulatorState, type ModelRecord, type OperationRecord } from './state';

/** SKU names are case-insensitive (the docs send `standard`); Azure echoes them as sent. */
const SKUS: Record<string, ServiceSku> = {
  standard: 'Standard',
  globalstandard: 'GlobalStandard',
  datazonestandard: 'DataZoneStandard',
  developertier: 'DeveloperTier',
  provisionedmanaged: 'ProvisionedManaged',
  globalprovisionedmanaged: 'GlobalProvisionedManaged',
};

const ACCOUNT_PATH = '/subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.CognitiveServices/accounts/:accountName';
const LOCATION_PATH = '/subscriptions/:subscriptionId/providers/Microsoft.CognitiveServices/locations/:location';

const invalidProperties = (message: string): ApiError => new ApiError(400, 'InvalidResourceProperties', message);

export class DeploymentService {
  /** One-shot rules of control.failDeployment for operations not started yet (not kept in the state file). */
  private readonly failures: { account: string; deployment?: string; error: { code: string; message: string } }[] = [];

  constructor(
    private readonly state: EmulatorState,
    private readonly jobs: JobService,
    private readonly capacity: CapacityService,
    private readonly timings: Timings,
  ) {}

  register(d: Dispatcher): void {
    d.arm('arm.deployments.list', 'GET', `${ACCOUNT_PATH}/deployments`, (ctx) => this.list(ctx));
    d.arm('arm.deployments.get', 'GET', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.get(ctx));
    d.arm('arm.deployments.put', 'PUT', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.put(ctx));
    d.arm('arm.deployments.patch', 'PATCH', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.patch(ctx));
    d.arm('arm.deployments.delete', 'DELETE', `${ACCOUNT_PATH}/deployments/:deploymentName`, (ctx) => this.remove(ctx));
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
      if (op.account !== account || op.status !== 'Running' || now < op.endsAt) continue;
      const key = deploymentKey(account, op.deployment);
      if (op.error) {
        // A failed create leaves the resource Failed, serving nothing; a failed update leaves the old one serving.
        const deployment = this.state.deployments.get(key);
        if (deployment) this.state.deployments.set(key, { ...deployment, state: 'Failed', modifiedAt: op.endsAt });
        op.status = 'Failed';
        changed = true;
        continue;
      }
      if (op.kind === 'delete') this.state.deployments.delete(key);
      else if (op.pending) this.state.deployments.set(key, { ...op.pending, state: 'Succeeded', succeededAt: op.endsAt, modifiedAt: op.endsAt });
      op.status = 'Succeeded';
      changed = true;
    }
    const developerMs = this.timings.developerDeploymentLifetimeSeconds * 1000;
    const inactiveMs = this.timings.inactiveDeploymentLifetimeSeconds * 1000;
    for (const [key, deployment] of this.state.deployments) {
      if (deployment.account !== account || deployment.succeededAt === null) continue;
      const expired = deployment.sku.type === 'DeveloperTier' && now >= deployment.succeededAt + developerMs;
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
      throw armAccountNotFound(this.state.accounts.values(), ctx.params.subscriptionId ?? '', ctx.params.resourceGroupName ?? '', ctx.params.accountName ?? '');
    }
    this.refresh(account.name, ctx.now);
    return account;
  }

  private find(ctx: RequestContext, account: Account): DeploymentRecord {
    const name = ctx.params.deploymentName!;
    const deployment = this.state.deployments.get(deploymentKey(account.name, name));
    if (!deployment) {
      // The resource provider's own answer for a deployment it does not have (live: microsoft/PubSec-Info-Assistant#385,
      // azure-mgmt-cognitiveservices "(NotFound) Specified resource '.../deployments/chat' cannot be found.").
      throw new ApiError(404, 'NotFound', `Specified resource '${account.armId}/deployments/${name}' cannot be found.`);
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
    const deployment = this.find(ctx, account);
    return { status: 200, json: this.json(account, deployment), headers: etagHeader(deployment) };
  }

  private async put(ctx: RequestContext): Promise<Reply> {
    const account = this.account(ctx);
    const name = ctx.params.deploymentName!;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/.test(name)) throw invalidProperties(`The deployment name '${name}' is invalid: use 2-64 letters, digits, '.', '_' or '-'.`);
    const body = await ctx.json();
    const sku = parseSku(body.sku);
    const options = parseDeploymentOptions(body);
    const model = parseModel(body.properties);
    const { served } = this.resolveDeployable(account, model, sku, ctx.now);
    const existing = this.state.deployments.get(deploymentKey(account.name, name));
    if (existing?.served && existing.model.name !== model.name) {
      throw new ApiError(400, 'ModelUpgradeNotSupported', `The deployment '${name}' serves the fine-tuned model '${existing.model.name}' and cannot be changed in place to '${model.name}'. Delete it and create a new deployment.`);
    }
    this.requireIdle(account);
    if (!existing && served) {
      this.refresh(account.name, ctx.now);
      enforceFineTunedDeploymentQuota(account, this.state.deployments.values());
    }
    this.capacity.checkDeployment(account, served?.baseModel ?? model.name, sku.type, sku.capacity, existing);
    const record: DeploymentRecord = {
      name: existing?.name ?? name,
      account: account.name,
      sku,
      model,
      served,
      createdAt: existing?.createdAt ?? ctx.now,
      modifiedAt: ctx.now,
      etag: randomUUID(),
      state: 'Creating',
      succeededAt: null,
      ...options,
    };
    if (!existing) this.state.deployments.set(deploymentKey(account.name, name), record);
    const op = this.startOperation(account, record.name, existing ? 'update' : 'create', ctx.now, record);
    return { status: existing ? 200 : 201, json: deploymentJson(record, account.armId, existing ? 'Accepted' : 'Creating'), headers: { ...this.operationHeaders(ctx, account, op), ...etagHeader(record) } };
  }

  private async patch(ctx: RequestContext): Promise<Reply> {
    const account = this.account(ctx);
    const existing = this.find(ctx, account);
    const body = await ctx.json();
    // The spec's PATCH body is `PatchResourceTagsAndSku` (tags, sku): typed as the PUT types them.
    if (body.sku !== undefined && body.sku !== null && !isObject(body.sku)) throw new ApiError(400, 'InvalidResourceProperties', "The property 'sku' must be an object.", 'sku');
    parseDeploymentOptions({ tags: body.tags, sku: body.sku });
    const skuPatch = (body.sku ?? undefined) as { name?: unknown; capacity?: unknown } | undefined;
    const sku = skuPatch === undefined ? existing.sku : parseSku({ name: skuPatch.name ?? existing.sku.name, capacity: skuPatch.capacity ?? existing.sku.capacity });
    if (sku.type !== existing.sku.type) this.checkSku(account, existing.model.name, existing.served, sku);
    this.capacity.checkDeployment(account, existing.served?.baseModel ?? existing.model.name, sku.type, sku.capacity, existing);
    this.requireIdle(account);
    const record: DeploymentRecord = { ...existing, sku, modifiedAt: ctx.now, etag: randomUUID() };
    const op = this.startOperation(account, existing.name, 'update', ctx.now, record);
    return { status: 202, json: deploymentJson(record, account.armId, 'Accepted'), headers: { ...this.operationHeaders(ctx, account, op), ...etagHeader(record) } };
  }

  private remove(ctx: RequestContext): Reply {
    const account = this.account(ctx);
    const existing = this.state.deployments.get(deploymentKey(account.name, ctx.params.deploymentName!));
    if (!existing) return { status: 204 };
    this.requireIdle(account);
    // Recorded with 2023-05-01 and 2023-10-01-preview: the delete is synchronous, 200 with no body.
    if ((ctx.query.get('api-version') ?? '') < '2024') {
      this.state.deployments.delete(deploymentKey(account.name, existing.name));
      this.state.markDirty();
      return { status: 200 };
    }
    existing.state = 'Deleting';
    const op = this.startOperation(account, existing.name, 'delete', ctx.now);
    return { status: 202, headers: this.operationHeaders(ctx, account, op) };
  }

  /**
   * `operationResults/{id}`: the `Azure-AsyncOperation` URL answers the operation's status (recorded `Running` ->
   * `Succeeded`); with `operationResultResponseType=Location` (the `Location` URL) 202 until done, then the result.
   */
  private operationResult(ctx: RequestContext): Reply {
    const op = this.operation(ctx);
    if (ctx.query.get('operationResultResponseType') !== 'Location') {
      const path = `/subscriptions/${ctx.params.subscriptionId ?? ''}/providers/Microsoft.CognitiveServices/locations/${ctx.params.location ?? ''}/operationResults/${op.id}`;
      const error = op.status === 'Failed' && op.error ? new ApiError(500, op.error.code, op.error.message) : undefined;
      return { status: 200, json: armOperationJson(path, op.id, op.status, op.startedAt, op.status === 'Running' ? null : op.endsAt, error) };
    }
    if (op.status === 'Running') return { status: 202, headers: { location: this.operationUrl(ctx, op, true) } };
    // ARM's RPC: a failed operation's Location URL answers its error (the emulator's status: 500, as for its own failures).
    if (op.status === 'Failed' && op.error) throw new ApiError(500, op.error.code, op.error.message);
    if (op.kind === 'delete') return { status: 204 };
    const account = this.state.accounts.get(op.account)!;
    const deployment = this.state.deployments.get(deploymentKey(op.account, op.deployment));
    return deployment ? { status: 200, json: this.json(account, deployment) } : { status: 204 };
  }

  private operation(ctx: RequestContext): OperationRecord {
    const op = this.state.operations.get(ctx.params.operationId!);
    // An operation lives under its account's subscription and region (the URL its PUT or DELETE answered): under
    // another one it is not found.
    const owner = op && this.state.accounts.get(op.account);
    const here = owner && ctx.params.subscriptionId?.toLowerCase() === owner.subscriptionId.toLowerCase() && normalizeRegion(ctx.params.location ?? '') === normalizeRegion(owner.region);
    if (!op || !here) throw new ApiError(404, 'ResourceNotFound', `The operation '${ctx.params.operationId ?? ''}' was not found.`);
    this.refresh(op.account, ctx.now);
    return op;
  }

  /**
   * What a PUT may deploy: a base model by its name and its one real version on a base-model SKU (never
   * DeveloperTier); a fine-tuned model by `fine_tuned_model`, or a checkpoint by its `ftchkpt-` id, with version "1"
   * on a SKU the seed lists for fine-tuned models of its base in this region. `source` (another account) deploys a
   * fine-tuned model that lives there; a checkpoint deploys only where it lives (copy it first).
   */
  private resolveDeployable(account: Account, model: DeploymentRecord['model'], sku: DeploymentRecord['sku'], now: number): { served: ModelRecord | null } {
    let owner = account;
    if (model.source) {
      const source = this.state.findAccountByArmId(model.source);
      if (!source) throw invalidProperties(`The source resource '${model.source}' was not found or is not accessible.`);
      if (model.name.startsWith('ftchkpt-')) {
        throw new ApiError(400, 'DeploymentModelNotSupported', `The checkpoint '${model.name}' cannot be deployed from another resource. Copy it to this resource and deploy the copy (same name, no source).`);
      }
      owner = source;
    }
    const served = this.jobs.findModel(owner.name, model.name, now) ?? null;
    if (served) {
      if (model.version !== '1') throw new ApiError(400, 'DeploymentModelNotSupported', `The fine-tuned model '${model.name}' has only version '1', not '${model.version}'.`);
      this.checkSku(account, model.name, served, sku);
      return { served };
    }
    const base = deployableBaseModel(model.name);
    if (!base || base.version !== model.version) {
      throw new ApiError(
        400,
        'DeploymentModelNotSupported',
        `Creating account deployment is not supported by the model '${model.name}' version '${model.version}'. ${base ? `The model's version is '${base.version}'.` : `The model is unknown in this resource${model.source ? ' or its source' : ''}.`}`,
      );
    }
    this.checkSku(account, model.name, null, sku);
    return { served: null };
  }

  private checkSku(account: Account, modelName: string, served: ModelRecord | null, sku: DeploymentRecord['sku']): void {
    let offered: readonly ServiceSku[];
    if (served) {
      const base: ServiceModel | undefined = resolveBaseModel(served.baseModel)?.model;
      offered = base ? fineTunedSkusAt(base, account.region) : [];
    } else {
      offered = BASE_MODEL_SKUS;
    }
    if (!offered.includes(sku.type)) {
      throw invalidProperties(`The specified SKU '${sku.name}' for model '${modelName}' is not supported in region '${account.region}'. Offered here: ${offered.join(', ') || 'none'}.`);
    }
  }

  private requireIdle(account: Account): void {
    for (const op of this.state.operations.values()) {
      if (op.account === account.name && op.status === 'Running') {
        throw new ApiError(
          409,
          'RequestConflict',
          `Cannot modify resource with id '${account.armId}/deployments/${op.deployment}' because another operation is in progress on account '${account.name}'. Please wait for the provisioning state to become terminal and then retry the request.`,
        );
      }
    }
  }

  /**
   * control.failDeployment: the running create or update of `deployment` (or of any deployment of `account`) ends
   * Failed with `error`; when none runs, the next one to start does (once).
   */
  failDeployment(account: Account, deployment: string | undefined, error: { code: string; message: string }): void {
    const matches = (name: string): boolean => deployment === undefined || name.toLowerCase() === deployment.toLowerCase();
    const running = [...this.state.operations.values()].filter((op) => op.account === account.name && op.kind !== 'delete' && op.status === 'Running' && matches(op.deployment));
    if (running.length > 0) {
      for (const op of running) op.error = error;
      this.state.markDirty();
      return;
    }
    this.failures.push({ account: account.name, ...(deployment === undefined ? {} : { deployment }), error });
  }

  private startOperation(account: Account, deployment: string, kind: OperationRecord['kind'], now: number, pending?: DeploymentRecord): OperationRecord {
    const seconds = kind === 'create' ? this.timings.deploymentCreateSeconds : kind === 'update' ? this.timings.deploymentUpdateSeconds : this.timings.deploymentDeleteSeconds;
    const op: OperationRecord = { id: newOperationId(), account: account.name, deployment, kind, startedAt: now, endsAt: now + seconds * 1000, status: 'Running' };
    if (pending) op.pending = pending;
    const failure = kind === 'delete' ? -1 : this.failures.findIndex((f) => f.account === account.name && (f.deployment === undefined || f.deployment.toLowerCase() === deployment.toLowerCase()));
    if (failure !== -1) op.error = this.failures.splice(failure, 1)[0]!.error;
    this.state.operations.set(op.id, op);
    this.state.markDirty();
    return op;
  }

  private operationHeaders(ctx: RequestContext, account: Account, op: OperationRecord): Record<string, string> {
    return { 'azure-asyncoperation': this.operationUrl(ctx, op, false, account), location: this.operationUrl(ctx, op, true, account) };
  }

  private operationUrl(ctx: RequestContext, op: OperationRecord, location: boolean, account = this.state.accounts.get(op.account)!): string {
    const apiVersion = encodeURIComponent(ctx.query.get('api-version') ?? '');
    const base = `https://${ctx.req.headers.host ?? 'localhost'}/subscriptions/${account.subscriptionId}/providers/Microsoft.CognitiveServices/locations/${account.region}/operationResults/${op.id}?api-version=${apiVersion}`;
    return location ? `${base}&operationResultResponseType=Location` : base;
  }

  private json(account: Account, deployment: DeploymentRecord): unknown {
    let state: string = deployment.state;
    const running = [...this.state.operations.values()].find((op) => op.account === account.name && op.deployment.toLowerCase() === deployment.name.toLowerCase() && op.status === 'Running');
    if (running && running.kind !== 'delete') state = running.kind === 'create' ? 'Creating' : 'Accepted';
    return deploymentJson(deployment, account.armId, state);
  }
}

/** The recordings' `ETag` header on a deployment's PUT and GET (not on lists): the body's `etag`. */
function etagHeader(deployment: DeploymentRecord): Record<string, string> {
  return { etag: quotedEtag(deployment) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SKU_TIERS = ['Free', 'Basic', 'Standard', 'Premium', 'Enterprise'];
const VERSION_UPGRADE_OPTIONS = ['OnceNewDefaultVersionAvailable', 'OnceCurrentVersionExpired', 'NoAutoUpgrade'];
const SCALE_TYPES = ['Standard', 'Manual'];

/**
 * The writable fields of the 2025-09-01 spec's `Deployment` the emulator does not act on, type-checked as the spec
 * defines them (cognitiveservices.json `Deployment`, `DeploymentProperties`, `DeploymentScaleSettings`,
 * `DeploymentCapacitySettings`, `Sku`): `tags` string values; `sku.tier` and `versionUpgradeOption` and
 * `scaleSettings.scaleType` in their enums; `raiPolicyName`, `parentDeploymentName`, `spilloverDeploymentName` strings;
 * `capacitySettings.designatedCapacity`/`priority` integers >= 0 (the spec's `minimum: 0`). No recording or report shows
 * Azure's answer to a value outside them; the stricter reading refuses it (400 InvalidResourceProperties, the code live
 * answers give a property the RP does not take, `target` naming the field). `versionUpgradeOption` and `raiPolicyName`
 * are kept and echoed as sent (the recordings echo `versionUpgradeOption`: the model's default when none was sent).
 */
function parseDeploymentOptions(body: Record<string, unknown>): Pick<DeploymentRecord, 'versionUpgradeOption' | 'raiPolicyName'> {
  const refuse = (field: string, rule: string): never => {
    throw new ApiError(400, 'InvalidResourceProperties', `The property '${field}' ${rule}.`, field);
  };
  const optionalString = (v: unknown, field: string): string | undefined => {
    if (v !== undefined && v !== null && typeof v !== 'string') refuse(field, 'must be a string');
    return typeof v === 'string' ? v : undefined;
  };
  const optionalEnum = (v: unknown, field: string, values: string[]): string | undefined => {
    if (v !== undefined && v !== null && (typeof v !== 'string' || !values.includes(v))) refuse(field, `must be one of ${values.join(', ')}`);
    return typeof v === 'string' ? v : undefined;
  };
  if (body.tags !== undefined && body.tags !== null && (!isObject(body.tags) || Object.values(body.tags).some((v) => typeof v !== 'string'))) refuse('tags', 'must be an object of string values');
  if (isObject(body.sku)) optionalEnum(body.sku.tier, 'sku.tier', SKU_TIERS);
  const properties = body.properties;
  if (properties === undefined || properties === null) return {};
  if (!isObject(properties)) return refuse('properties', 'must be an object');
  const scale = properties.scaleSettings;
  if (scale !== undefined && scale !== null) {
    if (!isObject(scale)) refuse('properties.scaleSettings', 'must be an object');
    else {
      optionalEnum(scale.scaleType, 'properties.scaleSettings.scaleType', SCALE_TYPES);
      if (scale.capacity !== undefined && scale.capacity !== null && !Number.isInteger(scale.capacity)) refuse('properties.scaleSettings.capacity', 'must be an integer');
    }
  }
  const settings = properties.capacitySettings;
  if (settings !== undefined && settings !== null) {
    if (!isObject(settings)) refuse('properties.capacitySettings', 'must be an object');
    else {
      for (const name of ['designatedCapacity', 'priority']) {
        const v = settings[name];
        if (v !== undefined && v !== null && !(Number.isInteger(v) && (v as number) >= 0)) refuse(`properties.capacitySettings.${name}`, 'must be an integer of at least 0');
      }
    }
  }
  optionalString(properties.parentDeploymentName, 'properties.parentDeploymentName');
  optionalString(properties.spilloverDeploymentName, 'properties.spilloverDeploymentName');
  const versionUpgradeOption = optionalEnum(properties.versionUpgradeOption, 'properties.versionUpgradeOption', VERSION_UPGRADE_OPTIONS);
  const raiPolicyName = optionalString(properties.raiPolicyName, 'properties.raiPolicyName');
  return { ...(versionUpgradeOption ? { versionUpgradeOption } : {}), ...(raiPolicyName !== undefined ? { raiPolicyName } : {}) };
}

/** `sku.capacity` may come as a string: the recorded .NET request sent `"1"`, answered as the number 1. */
function parseSku(raw: unknown): DeploymentRecord['sku'] {
  const sku = raw as { name?: unknown; capacity?: unknown } | undefined;
  if (typeof sku?.name !== 'string') throw invalidProperties("'sku.name' is required.");
  const type = SKUS[sku.name.toLowerCase()];
  if (!type) throw invalidProperties(`The SKU '${sku.name}' is not supported. Use Standard, GlobalStandard, DataZoneStandard, DeveloperTier, ProvisionedManaged or GlobalProvisionedManaged.`);
  const capacity = typeof sku.capacity === 'string' && /^\d+$/.test(sku.capacity) ? Number(sku.capacity) : (sku.capacity ?? 1);
  // Its range is the SKU's (CapacityService.checkDeployment: InvalidCapacity); here only its type.
  if (typeof capacity !== 'number' || !Number.isInteger(capacity)) throw invalidProperties("'sku.capacity' must be an integer.");
  return { name: sku.name, type, capacity };
}

function parseModel(raw: unknown): DeploymentRecord['model'] {
  const model = (raw as { model?: Record<string, unknown> } | undefined)?.model;
  if (!model || typeof model.name !== 'string' || model.name.length === 0) throw invalidProperties("'properties.model.name' is required.");
  for (const field of ['format', 'source', 'publisher', 'sourceAccount']) {
    if (model[field] !== undefined && model[field] !== null && typeof model[field] !== 'string') throw new ApiError(400, 'InvalidResourceProperties', `The property 'properties.model.${field}' must be a string.`, `properties.model.${field}`);
  }
  const format = typeof model.format === 'string' ? model.format : 'OpenAI';
  if (format !== 'OpenAI') throw new ApiError(400, 'DeploymentModelNotSupported', `Model format '${format}' is not supported; use 'OpenAI'.`);
  if (model.version !== undefined && (typeof model.version !== 'string' || model.version.length === 0)) throw invalidProperties("'properties.model.version' must be a string.");
  // Without a version ARM assigns the model's default: "1" for a fine-tuned model, a base model's current version.
  const version = typeof model.version === 'string' ? model.version : (deployableBaseModel(model.name)?.version ?? '1');
  const parsed: DeploymentRecord['model'] = { format, name: model.name, version };
  if (typeof model.source === 'string' && model.source.length > 0) parsed.source = model.source;
  return parsed;
}
