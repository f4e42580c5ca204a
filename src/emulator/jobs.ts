/**
 * Fine-tuning jobs: create, list (with metadata filter), get, cancel, pause, resume, delete, events, checkpoints,
 * and the preview checkpoint copy. A job's status is a function of emulated time, advanced lazily on every read:
 * pending (file validation) -> queued -> running (one step per `plan.stepMs`) -> succeeded, with pausing/paused/
 * resuming in between when asked.
 */
import { normalizeRegion, resolveModel, trainingTypesFor, versionedModelId, type ModelEntry, type TrainingType } from '../catalog';
import type { Timings } from './config';
import type { FileService } from './files';
import { enforceJobQuota } from './quotas';
import { createdReply, pageAfter, type Dispatcher, type RequestContext, type Reply } from './server';
import {
  checkpointJson,
  copyJson,
  eventJson,
  invalidPayload,
  jobJson,
  listJson,
  newCheckpointId,
  newEventId,
  newJobId,
  notFound,
  unexpectedEntityState,
} from './shapes';
import type { Account, CopyRecord, EmulatorState, ExampleFormat, JobEventRecord, JobRecord, JobStatus, ModelRecord } from './state';
import {
  AUTO_EPOCHS,
  AUTO_LEARNING_RATE_MULTIPLIER,
  autoBatchSize,
  isEpochEnd,
  metricsAt,
  planTraining,
  resultsCsv,
  skillAt,
} from './training';

const TERMINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);
const KEPT_CHECKPOINTS = 3;
const METHOD_FORMATS: Record<JobRecord['method'], ExampleFormat> = { supervised: 'chat', dpo: 'preference', reinforcement: 'reinforcement' };
const TRAINING_TYPES: Record<string, TrainingType> = {
  standard: 'Standard',
  global: 'Global',
  globalstandard: 'Global',
  developer: 'Developer',
  developertier: 'Developer',
};
/** A continued model starts its new curve half an epoch in: it already knows the task's format. */
const CONTINUATION_HEAD_START_EPOCHS = 0.5;
const COPY_HEADER = 'aoai-copy-ft-checkpoints';
const GRADER_TYPES = new Set(['string_check', 'text_similarity', 'score_model', 'multi']);

export class JobService {
  constructor(
    private readonly state: EmulatorState,
    private readonly files: FileService,
    private readonly timings: Timings,
  ) {}

  register(d: Dispatcher): void {
    const both = ['dated', 'v1'] as const;
    d.data('jobs.create', 'POST', '/fine_tuning/jobs', both, (ctx) => this.create(ctx));
    d.data('jobs.list', 'GET', '/fine_tuning/jobs', both, (ctx) => this.list(ctx));
    d.data('jobs.get', 'GET', '/fine_tuning/jobs/:jobId', both, (ctx) => ({ status: 200, json: jobJson(this.find(ctx)) }));
    d.data('jobs.delete', 'DELETE', '/fine_tuning/jobs/:jobId', ['dated'], (ctx) => this.remove(ctx));
    d.data('jobs.cancel', 'POST', '/fine_tuning/jobs/:jobId/cancel', both, (ctx) => this.cancel(ctx));
    d.data('jobs.pause', 'POST', '/fine_tuning/jobs/:jobId/pause', both, (ctx) => this.pause(ctx));
    d.data('jobs.resume', 'POST', '/fine_tuning/jobs/:jobId/resume', both, (ctx) => this.resume(ctx));
    // The specs say GET; the docs' curl examples use POST. Both are served.
    for (const method of ['GET', 'POST'] as const) {
      d.data('jobs.events', method, '/fine_tuning/jobs/:jobId/events', both, (ctx) => this.events(ctx));
      d.data('jobs.checkpoints', method, '/fine_tuning/jobs/:jobId/checkpoints', both, (ctx) => this.checkpoints(ctx));
    }
    d.data('checkpoints.copy', 'POST', '/fine_tuning/jobs/:jobId/checkpoints/:checkpointId/copy', ['v1'], (ctx) => this.copy(ctx));
    d.data('checkpoints.copyStatus', 'GET', '/fine_tuning/jobs/:jobId/checkpoints/:checkpointId/copy', ['v1'], (ctx) => this.copyStatus(ctx));
  }

  /** A fine-tuned model, checkpoint or completed copy usable in `account` (copies settle here). */
  findModel(account: string, name: string, now: number): ModelRecord | undefined {
    this.settleCopies(now);
    return this.state.model(account, name);
  }

  /** Fails a job as the service would (control API): for tests of how a pipeline handles a failed job. */
  fail(jobId: string, now: number, code: string, message: string): JobRecord {
    const job = this.state.jobs.get(jobId);
    if (!job) throw notFound(`Fine-tuning job '${jobId}' was not found.`);
    this.refresh(job, now);
    if (TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' is already ${job.status}.`);
    this.enter(job, 'failed', now);
    job.finishedAt = now;
    job.error = { code, message, param: null };
    job.events.push({ id: newEventId(), createdAt: now, level: 'error', message, type: 'message' });
    this.state.markDirty();
    return job;
  }

  /** Advances a job to emulated `now`. */
  refresh(job: JobRecord, now: number): void {
    const before = `${job.status}/${job.stepsDone}`;
    for (;;) {
      if (job.status === 'pending') {
        const t = job.phaseStartedAt + this.timings.jobValidationSeconds * 1000;
        if (now < t) break;
        this.enter(job, 'queued', t);
        this.event(job, t, 'Files validated, moving job to queued state');
      } else if (job.status === 'queued' || job.status === 'resuming') {
        const wait = job.status === 'queued' ? this.timings.jobQueueSeconds : this.timings.resumeSeconds;
        const t = job.phaseStartedAt + wait * 1000;
        if (now < t) break;
        const resumed = job.status === 'resuming';
        this.enter(job, 'running', t);
        job.estimatedFinish = t + (job.plan.totalSteps - job.stepsDone) * job.plan.stepMs;
        this.event(job, t, resumed ? 'Fine-tuning job resumed' : 'Fine-tuning job started');
      } else if (job.status === 'running') {
        this.train(job, now);
        break;
      } else if (job.status === 'pausing') {
        const t = job.phaseStartedAt + this.timings.pauseSeconds * 1000;
        if (now < t) break;
        this.enter(job, 'paused', t);
        this.addCheckpoint(job, job.stepsDone, t);
        this.event(job, t, `Fine-tuning job paused at step ${job.stepsDone}; a deployable checkpoint was created`);
        break;
      } else {
        break;
      }
    }
    if (`${job.status}/${job.stepsDone}` !== before) this.state.markDirty();
  }

  private find(ctx: RequestContext): JobRecord {
    const id = ctx.params.jobId!;
    const job = this.state.jobs.get(id);
    if (!job || job.account !== ctx.account!.name) throw notFound(`Fine-tuning job '${id}' was not found.`);
    this.refresh(job, ctx.now);
    return job;
  }

  private async create(ctx: RequestContext): Promise<Reply> {
    const account = ctx.account!;
    const body = await ctx.json();
    const base = this.resolveBase(account, body.model, ctx.now);
    const trainingType = resolveTrainingType(base.entry, account, body.trainingType);
    const method = resolveMethod(base.entry, body.method);
    const training = this.files.requireTrainingFile(account, body.training_file, 'training_file', ctx.now);
    const validation =
      body.validation_file === undefined || body.validation_file === null ? undefined : this.files.requireTrainingFile(account, body.validation_file, 'validation_file', ctx.now);
    for (const [param, file] of [['training_file', training], ['validation_file', validation]] as const) {
      if (file && file.validation.format !== METHOD_FORMATS[method]) {
        throw invalidPayload(`The ${param} '${file.file.id}' holds ${file.validation.format ?? 'unknown'}-format examples; method '${method}' needs ${METHOD_FORMATS[method]} format.`, param);
      }
    }
    const seed = resolveSeed(body.seed);
    const suffix = resolveSuffix(body.suffix);
    const metadata = resolveMetadata(body.metadata);
    const { hyperparameters: methodHyper, ...methodSettings } = (body.method as Record<string, Record<string, unknown> | undefined> | undefined)?.[method] ?? {};
    // Top-level hyperparameters (where Azure documents prompt_loss_weight) merged under the method's own.
    const hyper = resolveHyperparameters(mergeObjects(body.hyperparameters, methodHyper), training.validation.examples);
    const accountJobs = [...this.state.jobs.values()].filter((j) => j.account === account.name);
    for (const j of accountJobs) this.refresh(j, ctx.now);
    enforceJobQuota(account, accountJobs);

    const id = newJobId();
    const plan = planTraining({
      examples: training.validation.examples,
      tokensPerEpoch: training.validation.tokens,
      batchSize: hyper.batch_size,
      epochs: hyper.n_epochs,
      learningRateMultiplier: hyper.learning_rate_multiplier,
      seed,
      headStartEpochs: base.parent ? CONTINUATION_HEAD_START_EPOCHS : 0,
      hasValidation: validation !== undefined,
      timings: this.timings,
    });
    const job: JobRecord = {
      id,
      account: account.name,
      createdAt: ctx.now,
      status: 'pending',
      model: body.model as string,
      baseModel: base.entry.id,
      plannedModelName: `${versionedModelId(base.entry)}.ft-${id.slice('ftjob-'.length)}${suffix ? `-${suffix}` : ''}`,
      fineTunedModel: null,
      finishedAt: null,
      estimatedFinish: null,
      trainingFile: training.file.id,
      validationFile: validation?.file.id ?? null,
      resultFiles: [],
      trainedTokens: null,
      seed,
      hyperparameters: hyper,
      method,
      methodSettings,
      trainingType,
      suffix,
      metadata,
      error: null,
      plan,
      phaseStartedAt: ctx.now,
      stepsAtPhaseStart: 0,
      stepsDone: 0,
      events: [],
      checkpoints: [],
      knowledge: { ...base.parent?.knowledge, ...training.validation.references, ...validation?.validation.references },
    };
    this.state.jobs.set(id, job);
    this.event(job, ctx.now, `Created fine-tuning job: ${id}`);
    this.event(job, ctx.now, `Validating training file: ${job.trainingFile}${job.validationFile ? ` and validation file: ${job.validationFile}` : ''}`);
    this.state.markDirty();
    return createdReply(ctx, jobJson(job), `/fine_tuning/jobs/${id}`);
  }

  private resolveBase(account: Account, model: unknown, now: number): { entry: ModelEntry; parent?: ModelRecord } {
    if (typeof model !== 'string' || model.length === 0) throw invalidPayload("'model' is required.", 'model');
    const parent = this.findModel(account.name, model, now);
    if (parent) {
      const entry = resolveModel(parent.baseModel)?.entry;
      if (entry) return { entry, parent };
    }
    const resolved = resolveModel(model);
    if (!resolved) throw invalidPayload('The specified base model does not support fine-tuning.', 'model');
    if (resolved.fineTuned) throw invalidPayload(`The fine-tuned model '${model}' was not found in this resource.`, 'model');
    return { entry: resolved.entry };
  }

  private list(ctx: RequestContext): Reply {
    const account = ctx.account!;
    const filters: [string, string][] = [];
    for (const [key, value] of ctx.query) {
      const m = /^metadata\[(.+)\]$/.exec(key);
      if (m) filters.push([m[1]!, value]);
    }
    const jobs = [...this.state.jobs.values()]
      .filter((j) => j.account === account.name && filters.every(([k, v]) => j.metadata?.[k] === v))
      .sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    for (const job of jobs) this.refresh(job, ctx.now);
    const { data, hasMore } = pageAfter(jobs, ctx.query, 20, 100);
    return { status: 200, json: listJson(ctx.family!, data.map((j) => jobJson(j) as { id: string }), hasMore, true) };
  }

  private remove(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (!TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' is ${job.status}; only a succeeded, failed or cancelled job can be deleted. Cancel it first.`);
    this.state.jobs.delete(job.id);
    this.state.markDirty();
    return { status: 204 };
  }

  private cancel(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' has already ${job.status === 'cancelled' ? 'been cancelled' : job.status}; it cannot be cancelled.`);
    this.enter(job, 'cancelled', ctx.now);
    job.finishedAt = ctx.now;
    this.event(job, ctx.now, 'Fine-tuning job cancelled');
    this.state.markDirty();
    return { status: 200, json: jobJson(job) };
  }

  private pause(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (job.status !== 'running' || job.stepsDone < 1) {
      throw unexpectedEntityState(`Job '${job.id}' cannot be paused: pause is allowed only for a running job that has trained at least one step (status: ${job.status}, steps: ${job.stepsDone}).`);
    }
    this.enter(job, 'pausing', ctx.now);
    this.event(job, ctx.now, `Pausing fine-tuning job at step ${job.stepsDone}`);
    this.state.markDirty();
    return { status: 200, json: jobJson(job) };
  }

  private resume(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (job.status !== 'paused') throw unexpectedEntityState(`Job '${job.id}' cannot be resumed: it is ${job.status}, not paused.`);
    this.enter(job, 'resuming', ctx.now);
    this.event(job, ctx.now, 'Resuming fine-tuning job');
    this.state.markDirty();
    return { status: 200, json: jobJson(job) };
  }

  private events(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    const newestFirst = [...job.events].reverse();
    const { data, hasMore } = pageAfter(newestFirst, ctx.query, 20, 1000);
    return { status: 200, json: listJson(ctx.family!, data.map((e) => eventJson(e) as { id: string }), hasMore, true) };
  }

  private checkpoints(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    const newestFirst = [...job.checkpoints].reverse();
    const { data, hasMore } = pageAfter(newestFirst, ctx.query, 10, 100);
    return { status: 200, json: listJson(ctx.family!, data.map((c) => checkpointJson(c) as { id: string }), hasMore, true) };
  }

  private async copy(ctx: RequestContext): Promise<Reply> {
    requireCopyHeader(ctx);
    const job = this.find(ctx);
    const checkpoint = findCheckpoint(job, ctx.params.checkpointId!);
    const body = await ctx.json();
    const { destinationResourceId, region } = body;
    if (typeof destinationResourceId !== 'string') throw invalidPayload("'destinationResourceId' is required.", 'destinationResourceId');
    if (typeof region !== 'string') throw invalidPayload("'region' is required.", 'region');
    const destination = this.state.findAccountByArmId(destinationResourceId);
    if (!destination) throw invalidPayload(`The destination resource '${destinationResourceId}' was not found or is not accessible.`, 'destinationResourceId');
    if (destination.name === job.account) throw invalidPayload('The destination resource is the source resource.', 'destinationResourceId');
    if (normalizeRegion(region) !== normalizeRegion(destination.region)) {
      throw invalidPayload(`The destination resource is in region '${destination.region}', not '${region}'.`, 'region');
    }
    const key = `${job.id}/${checkpoint.id}`;
    const copy: CopyRecord = this.state.copies.get(key) ?? { jobId: job.id, checkpointId: checkpoint.id, checkpointedModelName: checkpoint.modelName, destinations: [] };
    this.state.copies.set(key, copy);
    const existing = copy.destinations.find((d) => d.account === destination.name);
    if (!existing || (ctx.now >= existing.completesAt && !existing.succeeds)) {
      copy.destinations = copy.destinations.filter((d) => d !== existing);
      copy.destinations.push({
        destinationResourceId: destination.armId,
        region: destination.region,
        account: destination.name,
        startedAt: ctx.now,
        completesAt: ctx.now + this.timings.copySeconds * 1000,
        // Documented prerequisite: the destination has at least one fine-tuning job.
        succeeds: [...this.state.jobs.values()].some((j) => j.account === destination.name),
      });
      this.state.markDirty();
    }
    return { status: 200, json: copyJson(copy, this.copyStatuses(copy, ctx.now)) };
  }

  private copyStatus(ctx: RequestContext): Reply {
    requireCopyHeader(ctx);
    const job = this.find(ctx);
    const checkpoint = findCheckpoint(job, ctx.params.checkpointId!);
    const copy = this.state.copies.get(`${job.id}/${checkpoint.id}`);
    if (!copy) throw notFound(`Checkpoint '${checkpoint.id}' has not been copied.`);
    this.settleCopies(ctx.now);
    return { status: 200, json: copyJson(copy, this.copyStatuses(copy, ctx.now)) };
  }

  private copyStatuses(copy: CopyRecord, now: number): Map<string, string> {
    return new Map(copy.destinations.map((d) => [d.destinationResourceId, now < d.completesAt ? 'InProgress' : d.succeeds ? 'Completed' : 'Failed']));
  }

  /** Makes completed copies deployable and fine-tunable in their destination accounts. */
  private settleCopies(now: number): void {
    for (const copy of this.state.copies.values()) {
      for (const d of copy.destinations) {
        if (!d.succeeds || now < d.completesAt || this.state.model(d.account, copy.checkpointId)) continue;
        const source = this.state.jobs.get(copy.jobId);
        const sourceModel = source && this.state.model(source.account, copy.checkpointId);
        if (!sourceModel) continue;
        this.state.addModel({ ...sourceModel, account: d.account, name: copy.checkpointId }, copy.checkpointedModelName);
        this.state.markDirty();
      }
    }
  }

  private train(job: JobRecord, now: number): void {
    const plan = job.plan;
    const target = Math.min(plan.totalSteps, job.stepsAtPhaseStart + Math.floor((now - job.phaseStartedAt) / plan.stepMs));
    for (let step = job.stepsDone + 1; step <= target; step++) {
      const t = job.phaseStartedAt + (step - job.stepsAtPhaseStart) * plan.stepMs;
      const metrics = metricsAt(plan, step, isEpochEnd(plan, step));
      job.stepsDone = step;
      this.event(job, t, `Step ${step}/${plan.totalSteps}: training loss=${metrics.train_loss}`, 'metrics', { ...metrics, total_steps: plan.totalSteps });
      if (isEpochEnd(plan, step)) this.addCheckpoint(job, step, t);
      if (step === plan.totalSteps) this.succeed(job, t);
    }
  }

  private succeed(job: JobRecord, t: number): void {
    const plan = job.plan;
    this.enter(job, 'succeeded', t);
    job.finishedAt = t;
    job.fineTunedModel = job.plannedModelName;
    job.trainedTokens = plan.tokensPerEpoch * plan.epochs;
    job.resultFiles = [this.files.addResultFile(job.account, 'results.csv', resultsCsv(plan, plan.totalSteps), t).id];
    this.state.addModel(this.modelAt(job, plan.totalSteps, job.plannedModelName));
    this.event(job, t, `New fine-tuned model created: ${job.plannedModelName}`);
    this.event(job, t, 'The job has successfully completed');
  }

  private addCheckpoint(job: JobRecord, step: number, t: number): void {
    if (job.checkpoints[job.checkpoints.length - 1]?.step === step) return;
    const checkpoint = {
      id: newCheckpointId(),
      jobId: job.id,
      account: job.account,
      createdAt: t,
      step,
      modelName: `${job.plannedModelName}:ckpt-step-${step}`,
      metrics: metricsAt(job.plan, step, true),
    };
    job.checkpoints.push(checkpoint);
    this.state.addModel(this.modelAt(job, step, checkpoint.id), checkpoint.modelName);
    while (job.checkpoints.length > KEPT_CHECKPOINTS) {
      const dropped = job.checkpoints.shift()!;
      this.state.removeModel(job.account, dropped.id, dropped.modelName);
    }
    this.event(job, t, `Checkpoint created at step ${step}`);
  }

  private modelAt(job: JobRecord, step: number, name: string): ModelRecord {
    return {
      name,
      account: job.account,
      baseModel: job.baseModel,
      jobId: job.id,
      skill: skillAt(job.plan, step),
      knowledge: job.knowledge,
    };
  }

  private enter(job: JobRecord, status: JobStatus, t: number): void {
    job.status = status;
    job.phaseStartedAt = t;
    job.stepsAtPhaseStart = job.stepsDone;
    if (status !== 'running') job.estimatedFinish = null;
  }

  private event(job: JobRecord, t: number, message: string, type: JobEventRecord['type'] = 'message', data?: Record<string, unknown>): void {
    const event: JobEventRecord = { id: newEventId(), createdAt: t, level: 'info', message, type };
    if (data) event.data = data;
    job.events.push(event);
  }
}

function requireCopyHeader(ctx: RequestContext): void {
  if (ctx.req.headers[COPY_HEADER] !== 'preview') {
    throw invalidPayload(`Checkpoint copy is a preview feature: send the header '${COPY_HEADER}: preview'.`);
  }
}

function findCheckpoint(job: JobRecord, idOrName: string): JobRecord['checkpoints'][number] {
  const checkpoint = job.checkpoints.find((c) => c.id === idOrName || c.modelName === idOrName);
  if (!checkpoint) throw notFound(`Checkpoint '${idOrName}' of job '${job.id}' was not found.`);
  return checkpoint;
}

function resolveTrainingType(entry: ModelEntry, account: Account, requested: unknown): string {
  const available = trainingTypesFor(entry, account.region);
  if (requested === undefined || requested === null) {
    // Azure answers a job without trainingType as if the model could not be fine-tuned at all when Standard
    // training is not offered in the region.
    if (!available.includes('Standard')) throw invalidPayload('The specified base model does not support fine-tuning.', 'model');
    return 'Standard';
  }
  if (typeof requested !== 'string') throw invalidPayload("'trainingType' must be a string.", 'trainingType');
  const type = TRAINING_TYPES[requested.toLowerCase()];
  if (!type) throw invalidPayload(`'${requested}' is not a training type. Use Standard, GlobalStandard or developerTier.`, 'trainingType');
  if (!available.includes(type)) {
    throw invalidPayload(`The base model '${entry.id}' does not support ${requested} training in region '${account.region}'.`, 'trainingType');
  }
  return requested;
}

function resolveMethod(entry: ModelEntry, method: unknown): JobRecord['method'] {
  if (method === undefined || method === null) {
    if (!entry.methods.includes('supervised')) throw invalidPayload(`The model '${entry.id}' supports only ${entry.methods.join(', ')} fine-tuning; set 'method'.`, 'method');
    return 'supervised';
  }
  const type = (method as { type?: unknown }).type;
  if (type !== 'supervised' && type !== 'dpo' && type !== 'reinforcement') throw invalidPayload("'method.type' must be supervised, dpo or reinforcement.", 'method');
  if (!entry.methods.includes(type)) throw invalidPayload(`The model '${entry.id}' does not support ${type} fine-tuning.`, 'method');
  const grader = (method as { reinforcement?: { grader?: { type?: unknown } } }).reinforcement?.grader;
  if (type === 'reinforcement' && !GRADER_TYPES.has(String(grader?.type))) {
    throw invalidPayload(`Reinforcement fine-tuning needs 'method.reinforcement.grader' with a type among ${[...GRADER_TYPES].join(', ')}.`, 'method.reinforcement.grader');
  }
  return type;
}

function resolveSeed(seed: unknown): number {
  if (seed === undefined || seed === null) return Math.floor(Math.random() * 2_147_483_647);
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2_147_483_647) throw invalidPayload("'seed' must be an integer between 0 and 2147483647.", 'seed');
  return seed;
}

function resolveSuffix(suffix: unknown): string | null {
  if (suffix === undefined || suffix === null || suffix === '') return null;
  if (typeof suffix !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(suffix)) {
    throw invalidPayload("'suffix' must be at most 40 characters of a-z, A-Z, 0-9, '-' and '_'.", 'suffix');
  }
  return suffix;
}

function resolveMetadata(metadata: unknown): Record<string, string> | null {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw invalidPayload("'metadata' must be an object of string values.", 'metadata');
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw invalidPayload("'metadata' can have at most 16 keys.", 'metadata');
  for (const [k, v] of entries) {
    if (k.length > 64 || typeof v !== 'string' || v.length > 512) throw invalidPayload(`'metadata.${k}' must be a string of at most 512 characters, with a key of at most 64.`, 'metadata');
  }
  return metadata as Record<string, string>;
}

function mergeObjects(base: unknown, override: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(base) && isObject(override)) return { ...base, ...override };
  return override ?? base;
}

function resolveHyperparameters(raw: unknown, examples: number): JobRecord['hyperparameters'] {
  const h = (raw ?? {}) as Record<string, unknown>;
  if (typeof h !== 'object' || Array.isArray(h)) throw invalidPayload("'hyperparameters' must be an object.", 'hyperparameters');
  const pick = (name: string, auto: number, ok: (n: number) => boolean, rule: string): number => {
    const v = h[name];
    if (v === undefined || v === null || v === 'auto') return auto;
    if (typeof v !== 'number' || !ok(v)) throw invalidPayload(`'hyperparameters.${name}' must be "auto" or ${rule}.`, `hyperparameters.${name}`);
    return v;
  };
  const result: JobRecord['hyperparameters'] = {
    ...h,
    batch_size: pick('batch_size', autoBatchSize(examples), (n) => Number.isInteger(n) && n >= 1 && n <= 256, 'an integer from 1 to 256'),
    learning_rate_multiplier: pick('learning_rate_multiplier', AUTO_LEARNING_RATE_MULTIPLIER, (n) => n > 0 && n <= 10, 'a number above 0 and at most 10'),
    n_epochs: pick('n_epochs', AUTO_EPOCHS, (n) => Number.isInteger(n) && n >= 1 && n <= 50, 'an integer from 1 to 50'),
  };
  const w = h.prompt_loss_weight;
  if (w !== undefined && (typeof w !== 'number' || w < 0 || w > 1)) {
    throw invalidPayload("'hyperparameters.prompt_loss_weight' must be a number from 0 to 1.", 'hyperparameters.prompt_loss_weight');
  }
  return result;
}

