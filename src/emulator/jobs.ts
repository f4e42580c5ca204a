/**
 * Fine-tuning jobs: create, list, get, cancel, pause, resume, delete, events, checkpoints, and the preview checkpoint
 * copy, per URL family (see `parseCreate`). A job's status is a function of emulated time, advanced lazily on every
 * read: pending (file validation and queue) -> running (one step per `plan.stepMs`) -> succeeded, with pausing/
 * paused/resuming in between when asked. The statuses and shapes are the recordings' (never `queued`).
 */
import type { Timings } from './config';
import type { FileService } from './files';
import { AzureOutcomes, billedTrainingMessage, billingCapMessage, billingCapStep, DEFAULT_PREEMPTION_SECONDS, NOT_DEPLOYABLE_CODE, notDeployableMessage, preemptionMessage, SYSTEM_RESUME_MESSAGE, systemResumeAt } from './outcomes';
import { enforceJobQuota } from './quotas';
import { createdReply, pageAfter, type Dispatcher, type RequestContext, type Reply } from './server';
import { invalidPayload, notFound, unexpectedEntityState } from './errors';
import { checkpointJson, copyJson, eventJson, jobJson, listJson, newCheckpointId, newEventId, newJobId, presentMetrics } from './shapes';
import { DATED_FULL_METHOD_API_VERSIONS, datedCreateDefinesMethod, normalizeRegion, resolveBaseModel, trainingTypesAt, type ServiceModel, type ServiceTrainingType } from './service';
import type { Account, CheckpointRecord, CopyRecord, EmulatorState, ExampleFormat, FileRecord, JobEventRecord, JobRecord, JobStatus, ModelRecord } from './state';
import {
  AUTO_LEARNING_RATE_MULTIPLIER,
  autoBatchSize,
  autoEpochs,
  isEpochEnd,
  metricsAt,
  planTraining,
  resultsCsv,
  skillAt,
} from './training';

const TERMINAL: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);
/** The final model plus the two epochs before it stay deployable (seed: fine-tuning REST guide). */
const KEPT_CHECKPOINTS = 3;
const METHOD_FORMATS: Record<JobRecord['method'], ExampleFormat> = { supervised: 'chat', dpo: 'preference', reinforcement: 'reinforcement' };
/** `trainingType` as the seed spells it (case-insensitive) -> the tier, and Azure's spelling in its answers. */
const TRAINING_TYPES: Record<string, { tier: ServiceTrainingType; echo: string }> = {
  standard: { tier: 'Standard', echo: 'standard' },
  globalstandard: { tier: 'Global', echo: 'globalStandard' },
  developertier: { tier: 'Developer', echo: 'developerTier' },
};
/**
 * Recorded `estimated_finish` - `created_at` of freshly created jobs (and of running ones whose `n_epochs` is still
 * -1): 900 s for supervised and DPO jobs, 2,760 s for reinforcement ones (seven RFT creates on three tiers in the
 * azure-ai-projects 2025-11-15-preview recordings, test_finetuning_list_jobs). Once training starts Azure corrects it
 * (see `refresh`).
 */
const ESTIMATED_FINISH_AFTER_MS: Record<JobRecord['method'], number> = { supervised: 900_000, dpo: 900_000, reinforcement: 2_760_000 };
/** A continued model starts its new curve half an epoch in: it already knows the task's format. */
const CONTINUATION_HEAD_START_EPOCHS = 0.5;
const COPY_HEADER = 'aoai-copy-ft-checkpoints';
/**
 * `AzureFineTuneReinforcementMethod.grader`: anyOf these four (v1 spec; no Python grader), each with its required
 * fields: a string, an array (`[]`), an object (`{}`) or one of the listed values.
 */
const GRADER_FIELDS: Record<string, Record<string, 'string' | '[]' | '{}' | readonly string[]>> = {
  string_check: { name: 'string', input: 'string', reference: 'string', operation: ['eq', 'ne', 'like', 'ilike'] },
  text_similarity: {
    name: 'string', input: 'string', reference: 'string',
    evaluation_metric: ['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'],
  },
  score_model: { name: 'string', model: 'string', input: '[]' },
  multi: { name: 'string', graders: '{}', calculate_output: 'string' },
};

function checkGrader(grader: unknown, path: string): Json {
  const fields = isObject(grader) ? GRADER_FIELDS[String(grader.type)] : undefined;
  if (!isObject(grader) || !fields) {
    throw invalidPayload(`Reinforcement fine-tuning needs '${path}' with a type among ${Object.keys(GRADER_FIELDS).join(', ')}.`, path);
  }
  for (const [field, rule] of Object.entries(fields)) {
    const v = grader[field];
    const ok = rule === 'string' ? typeof v === 'string' : rule === '[]' ? Array.isArray(v) : rule === '{}' ? isObject(v) : rule.includes(String(v)) && typeof v === 'string';
    if (!ok) {
      const expected = rule === 'string' ? 'a string' : rule === '[]' ? 'an array' : rule === '{}' ? 'an object' : `one of ${rule.join(', ')}`;
      throw invalidPayload(`'${path}.${field}' is required for a ${String(grader.type)} grader and must be ${expected}.`, `${path}.${field}`);
    }
  }
  // Recorded: a score_model grader sent without pass_threshold comes back with `pass_threshold: 0` (azure-ai-projects
  // python test_create_job[rft-*] on 2025-11-15-preview, and .NET Test_Rft_FineTuning_Create_Job_OpenAI_Standard on v1).
  return grader.type === 'score_model' && grader.pass_threshold === undefined ? { ...grader, pass_threshold: 0 } : grader;
}

export class JobService {
  /** Azure's outcomes beyond success and failure (outcomes.ts): safety verdicts, the RFT billing cap, preemption. */
  readonly outcomes = new AzureOutcomes();

  constructor(
    private readonly state: EmulatorState,
    private readonly files: FileService,
    private readonly timings: Timings,
  ) {}

  register(d: Dispatcher): void {
    const both = ['dated', 'v1'] as const;
    d.data('jobs.create', 'POST', '/fine_tuning/jobs', both, (ctx) => this.create(ctx));
    d.data('jobs.list', 'GET', '/fine_tuning/jobs', both, (ctx) => this.list(ctx));
    d.data('jobs.get', 'GET', '/fine_tuning/jobs/:jobId', both, (ctx) => ({ status: 200, json: jobReplyJson(ctx, this.find(ctx)) }));
    d.data('jobs.delete', 'DELETE', '/fine_tuning/jobs/:jobId', ['dated'], (ctx) => this.remove(ctx));
    d.data('jobs.cancel', 'POST', '/fine_tuning/jobs/:jobId/cancel', both, (ctx) => this.cancel(ctx));
    d.data('jobs.pause', 'POST', '/fine_tuning/jobs/:jobId/pause', both, (ctx) => this.pause(ctx));
    d.data('jobs.resume', 'POST', '/fine_tuning/jobs/:jobId/resume', both, (ctx) => this.resume(ctx));
    d.data('jobs.events', 'GET', '/fine_tuning/jobs/:jobId/events', both, (ctx) => this.events(ctx));
    d.data('jobs.checkpoints', 'GET', '/fine_tuning/jobs/:jobId/checkpoints', both, (ctx) => this.checkpoints(ctx));
    // The specs say GET; the seed's v1 curl examples use POST, so v1 serves both.
    d.data('jobs.events', 'POST', '/fine_tuning/jobs/:jobId/events', ['v1'], (ctx) => this.events(ctx));
    d.data('jobs.checkpoints', 'POST', '/fine_tuning/jobs/:jobId/checkpoints', ['v1'], (ctx) => this.checkpoints(ctx));
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
    if (!job) throw notFound();
    this.refresh(job, now);
    if (TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' is already ${job.status}.`);
    this.enter(job, 'failed', now);
    job.finishedAt = now;
    job.error = { code, message, param: null };
    // The recordings: a failed (or paused) job lists a results file with the steps it trained.
    job.resultFiles = [this.resultsFile(job, now).id];
    job.events.push({ id: newEventId(), createdAt: now, level: 'error', message, type: 'message' });
    this.state.markDirty();
    return job;
  }

  /** Preempts a running Developer-tier job (control API): paused by the system, resumed by it `resumeAfterSeconds` later. */
  preempt(jobId: string, now: number, resumeAfterSeconds = DEFAULT_PREEMPTION_SECONDS): JobRecord {
    const job = this.state.jobs.get(jobId);
    if (!job) throw notFound();
    this.refresh(job, now);
    if (job.trainingType !== 'developerTier' || job.status !== 'running') {
      throw unexpectedEntityState(`Job '${job.id}' cannot be preempted: only a running Developer-tier job can be (status: ${job.status}, training type: ${job.trainingType ?? 'none'}).`);
    }
    this.enter(job, 'paused', now);
    job.outcomes = { ...job.outcomes, systemPause: { reason: 'preemption', at: now, resumeAt: now + resumeAfterSeconds * 1000 } };
    this.event(job, now, preemptionMessage(job.stepsDone), 'message', undefined, 'warn');
    this.state.markDirty();
    return job;
  }

  /** Advances a job to emulated `now`. */
  refresh(job: JobRecord, now: number): void {
    const before = `${job.status}/${job.stepsDone}`;
    for (;;) {
      if (job.status === 'pending' || job.status === 'resuming') {
        const wait = job.status === 'pending' ? this.timings.jobValidationSeconds + this.timings.jobQueueSeconds : this.timings.resumeSeconds;
        const t = job.phaseStartedAt + wait * 1000;
        if (now < t) break;
        const resumed = job.status === 'resuming';
        this.enter(job, 'running', t);
        if (job.trainingStartedAt === null) job.trainingStartedAt = t;
        this.event(job, t, resumed ? 'Job resumed.' : 'Job started.');
      } else if (job.status === 'running') {
        this.train(job, now);
        break;
      } else if (job.status === 'pausing') {
        // A pause asked before the first step: the job trains that step, then pauses there (pauseFirstStepAt).
        const firstStepAt = job.pauseFirstStepAt;
        if (firstStepAt !== undefined && job.stepsDone === 0) {
          if (now < firstStepAt) break;
          this.trainStep(job, 1, firstStepAt);
          if (job.status !== 'pausing') {
            delete job.pauseFirstStepAt; // a one-step job succeeded, or the RFT cap paused it at that step
            continue;
          }
        }
        const t = Math.max(job.phaseStartedAt + this.timings.pauseSeconds * 1000, firstStepAt ?? 0);
        if (now < t) break;
        delete job.pauseFirstStepAt;
        this.enter(job, 'paused', t);
        this.addCheckpoint(job, job.stepsDone, t, true);
        job.resultFiles = [this.resultsFile(job, t).id];
        this.event(job, t, `Job paused at step ${job.stepsDone}; a deployable checkpoint was created.`);
        break;
      } else if (systemResumeAt(job) !== null && now >= systemResumeAt(job)!) {
        const t = systemResumeAt(job)!;
        delete job.outcomes!.systemPause;
        this.enter(job, 'resuming', t);
        this.event(job, t, SYSTEM_RESUME_MESSAGE);
      } else {
        break;
      }
    }
    if (`${job.status}/${job.stepsDone}` !== before) this.state.markDirty();
  }

  private find(ctx: RequestContext): JobRecord {
    const id = ctx.params.jobId!;
    const job = this.state.jobs.get(id);
    if (!job || job.account !== ctx.account!.name) throw notFound();
    this.refresh(job, ctx.now);
    return job;
  }

  private async create(ctx: RequestContext): Promise<Reply> {
    const account = ctx.account!;
    const methodDefined = ctx.family === 'v1' || datedCreateDefinesMethod(ctx.query.get('api-version') ?? '');
    const request = parseCreate(await ctx.json(), ctx.family!, fullMethodShape(ctx), methodDefined);
    const base = this.resolveBase(account, request.model, ctx.now);
    const trainingType = resolveTrainingType(base.model, account, request.trainingType);
    if (!base.model.methods.includes(request.method)) {
      throw invalidPayload(`The base model '${base.model.id}' does not support ${request.method} fine-tuning.`, 'method');
    }
    const training = this.files.requireTrainingFile(account, request.trainingFile, 'training_file', ctx.now);
    const validation = request.validationFile === undefined ? undefined : this.files.requireTrainingFile(account, request.validationFile, 'validation_file', ctx.now);
    for (const [param, file] of [['training_file', training], ['validation_file', validation]] as const) {
      if (file && file.validation.format !== METHOD_FORMATS[request.method]) {
        throw invalidPayload(`The ${param} '${file.file.id}' holds ${file.validation.format ?? 'unknown'}-format examples; method '${request.method}' needs ${METHOD_FORMATS[request.method]} format.`, param);
      }
    }
    const seed = request.seed ?? Math.floor(Math.random() * 2_147_483_647);
    const { resolved: hyper, auto } = resolveHyperparameters(request.hyperparameters, training.validation.examples);
    // Recorded (2025-11-15-preview, azure-ai-projects test_create_job[rft-*]): a create without compute_multiplier
    // is answered with compute_multiplier 1, on the pending job already. "auto" is taken to mean the same.
    if (request.method === 'reinforcement' && (hyper.compute_multiplier === undefined || hyper.compute_multiplier === 'auto')) hyper.compute_multiplier = 1;
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
      model: base.echo,
      baseModel: base.model.id,
      plannedModelName: `${base.versionedId}.ft-${id.slice('ftjob-'.length)}${request.suffix ? `-${request.suffix}` : ''}`,
      fineTunedModel: null,
      finishedAt: null,
      estimatedFinish: ctx.now + ESTIMATED_FINISH_AFTER_MS[request.method],
      trainingFile: training.file.id,
      validationFile: validation?.file.id ?? null,
      resultFiles: [],
      trainedTokens: null,
      seed,
      hyperparameters: hyper,
      autoHyperparameters: auto,
      method: request.method,
      methodSettings: request.methodSettings,
      methodSent: request.methodSent,
      trainingType: trainingType?.echo ?? null,
      suffix: request.suffix ?? null,
      metadata: request.metadata ?? null,
      error: null,
      plan,
      trainingStartedAt: null,
      phaseStartedAt: ctx.now,
      stepsAtPhaseStart: 0,
      stepsDone: 0,
      events: [],
      checkpoints: [],
      knowledge: { ...base.parent?.knowledge, ...training.validation.references, ...validation?.validation.references },
    };
    this.state.jobs.set(id, job);
    this.event(job, ctx.now, 'Job enqueued. Waiting for jobs ahead to complete.');
    this.state.markDirty();
    return createdReply(ctx, jobReplyJson(ctx, job), `/fine_tuning/${id}`);
  }

  /**
   * The base of a new job: a base model by name or versioned name, or (continuous fine-tuning) a fine-tuned model
   * or checkpoint id of this account. `...:ckpt-step-N` names are not model ids the service takes.
   */
  private resolveBase(account: Account, model: string, now: number): { model: ServiceModel; versionedId: string; echo: string; parent?: ModelRecord } {
    const parent = this.findModel(account.name, model, now);
    if (parent) {
      const base = resolveBaseModel(parent.baseModel);
      if (base) return { ...base, echo: model, parent };
    }
    const base = resolveBaseModel(model);
    if (!base) throw invalidPayload('The specified base model does not support fine-tuning.', 'model');
    return { ...base, echo: base.versionedId };
  }

  private list(ctx: RequestContext): Reply {
    const account = ctx.account!;
    // Neither family documents a metadata filter on this list (only `after` and `limit`): it is not applied.
    const jobs = [...this.state.jobs.values()].filter((j) => j.account === account.name).sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id));
    for (const job of jobs) this.refresh(job, ctx.now);
    const { data, hasMore } = pageAfter(jobs, ctx.query, 20, 100);
    return { status: 200, json: listJson(ctx.family!, 'jobs', data.map((j) => jobReplyJson(ctx, j) as { id: string }), hasMore) };
  }

  /**
   * Dated only; deletes the job and what it trained. The recordings: 204 even for an id that does not exist; a later
   * GET is 404. The seed (fine-tuning REST guide, clean-up): "You can't delete a customized model if it has an existing
   * deployment", so a job whose model or checkpoint is deployed (in any account, by `source`) is refused; no recording
   * shows that refusal, so its status and code (400 unexpectedEntityState, as for the other state errors) are the
   * emulator's. Afterwards its model and checkpoints neither deploy nor fine-tune; copies in other accounts stay ("Deletion
   * of the model checkpoint in the source region doesn't cause the model to be deleted in the destination region").
   */
  private remove(ctx: RequestContext): Reply {
    const job = this.state.jobs.get(ctx.params.jobId!);
    if (!job || job.account !== ctx.account!.name) return { status: 204 };
    this.refresh(job, ctx.now);
    if (!TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' is ${job.status}; only a succeeded, failed or cancelled job can be deleted. Cancel it first.`);
    const deployed = [...this.state.deployments.values()].find((d) => d.served?.jobId === job.id && d.served.account === job.account && d.state !== 'Deleting');
    if (deployed) {
      throw unexpectedEntityState(`The model '${deployed.model.name}' of job '${job.id}' is deployed as '${deployed.name}' (account '${deployed.account}'); delete the deployment before deleting the model.`);
    }
    // Copies finished by now are the destination's own before the source goes.
    this.settleCopies(ctx.now);
    this.state.jobs.delete(job.id);
    this.state.removeModelsOfJob(job.account, job.id);
    this.state.markDirty();
    return { status: 204 };
  }

  private cancel(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (TERMINAL.has(job.status)) throw unexpectedEntityState(`Job '${job.id}' has already ${job.status === 'cancelled' ? 'been cancelled' : job.status}; it cannot be cancelled.`);
    this.enter(job, 'cancelled', ctx.now);
    job.finishedAt = ctx.now;
    // No event: the recorded events of a job cancelled a second earlier are its enqueued event only (2025-11-15-preview,
    // azure-sdk-assets python azure-ai-projects test_finetuning_list_events).
    this.state.markDirty();
    return { status: 200, json: jobReplyJson(ctx, job) };
  }

  /**
   * Recorded (2025-11-15-preview, azure-ai-projects test_finetuning_pause_job): Azure answers `pausing` for a running
   * job whose auto hyperparameters are still -1, i.e. one that has trained no step yet; a job paused that early keeps a
   * pause checkpoint at step 1 (test_finetuning_list_checkpoints). So a running job is paused at any step; before its
   * first step it trains that step and pauses there.
   */
  private pause(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (job.status !== 'running') {
      throw unexpectedEntityState(`Job '${job.id}' cannot be paused: pause is allowed only for a running job (status: ${job.status}).`);
    }
    const firstStepAt = job.stepsDone === 0 ? job.phaseStartedAt + (1 - job.stepsAtPhaseStart) * job.plan.stepMs : undefined;
    this.enter(job, 'pausing', ctx.now);
    if (firstStepAt !== undefined) job.pauseFirstStepAt = firstStepAt;
    this.event(job, ctx.now, firstStepAt === undefined ? `Pausing job at step ${job.stepsDone}.` : 'Pausing job after its first step.');
    this.state.markDirty();
    return { status: 200, json: jobReplyJson(ctx, job) };
  }

  private resume(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    if (job.status !== 'paused') throw unexpectedEntityState(`Job '${job.id}' cannot be resumed: it is ${job.status}, not paused.`);
    if (job.outcomes) delete job.outcomes.systemPause;
    this.enter(job, 'resuming', ctx.now);
    this.event(job, ctx.now, 'Resuming job.');
    this.state.markDirty();
    return { status: 200, json: jobReplyJson(ctx, job) };
  }

  private events(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    const newestFirst = [...job.events].reverse();
    const { data, hasMore } = pageAfter(newestFirst, ctx.query, 20, 1000);
    return { status: 200, json: listJson(ctx.family!, 'events', data.map((e) => eventJson(e, ctx.family!) as { id: string }), hasMore) };
  }

  private checkpoints(ctx: RequestContext): Reply {
    const job = this.find(ctx);
    const newestFirst = [...job.checkpoints].reverse();
    const { data, hasMore } = pageAfter(newestFirst, ctx.query, 10, 100);
    return { status: 200, json: listJson(ctx.family!, 'checkpoints', data.map((c) => checkpointJson(c) as { id: string }), hasMore) };
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
    // The copy keeps the checkpoint's name (its id) in the destination (seed: fine-tuning REST guide, copy section).
    const copy: CopyRecord = this.state.copies.get(key) ?? { jobId: job.id, checkpointId: checkpoint.id, checkpointedModelName: checkpoint.id, destinations: [] };
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
    if (!copy) throw notFound();
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
        this.state.addModel({ ...sourceModel, account: d.account, name: copy.checkpointId });
        this.state.markDirty();
      }
    }
  }

  private train(job: JobRecord, now: number): void {
    const plan = job.plan;
    const target = Math.min(plan.totalSteps, job.stepsAtPhaseStart + Math.floor((now - job.phaseStartedAt) / plan.stepMs));
    for (let step = job.stepsDone + 1; step <= target; step++) {
      this.trainStep(job, step, job.phaseStartedAt + (step - job.stepsAtPhaseStart) * plan.stepMs);
      if (job.status !== 'running') return;
    }
  }

  /** One training step done at `t`: its metrics event, an epoch's checkpoint, success at the last, the RFT cap. */
  private trainStep(job: JobRecord, step: number, t: number): void {
    const plan = job.plan;
    const metrics = metricsAt(plan, step, isEpochEnd(plan, step));
    job.stepsDone = step;
    if (step === 1) {
      // Recorded: created_at + 900 s while the hyperparameters are -1, a running job's included (2025-11-15-preview
      // test_finetuning_pause_job), then later (a paused job at created_at + 3,427 s; succeeded jobs at + 1,514 s and
      // + 1,680 s, 2025-03-01-preview). Azure's formula is unknown: the emulator's is the end of an uninterrupted
      // training, shown from the first step on, when the hyperparameters settle (shapes.ts).
      job.estimatedFinish = (job.trainingStartedAt ?? t - plan.stepMs) + plan.totalSteps * plan.stepMs;
    }
    // Recorded metrics events: the step's metrics only, no total step count.
    this.event(job, t, `Step ${step}: training loss=${metrics.train_loss}`, 'metrics', presentMetrics(metrics));
    if (step === plan.totalSteps) this.succeed(job, t);
    else if (isEpochEnd(plan, step)) this.addCheckpoint(job, step, t, false);
    if (step === billingCapStep(job)) this.pauseAtBillingCap(job, t);
  }

  /** Azure's RFT cap: the job pauses itself with a deployable checkpoint and waits for a resume. */
  private pauseAtBillingCap(job: JobRecord, t: number): void {
    this.enter(job, 'paused', t);
    job.outcomes = { ...job.outcomes, systemPause: { reason: 'billingCap', at: t, resumeAt: null } };
    this.addCheckpoint(job, job.stepsDone, t, true);
    job.resultFiles = [this.resultsFile(job, t).id];
    this.event(job, t, billingCapMessage(job.stepsDone), 'message', undefined, 'warn');
  }

  /**
   * The post-training safety evaluation found the model not deployable: the job fails with the documented message,
   * nothing it trained stays deployable, and no training is billed ("you won't be charged for the training run").
   */
  private failSafetyEvaluation(job: JobRecord, t: number, categories: string[]): void {
    const message = notDeployableMessage(categories);
    this.event(job, t, 'Postprocessing started.');
    this.enter(job, 'failed', t);
    job.finishedAt = t;
    job.error = { code: NOT_DEPLOYABLE_CODE, message, param: null };
    this.state.removeModel(job.account, ...job.checkpoints.map((c) => c.id));
    job.checkpoints = [];
    job.resultFiles = [this.resultsFile(job, t).id];
    this.event(job, t, message, 'message', undefined, 'error');
  }

  private succeed(job: JobRecord, t: number): void {
    const safetyFailure = this.outcomes.safetyFailure(job);
    if (safetyFailure) {
      this.failSafetyEvaluation(job, t, safetyFailure);
      return;
    }
    const plan = job.plan;
    job.fineTunedModel = job.plannedModelName;
    this.addCheckpoint(job, plan.totalSteps, t, false);
    this.enter(job, 'succeeded', t);
    job.finishedAt = t;
    job.trainedTokens = plan.tokensPerEpoch * plan.epochs;
    const results = this.resultsFile(job, t);
    job.resultFiles = [results.id];
    this.event(job, t, 'Job succeeded.');
    this.event(job, t, 'Postprocessing started.');
    this.event(job, t, `Completed results file: ${results.id}`);
    this.event(job, t, billedTrainingMessage(job));
  }

  private resultsFile(job: JobRecord, t: number): FileRecord {
    return this.files.addResultFile(job.account, 'results.csv', resultsCsv(job.plan, job.stepsDone), t);
  }

  /**
   * One checkpoint per epoch (and one when a job pauses). The recordings: the final one's
   * `fine_tuned_model_checkpoint` is the fine-tuned model itself, earlier ones `<model>:ckpt-step-N`. A checkpoint is
   * deployable and fine-tunable by its `ftchkpt-` id; the newest three epoch checkpoints stay, pause ones besides them.
   */
  private addCheckpoint(job: JobRecord, step: number, t: number, fromPause: boolean): void {
    if (job.checkpoints[job.checkpoints.length - 1]?.step === step) return;
    const final = job.fineTunedModel !== null && step === job.plan.totalSteps;
    const checkpoint: CheckpointRecord = {
      id: newCheckpointId(),
      jobId: job.id,
      account: job.account,
      createdAt: t,
      step,
      modelName: final ? job.plannedModelName : `${job.plannedModelName}:ckpt-step-${step}`,
      metrics: metricsAt(job.plan, step, true),
    };
    if (fromPause) checkpoint.fromPause = true;
    job.checkpoints.push(checkpoint);
    this.state.addModel(this.modelAt(job, step, checkpoint.id), ...(final ? [job.plannedModelName] : []));
    const epochCheckpoints = job.checkpoints.filter((c) => !c.fromPause);
    for (const dropped of epochCheckpoints.slice(0, Math.max(0, epochCheckpoints.length - KEPT_CHECKPOINTS))) {
      job.checkpoints.splice(job.checkpoints.indexOf(dropped), 1);
      this.state.removeModel(job.account, dropped.id);
    }
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
  }

  private event(job: JobRecord, t: number, message: string, type: JobEventRecord['type'] = 'message', data?: Record<string, unknown>, level: JobEventRecord['level'] = 'info'): void {
    const event: JobEventRecord = { id: newEventId(), createdAt: t, level, message, type };
    if (data) event.data = data;
    job.events.push(event);
  }
}

function requireCopyHeader(ctx: RequestContext): void {
  if (ctx.req.headers[COPY_HEADER] !== 'preview') {
    throw invalidPayload(`Checkpoint copy is a preview feature: send the header '${COPY_HEADER}: preview'.`);
  }
}

/** The copy API's path parameter is `fine_tuning_checkpoint_id` (v1 spec): a checkpoint id, not a model name. */
function findCheckpoint(job: JobRecord, id: string): CheckpointRecord {
  const checkpoint = job.checkpoints.find((c) => c.id === id);
  if (!checkpoint) throw notFound();
  return checkpoint;
}

/** The tier a job trains on: as requested (dated family only), or Standard where the region has it. */
function resolveTrainingType(model: ServiceModel, account: Account, requested: string | undefined): { tier: ServiceTrainingType; echo: string } | undefined {
  const available = trainingTypesAt(model, account.region);
  if (requested === undefined) {
    // Azure answers a job without trainingType as if the model could not be fine-tuned at all when Standard
    // training is not offered in the region.
    if (!available.includes('Standard')) throw invalidPayload('The specified base model does not support fine-tuning.', 'model');
    return undefined;
  }
  const type = TRAINING_TYPES[requested.toLowerCase()];
  if (!type) throw invalidPayload(`'${requested}' is not a training type. Use Standard, GlobalStandard or developerTier.`, 'trainingType');
  if (!available.includes(type.tier)) {
    throw invalidPayload(`The base model '${model.id}' does not support ${requested} training in region '${account.region}'.`, 'trainingType');
  }
  return type;
}

interface CreateRequest {
  model: string;
  trainingFile: string;
  validationFile?: string;
  seed?: number;
  suffix?: string;
  method: JobRecord['method'];
  /** `method.<type>` settings other than hyperparameters (the RFT grader), echoed on v1. */
  methodSettings: Record<string, unknown>;
  /** Top-level hyperparameters overlaid with the method's own; values as given ("auto" allowed on v1 only). */
  hyperparameters: Record<string, unknown>;
  methodSent: boolean;
  trainingType?: string;
  metadata?: Record<string, string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether this request's api-version takes and echoes `method.<type>` whole on the dated family (see service.ts). */
function fullMethodShape(ctx: RequestContext): boolean {
  return ctx.family === 'dated' && DATED_FULL_METHOD_API_VERSIONS.has(ctx.query.get('api-version') ?? '');
}

function jobReplyJson(ctx: RequestContext, job: JobRecord): Record<string, unknown> {
  return jobJson(job, ctx.family!, fullMethodShape(ctx));
}

/**
 * Reads a create body as its family's spec defines it. Fields the family does not define are dropped, not refused:
 * the recorded 2025-04-01-preview create sent `method.supervised.hyperparameters` (not in `FineTuningJobCreation`)
 * and got 201 with `method: {type}` back. Dated (`FineTuningJobCreation` + the seed's `trainingType` and
 * `prompt_loss_weight`): top-level `hyperparameters` (integers/numbers), `method.type` supervised|dpo with
 * `method.dpo.hyperparameters`; no `metadata`, no `reinforcement`. v1 (`OpenAI.CreateFineTuningJobRequest`):
 * `method.<type>.hyperparameters` ("auto" or a number), reinforcement with a grader, `metadata`; no `trainingType`.
 * Dated with `fullMethod` (2025-11-15-preview, recorded): `method` read as v1 reads it, numbers only, plus `trainingType`.
 * Dated before 2025-01-01-preview (`methodDefined` false): its spec has no `method`, so a sent one is dropped and the
 * job trains supervised. A defined field of the wrong type or out of range is refused with 400 invalidPayload naming it.
 */
export function parseCreate(body: Json, family: 'dated' | 'v1', fullMethod = false, methodDefined = true): CreateRequest {
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalidPayload("'model' is required.", 'model');
  const trainingFile = body.training_file;
  if (typeof trainingFile !== 'string' || trainingFile.length === 0) throw invalidPayload("'training_file' is required and must be a file id.", 'training_file');
  const method = methodDefined ? body.method : undefined;
  const request: CreateRequest = { model, trainingFile, method: 'supervised', methodSettings: {}, hyperparameters: {}, methodSent: method !== undefined && method !== null };
  if (body.validation_file !== undefined && body.validation_file !== null) {
    if (typeof body.validation_file !== 'string') throw invalidPayload("'validation_file' must be a file id.", 'validation_file');
    request.validationFile = body.validation_file;
  }
  if (body.seed !== undefined && body.seed !== null) {
    const seed = body.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2_147_483_647) throw invalidPayload("'seed' must be an integer between 0 and 2147483647.", 'seed');
    request.seed = seed;
  }
  // v1: `suffix` has minLength 1 (an empty one is refused); the dated spec types it as a plain string.
  if (family === 'v1' && body.suffix === '') throw invalidPayload("'suffix' must not be empty.", 'suffix');
  if (body.suffix !== undefined && body.suffix !== null && body.suffix !== '') {
    if (typeof body.suffix !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(body.suffix)) {
      throw invalidPayload("'suffix' must be at most 40 characters of a-z, A-Z, 0-9, '-' and '_'.", 'suffix');
    }
    request.suffix = body.suffix;
  }
  const allowAuto = family === 'v1';
  const topLevel = pickHyperparameters(body.hyperparameters, 'hyperparameters', family === 'dated' ? ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'prompt_loss_weight'] : ['n_epochs', 'batch_size', 'learning_rate_multiplier'], allowAuto);
  let methodHyper: Json = {};
  let ignoreTopLevel = false;
  if (method !== undefined && method !== null) {
    if (!isObject(method)) throw invalidPayload("'method' must be an object.", 'method');
    const typeOnly = family === 'dated' && !fullMethod;
    const types = typeOnly ? ['supervised', 'dpo'] : ['supervised', 'dpo', 'reinforcement'];
    if (typeof method.type !== 'string' || !types.includes(method.type)) throw invalidPayload(`'method.type' must be one of ${types.join(', ')}.`, 'method.type');
    request.method = method.type as JobRecord['method'];
    // Azure's RFT guide: "If a method is provided, the top level hyperparameters field will be ignored." So where the
    // method has hyperparameters of its own (all but a supervised method on a dated version that defines it as {type}
    // only), top-level ones are type-checked above and then ignored: the job trains with the method's, or defaults.
    if (!(typeOnly && request.method === 'supervised')) ignoreTopLevel = true;
    if (typeOnly) {
      if (request.method === 'dpo') methodHyper = pickHyperparameters((method.dpo as Json | undefined)?.hyperparameters, 'method.dpo.hyperparameters', ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'beta', 'l2_multiplier'], false);
    } else {
      const settings = method[request.method];
      if (settings !== undefined && !isObject(settings)) throw invalidPayload(`'method.${request.method}' must be an object.`, `method.${request.method}`);
      // The dated family's DPO also defines `l2_multiplier` (echoed by 2025-11-15-preview); v1's does not.
      const dpo = family === 'dated' ? ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'beta', 'l2_multiplier'] : ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'beta'];
      const names = { supervised: ['n_epochs', 'batch_size', 'learning_rate_multiplier'], dpo, reinforcement: ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'reasoning_effort', 'compute_multiplier', 'eval_interval', 'eval_samples'] }[request.method];
      methodHyper = pickHyperparameters(settings?.hyperparameters, `method.${request.method}.hyperparameters`, names, allowAuto);
      if (request.method === 'reinforcement') {
        const grader = checkGrader(settings?.grader, 'method.reinforcement.grader');
        request.methodSettings = { grader, ...(settings?.response_format !== undefined ? { response_format: settings.response_format } : {}) };
      }
    }
  }
  request.hyperparameters = ignoreTopLevel ? methodHyper : { ...topLevel, ...methodHyper };
  if (family === 'dated' && body.trainingType !== undefined && body.trainingType !== null) {
    if (typeof body.trainingType !== 'string') throw invalidPayload("'trainingType' must be a string.", 'trainingType');
    request.trainingType = body.trainingType;
  }
  if (family === 'v1' && body.metadata !== undefined && body.metadata !== null) request.metadata = resolveMetadata(body.metadata);
  checkIntegrations(body.integrations, family);
  return request;
}

/**
 * `integrations` is defined by both families (dated: `WandBIntegrationRequestWrapper[]`, `type` "wandb" and
 * `wandb.project` required; v1: an array of objects), so a malformed one is refused (null counts as absent, as for
 * the other optional fields). A valid one is not
 * emulated: nothing is sent to Weights & Biases, and the job does not echo it.
 */
function checkIntegrations(integrations: unknown, family: 'dated' | 'v1'): void {
  if (integrations === undefined || integrations === null) return;
  if (!Array.isArray(integrations)) throw invalidPayload("'integrations' must be an array.", 'integrations');
  integrations.forEach((item: unknown, i) => {
    const path = `integrations.${i}`;
    if (!isObject(item)) throw invalidPayload(`'${path}' must be an object.`, path);
    if (family === 'v1') return;
    if (item.type !== 'wandb') throw invalidPayload(`'${path}.type' must be 'wandb'.`, `${path}.type`);
    const wandb = item.wandb;
    if (!isObject(wandb) || typeof wandb.project !== 'string' || wandb.project.length === 0) {
      throw invalidPayload(`'${path}.wandb.project' is required and must be a non-empty string.`, `${path}.wandb.project`);
    }
  });
}

/** The hyperparameters both specs type as integers (`format: int32`); the others are numbers. */
const INTEGER_HYPERPARAMETERS: ReadonlySet<string> = new Set(['n_epochs', 'batch_size', 'eval_interval', 'eval_samples']);

/**
 * The RFT-only numbers' ranges. The v1 spec leaves them open ("auto" or a number); Azure's RFT guide gives each a
 * range ("Value": eval_samples 1-10, eval_interval 1-25, compute_multiplier 0.5-3.0). No recording shows a value
 * outside one accepted or refused: the emulator takes the stricter reading and refuses it.
 */
const REINFORCEMENT_RANGES: Readonly<Record<string, readonly [number, number]>> = { eval_samples: [1, 10], eval_interval: [1, 25], compute_multiplier: [0.5, 3] };

/** The defined hyperparameters of one object (others dropped), type-checked: a number, or "auto" where allowed. */
function pickHyperparameters(raw: unknown, path: string, names: string[], allowAuto: boolean): Json {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw invalidPayload(`'${path}' must be an object.`, path);
  const picked: Json = {};
  for (const name of names) {
    const v = raw[name];
    if (v === undefined || v === null) continue;
    if (name === 'reasoning_effort') {
      if (typeof v !== 'string' || !['default', 'low', 'medium', 'high'].includes(v)) throw invalidPayload(`'${path}.${name}' must be default, low, medium or high.`, `${path}.${name}`);
    } else if (INTEGER_HYPERPARAMETERS.has(name) && typeof v === 'number' && !Number.isInteger(v)) {
      throw invalidPayload(`'${path}.${name}' must be ${allowAuto ? '"auto" or ' : ''}an integer.`, `${path}.${name}`);
    } else if (!(typeof v === 'number' && Number.isFinite(v)) && !(allowAuto && v === 'auto')) {
      throw invalidPayload(`'${path}.${name}' must be ${allowAuto ? '"auto" or ' : ''}a number.`, `${path}.${name}`);
    }
    const range = REINFORCEMENT_RANGES[name];
    if (range && typeof v === 'number' && (v < range[0] || v > range[1])) {
      throw invalidPayload(`'${path}.${name}' must be ${allowAuto ? '"auto" or ' : ''}${INTEGER_HYPERPARAMETERS.has(name) ? 'an integer' : 'a number'} from ${range[0]} to ${range[1]}.`, `${path}.${name}`);
    }
    picked[name] = v;
  }
  return picked;
}

function resolveMetadata(metadata: unknown): Record<string, string> {
  if (!isObject(metadata)) throw invalidPayload("'metadata' must be an object of string values.", 'metadata');
  const entries = Object.entries(metadata);
  if (entries.length > 16) throw invalidPayload("'metadata' can have at most 16 keys.", 'metadata');
  for (const [k, v] of entries) {
    if (k.length > 64 || typeof v !== 'string' || v.length > 512) throw invalidPayload(`'metadata.${k}' must be a string of at most 512 characters, with a key of at most 64.`, 'metadata');
  }
  return metadata as Record<string, string>;
}

/** Resolves "auto" (or absent) values and range-checks the rest; `auto` lists what the service chose. */
function resolveHyperparameters(h: Json, examples: number): { resolved: JobRecord['hyperparameters']; auto: string[] } {
  const auto: string[] = [];
  const pick = (name: string, autoValue: number, ok: (n: number) => boolean, rule: string): number => {
    const v = h[name];
    if (v === undefined || v === 'auto') {
      auto.push(name);
      return autoValue;
    }
    if (typeof v !== 'number' || !ok(v)) throw invalidPayload(`'hyperparameters.${name}' must be ${rule}.`, `hyperparameters.${name}`);
    return v;
  };
  const resolved: JobRecord['hyperparameters'] = {
    ...h,
    batch_size: pick('batch_size', autoBatchSize(examples), (n) => Number.isInteger(n) && n >= 1 && n <= 256, 'an integer from 1 to 256'),
    learning_rate_multiplier: pick('learning_rate_multiplier', AUTO_LEARNING_RATE_MULTIPLIER, (n) => n > 0 && n <= 10, 'a number above 0 and at most 10'),
    n_epochs: pick('n_epochs', autoEpochs(examples), (n) => Number.isInteger(n) && n >= 1 && n <= 50, 'an integer from 1 to 50'),
  };
  const w = h.prompt_loss_weight;
  if (w !== undefined && (typeof w !== 'number' || w < 0 || w > 1)) {
    throw invalidPayload("'hyperparameters.prompt_loss_weight' must be a number from 0 to 1.", 'hyperparameters.prompt_loss_weight');
  }
  return { resolved, auto };
}
