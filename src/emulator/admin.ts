/**
 * Control and inspection: the clock, faults, the request log and a state dump, in-process (`EmulatorControl`)
 * and over HTTP under `/admin/...` on the data-plane port (no auth: the emulator listens on loopback).
 */
import type { EmulatedClock } from './clock';
import type { DeploymentService } from './deployments';
import type { ActiveFault, FaultInjector, FaultRule } from './faults';
import type { FileService } from './files';
import type { JobService } from './jobs';
import type { SafetyVerdict } from './outcomes';
import type { Dispatcher, ExchangeListener, RequestLogEntry } from './server';
import { ApiError } from './errors';
import { checkpointJson, fileJson, jobJson } from './shapes';
import type { EmulatorState } from './state';

export interface RequestLogFilter {
  /** Route name or glob, e.g. `jobs.create`, `arm.*`. */
  route?: string;
  method?: string;
  account?: string;
  status?: number;
}

export interface EmulatorControl {
  /** Emulated now. */
  now(): Date;
  clockScale(): number;
  setClockScale(scale: number): void;
  /** Moves emulated time forward; everything time-driven (files, jobs, deployments, copies) follows. */
  advanceClock(seconds: number): void;
  addFault(rule: FaultRule): ActiveFault;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): ActiveFault[];
  /** Fails a running (or pending/queued/paused) job with `error: {code, message}`. */
  failJob(jobId: string, error?: { code?: string; message?: string }): void;
  /**
   * The verdict the post-training safety evaluation reaches for one unfinished job, or for every job of an account
   * that has none of its own (outcomes.ts). Not deployable: the job fails when training completes, naming `categories`.
   */
  setSafetyVerdict(target: { jobId: string } | { account: string }, verdict: SafetyVerdict): void;
  /**
   * Makes a deployment's provisioning end Failed: the running create or update of `deployment` (or of any deployment
   * of `account`), or else the next one to start (once). The operation status turns `Failed` with `error` (default
   * `InternalServerError`), the deployment's provisioningState `Failed`; a failed create serves nothing.
   */
  failDeployment(target: { account: string; deployment?: string }, error?: { code?: string; message?: string }): void;
  /** Preempts a running Developer-tier job: `paused` by the system, resumed by it `resumeAfterSeconds` (default 1800) later. */
  preemptJob(jobId: string, options?: { resumeAfterSeconds?: number }): void;
  requests(filter?: RequestLogFilter): RequestLogEntry[];
  clearRequests(): void;
  /** Files (without content), jobs, deployments, operations and copies, advanced to emulated now. */
  dumpState(): StateDump;
  /** Calls `listener` with every data-plane and ARM exchange (conformance tests); returns the unsubscribe function. */
  tapExchanges(listener: ExchangeListener): () => void;
  /**
   * Stores `content` in the emulator's blob store and returns its https URL (served with the emulator's certificate):
   * what a file import's `content_url` can point at, as a blob SAS URL would on Azure.
   */
  putBlob(name: string, content: string | Buffer): string;
}

export interface StateDump {
  now: string;
  clockScale: number;
  accounts: { name: string; region: string; armId: string }[];
  files: Record<string, unknown>[];
  jobs: Record<string, unknown>[];
  deployments: Record<string, unknown>[];
  operations: Record<string, unknown>[];
  copies: Record<string, unknown>[];
}

export interface ControlDeps {
  state: EmulatorState;
  clock: EmulatedClock;
  faults: FaultInjector;
  dispatcher: Dispatcher;
  files: FileService;
  jobs: JobService;
  deployments: DeploymentService;
  blobs: Map<string, Buffer>;
  blobBaseUrl: () => string;
}

export function createControl(deps: ControlDeps): EmulatorControl {
  const { state, clock, faults, dispatcher } = deps;
  return {
    now: () => new Date(clock.now()),
    clockScale: () => clock.currentScale,
    // Clock changes are state changes: a restart resumes from the persisted emulated time.
    setClockScale: (scale) => {
      clock.setScale(scale);
      state.markDirty();
    },
    advanceClock: (seconds) => {
      clock.advance(seconds);
      state.markDirty();
    },
    addFault: (rule) => faults.add(rule),
    removeFault: (id) => faults.remove(id),
    clearFaults: () => faults.clear(),
    failJob: (jobId, error = {}) => {
      deps.jobs.fail(jobId, clock.now(), error.code ?? 'internal_error', error.message ?? 'The fine-tuning job failed due to an internal error.');
    },
    setSafetyVerdict: (target, verdict) => {
      if ('account' in target) {
        if (!state.accounts.has(target.account.toLowerCase())) throw new ApiError(404, 'notFound', `No account '${target.account}'.`);
        deps.jobs.outcomes.setSafetyVerdict({ account: state.accounts.get(target.account.toLowerCase())!.name }, verdict);
        return;
      }
      const job = state.jobs.get(target.jobId);
      if (!job) throw new ApiError(404, 'notFound', `No job '${target.jobId}'.`);
      deps.jobs.refresh(job, clock.now());
      deps.jobs.outcomes.setSafetyVerdict({ job }, verdict);
      state.markDirty();
    },
    failDeployment: (target, error = {}) => {
      const account = state.accounts.get(target.account.toLowerCase());
      if (!account) throw new ApiError(404, 'notFound', `No account '${target.account}'.`);
      deps.deployments.refresh(account.name, clock.now());
      deps.deployments.failDeployment(account, target.deployment, { code: error.code ?? 'InternalServerError', message: error.message ?? 'The deployment failed to provision.' });
    },
    preemptJob: (jobId, options = {}) => {
      deps.jobs.preempt(jobId, clock.now(), options.resumeAfterSeconds);
    },
    tapExchanges: (listener) => dispatcher.tapExchanges(listener),
    putBlob: (name, content) => {
      deps.blobs.set(name, Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'));
      return `${deps.blobBaseUrl()}/${encodeURIComponent(name)}`;
    },
    faults: () => faults.list(),
    requests: (filter = {}) => {
      const route = filter.route === undefined ? undefined : new RegExp(`^${filter.route.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      return dispatcher
        .requestLog()
        .filter(
          (e) =>
            (!route || route.test(e.route)) &&
            (!filter.method || e.method === filter.method.toUpperCase()) &&
            (!filter.account || e.account === filter.account) &&
            (filter.status === undefined || e.status === filter.status),
        );
    },
    clearRequests: () => dispatcher.clearRequestLog(),
    dumpState: () => {
      const now = clock.now();
      for (const account of state.accounts.values()) deps.deployments.refresh(account.name, now);
      for (const job of state.jobs.values()) deps.jobs.refresh(job, now);
      deps.files.expire(now);
      return {
        now: new Date(now).toISOString(),
        clockScale: clock.currentScale,
        accounts: [...state.accounts.values()].map((a) => ({ name: a.name, region: a.region, armId: a.armId })),
        files: [...state.files.values()].map((f) => ({ account: f.account, ...fileJson(f, deps.files.status(f, now)) })),
        jobs: [...state.jobs.values()].map((j) => ({
          account: j.account,
          ...jobJson(j, 'v1'),
          // The tier the job trains on (as Azure echoes it on the dated family), null when none was requested.
          trainingType: j.trainingType,
          steps_done: j.stepsDone,
          total_steps: j.plan.totalSteps,
          checkpoints: j.checkpoints.map(checkpointJson),
        })),
        deployments: [...state.deployments.values()].map((d) => ({
          account: d.account,
          name: d.name,
          sku: d.sku,
          model: d.model,
          state: d.state,
          succeededAt: d.succeededAt === null ? null : new Date(d.succeededAt).toISOString(),
          skill: d.served?.skill ?? null,
        })),
        operations: [...state.operations.values()].map((o) => ({ id: o.id, account: o.account, deployment: o.deployment, kind: o.kind, status: o.status })),
        copies: [...state.copies.values()].map((c) => ({ ...c })),
      };
    },
  };
}

export function registerAdminRoutes(d: Dispatcher, control: EmulatorControl): void {
  const ok = (json: unknown): { status: number; json: unknown } => ({ status: 200, json });
  const clock = (): unknown => ({ now: control.now().toISOString(), scale: control.clockScale() });
  d.admin('admin.clock.get', 'GET', '/clock', () => ok(clock()));
  d.admin('admin.clock.set', 'PUT', '/clock', async (ctx) => {
    const { scale } = await ctx.json();
    if (typeof scale !== 'number' || scale < 0) throw new ApiError(400, 'invalidPayload', "'scale' must be a number >= 0.", 'scale');
    control.setClockScale(scale);
    return ok(clock());
  });
  d.admin('admin.clock.advance', 'POST', '/clock/advance', async (ctx) => {
    const { seconds } = await ctx.json();
    if (typeof seconds !== 'number' || seconds < 0) throw new ApiError(400, 'invalidPayload', "'seconds' must be a number >= 0.", 'seconds');
    control.advanceClock(seconds);
    return ok(clock());
  });
  d.admin('admin.faults.list', 'GET', '/faults', () => ok({ data: control.faults() }));
  d.admin('admin.faults.add', 'POST', '/faults', async (ctx) => {
    const body = await ctx.json();
    try {
      return { status: 201, json: control.addFault(body as FaultRule) };
    } catch (err) {
      throw new ApiError(400, 'invalidPayload', err instanceof Error ? err.message : String(err));
    }
  });
  d.admin('admin.faults.clear', 'DELETE', '/faults', () => {
    control.clearFaults();
    return { status: 204 };
  });
  d.admin('admin.faults.remove', 'DELETE', '/faults/:faultId', (ctx) => {
    if (!control.removeFault(ctx.params.faultId!)) throw new ApiError(404, 'notFound', `No fault '${ctx.params.faultId ?? ''}'.`);
    return { status: 204 };
  });
  d.admin('admin.jobs.fail', 'POST', '/jobs/:jobId/fail', async (ctx) => {
    const body = (await ctx.body()).length === 0 ? {} : await ctx.json();
    const error: { code?: string; message?: string } = {};
    if (typeof body.code === 'string') error.code = body.code;
    if (typeof body.message === 'string') error.message = body.message;
    control.failJob(ctx.params.jobId!, error);
    return { status: 204 };
  });
  d.admin('admin.jobs.safety', 'PUT', '/jobs/:jobId/safety', async (ctx) => {
    control.setSafetyVerdict({ jobId: ctx.params.jobId! }, safetyVerdict(await ctx.json()));
    return { status: 204 };
  });
  d.admin('admin.accounts.safety', 'PUT', '/accounts/:accountName/safety', async (ctx) => {
    control.setSafetyVerdict({ account: ctx.params.accountName! }, safetyVerdict(await ctx.json()));
    return { status: 204 };
  });
  d.admin('admin.deployments.fail', 'POST', '/accounts/:accountName/deployments/fail', async (ctx) => {
    const body = (await ctx.body()).length === 0 ? {} : await ctx.json();
    const error: { code?: string; message?: string } = {};
    if (typeof body.code === 'string') error.code = body.code;
    if (typeof body.message === 'string') error.message = body.message;
    if (body.deployment !== undefined && typeof body.deployment !== 'string') throw new ApiError(400, 'invalidPayload', "'deployment' must be a deployment name.", 'deployment');
    control.failDeployment({ account: ctx.params.accountName!, ...(typeof body.deployment === 'string' ? { deployment: body.deployment } : {}) }, error);
    return { status: 204 };
  });
  d.admin('admin.jobs.preempt', 'POST', '/jobs/:jobId/preempt', async (ctx) => {
    const body = (await ctx.body()).length === 0 ? {} : await ctx.json();
    const seconds = body.resumeAfterSeconds;
    if (seconds !== undefined && (typeof seconds !== 'number' || !(seconds >= 0))) throw new ApiError(400, 'invalidPayload', "'resumeAfterSeconds' must be a number >= 0.", 'resumeAfterSeconds');
    control.preemptJob(ctx.params.jobId!, seconds === undefined ? {} : { resumeAfterSeconds: seconds });
    return { status: 204 };
  });
  d.admin('admin.requests.list', 'GET', '/requests', (ctx) => {
    const q = ctx.query;
    const filter: RequestLogFilter = {};
    if (q.get('route')) filter.route = q.get('route')!;
    if (q.get('method')) filter.method = q.get('method')!;
    if (q.get('account')) filter.account = q.get('account')!;
    if (q.get('status')) filter.status = Number(q.get('status'));
    return ok({ data: control.requests(filter) });
  });
  d.admin('admin.requests.clear', 'DELETE', '/requests', () => {
    control.clearRequests();
    return { status: 204 };
  });
  d.admin('admin.state', 'GET', '/state', () => ok(control.dumpState()));
  d.admin('admin.blobs.put', 'PUT', '/blobs/:name', async (ctx) => ({ status: 201, json: { url: control.putBlob(ctx.params.name!, await ctx.body()) } }));
}

/** `{"deployable": boolean, "categories"?: string[]}` from a control request, or 400 naming the field. */
function safetyVerdict(body: Record<string, unknown>): SafetyVerdict {
  if (typeof body.deployable !== 'boolean') throw new ApiError(400, 'invalidPayload', "'deployable' must be true or false.", 'deployable');
  const categories = body.categories;
  if (categories !== undefined && (!Array.isArray(categories) || !categories.every((c) => typeof c === 'string' && c.length > 0))) {
    throw new ApiError(400, 'invalidPayload', "'categories' must be a list of harm category names.", 'categories');
  }
  return categories === undefined ? { deployable: body.deployable } : { deployable: body.deployable, categories: categories as string[] };
}
