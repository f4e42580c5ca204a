/**
 * `resourceAdmission`: one long-lived workflow per Azure resource (and task queue) that hands out the resource's
 * slots - job places (running + queued), files and their bytes, fine-tuned deployments - to the runs that target it.
 *
 * A run asks with the `joinQueue` update, sent by update-with-start (activities/admission.ts), so the queue exists as
 * soon as anyone needs it, and the reply says whether the run holds its slots already (most runs, when the resource
 * has room) or where it waits; runs from before asked with the `requestSlots` signal (signal-with-start) and learn
 * even an immediate grant by notice. Requests and grants are keyed by the run's workflow id: a repeated request
 * changes nothing and a holder is never granted twice. Requests queue by priority, then first come first served; the head is
 * never overtaken, so a large request is not starved. The queue tells each waiting run its position and each granted
 * run its grant (signals to the run), takes slots back on `releaseSlots` (sent by the run's cleanup), and checks that
 * holders are still open while others wait, so a terminated run cannot keep its slots. It continues as new when its
 * history grows, carrying its state. Everything is in workflow state: worker and server restarts lose nothing.
 *
 * Every run signals this one workflow, so its work per workflow task must not grow with the number of runs
 * (`ftpipe-admission-bounded`): lookups by key, slots in use counted as they change, at most NOTICES_PER_ROUND
 * notices per round (each is a signal command; the server force-fails a task while more than 100 events wait for it,
 * which costs a replay), and continue-as-new at a history small enough to replay quickly after an eviction.
 *
 * A deployment slot is a grant of its own, keyed `deployment:<name>` rather than by the run: it outlives the run that
 * asked (a promoted deployment stays live), is released by whichever run retires or deletes the deployment, and is
 * taken back once its run has ended and Azure no longer has the deployment (Azure deletes Developer-tier deployments
 * after 24 hours and idle fine-tuned ones after 15 days).
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { capacity, SLOT_KINDS, type ResourceLimits, type SlotAmounts } from '../src/admission/limits';
import type { AdmissionNotice } from '../src/admission/types';
import { recordAdmissionQueueLength } from '../src/telemetry/workflow-metrics';

export type { AdmissionNotice } from '../src/admission/types';

/** Continue as new past this many events: the queue lives for months, its history stays small. */
const ADMISSION_HISTORY_BUDGET = 2_000;
/**
 * The same under `ftpipe-admission-bounded`: a replay costs about 1.5 ms per event (mostly the SDK's per-signal work),
 * so a queue evicted from the worker's cache comes back well inside the 10 s task timeout on a loaded machine.
 */
const BOUNDED_HISTORY_BUDGET = 500;
/**
 * Notices (signals to runs) sent per round under `ftpipe-admission-bounded`, grants first; the rest go in the next
 * rounds. Their acknowledgements arrive while the next task runs: the server fails a task when more than 100 wait.
 */
export const NOTICES_PER_ROUND = 50;
/** Holders named in the Web UI's current details (the rest are counted). */
const DETAILS_HOLDERS = 10;
/** Waiting runs told their exact position; those further back learn it when they move up to here. */
const POSITIONS_NOTIFIED = 25;

export interface SlotRequest {
  /** The requesting run's workflow id: told its position and grant; the key of its request, grant and release unless `key` is set. */
  holder: string;
  /** The grant's own key when it is not the run's (a deployment slot: `deploymentSlotKey(name)`). */
  key?: string;
  /** For a deployment slot: where the deployment lives, to find out whether Azure still has it. */
  deployment?: DeploymentRef;
  runName: string;
  amounts: SlotAmounts;
  /** Higher first; equal priorities are first come, first served. */
  priority: number;
  /** The resource's limits as the requester's profile has them (the newest request's win). */
  limits: ResourceLimits;
}

export interface SlotRelease {
  holder: string;
  /** The grant to give back when it is not the run's own (a deployment slot). */
  key?: string;
}

export interface DeploymentRef {
  profile: string;
  name: string;
}

/** A deployment slot whose run may have ended: taken back when it has and Azure no longer has the deployment. */
export interface DeploymentSlotCheck {
  key: string;
  holder: string;
  deployment: DeploymentRef;
}

interface Holder {
  holder: string;
  key?: string;
  deployment?: DeploymentRef;
  runName: string;
  amounts: SlotAmounts;
  grantedAt: string;
}

interface Waiting extends Holder {
  priority: number;
  seq: number;
  requestedAt: string;
  /** Position last told to the run (0: not yet). */
  told: number;
}

export interface AdmissionState {
  holders: Holder[];
  queue: Waiting[];
  seq: number;
  /** Grants made over the queue's life, across continuations. */
  granted: number;
  /** Holders found closed without releasing (terminated, or ended before their release arrived). */
  reclaimed: number;
  /** Keys of grants made but not yet told to their runs when the queue continued as new (`ftpipe-admission-bounded`). */
  resend?: string[];
}

export interface AdmissionInput {
  /** The account's ARM id. */
  resource: string;
  limits: ResourceLimits;
  state?: AdmissionState;
}

export interface AdmissionView {
  resource: string;
  limits: ResourceLimits;
  capacity: SlotAmounts;
  used: SlotAmounts;
  free: SlotAmounts;
  holders: Holder[];
  queue: { holder: string; runName: string; position: number; amounts: SlotAmounts; priority: number; requestedAt: string }[];
  granted: number;
  reclaimed: number;
}

export const requestSlotsSignal = defineSignal<[SlotRequest]>('requestSlots');
export const joinQueueUpdate = defineUpdate<AdmissionNotice, [SlotRequest]>('joinQueue');
export const releaseSlotsSignal = defineSignal<[SlotRelease]>('releaseSlots');
export const admissionQuery = defineQuery<AdmissionView, [Record<string, never>?]>('admission');
/** Sent by the queue to a run: its position while it waits, then its grant. */
export const admissionNoticeSignal = defineSignal<[AdmissionNotice]>('admissionNotice');

function nowIso(): string {
  return new Date().toISOString();
}

function zero(): SlotAmounts {
  return { jobs: 0, files: 0, fileBytes: 0, deployments: 0 };
}

const keyOf = (h: Holder): string => h.key ?? h.holder;

function sum(holders: Holder[]): SlotAmounts {
  const used = zero();
  for (const h of holders) for (const kind of SLOT_KINDS) used[kind] += h.amounts[kind];
  return used;
}

/** A request larger than the whole capacity is granted once the resource is otherwise idle (Azure is then the judge). */
function fits(amounts: SlotAmounts, used: SlotAmounts, cap: SlotAmounts, idle: boolean): boolean {
  return idle || SLOT_KINDS.every((kind) => amounts[kind] === 0 || used[kind] + amounts[kind] <= cap[kind]);
}

/** Why the head of the queue waits, in words. */
function shortage(amounts: SlotAmounts, used: SlotAmounts, cap: SlotAmounts, limits: ResourceLimits): string {
  const words: Record<keyof SlotAmounts, string> = {
    jobs: `job slots (${used.jobs} of ${cap.jobs} in use: ${limits.runningJobs} running + ${limits.queuedJobs} queued)`,
    files: `file slots (${used.files} of ${cap.files} in use)`,
    fileBytes: `file storage (${used.fileBytes} of ${cap.fileBytes} bytes in use)`,
    deployments: `deployment slots (${used.deployments} of ${cap.deployments} in use)`,
  };
  return SLOT_KINDS.filter((kind) => amounts[kind] > 0 && used[kind] + amounts[kind] > cap[kind]).map((kind) => words[kind]).join(', ');
}

/**
 * The queue lives as long as its resource, so pinned it would keep the build that started it from ever draining: it
 * moves to the deployment's current build at its next workflow task instead, so every change to it must replay its
 * open histories (`patched()`). Only on a versioned worker: the server refuses a versioning behaviour from an
 * unversioned one (which has a build id but no deployment name). The version seen is that of the execution's first
 * workflow task (this runs once, before the workflow function), so a queue started before its workers were versioned
 * stays pinned to the first versioned build until it continues as new.
 */
setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' } : {}), resourceAdmission);
export async function resourceAdmission(input: AdmissionInput): Promise<void> {
  const { resource } = input;
  let limits = input.limits;
  const { resend = [], ...carried } = input.state ?? { holders: [], queue: [], seq: 0, granted: 0, reclaimed: 0 };
  const state: AdmissionState = carried;
  // Bounded work per task and the earlier continue-as-new: executions started before keep the old rounds until they continue.
  const bounded = patched('ftpipe-admission-bounded');
  let changed = true;
  /** Holders to (re)send their grant: new grants, and holders asking again (a retried request). */
  const grantsToSend = new Set<string>(resend);
  /** Every grant and every waiting request by its key, and the slots in use, kept as they change (no scans per signal). */
  const holderByKey = new Map(state.holders.map((h) => [keyOf(h), h]));
  const waitingByKey = new Map(state.queue.map((w) => [keyOf(w), w]));
  const used = sum(state.holders);
  const count = (amounts: SlotAmounts, sign: 1 | -1): void => {
    for (const kind of SLOT_KINDS) used[kind] += sign * amounts[kind];
  };
  let sorted = false;
  const { closedWorkflows } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' } });

  const ordered = (): Waiting[] => {
    if (!sorted) state.queue.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    sorted = true;
    return state.queue;
  };

  /** Queues a request (or re-sends a held grant); both messages that carry one, the signal and the update, take it here. */
  const enqueue = (request: SlotRequest): void => {
    limits = request.limits;
    changed = true;
    const key = request.key ?? request.holder;
    const held = holderByKey.get(key);
    if (held) {
      // A deployment slot asked for again, maybe by another run (a redeploy under the same name): that run holds it now.
      held.holder = request.holder;
      held.runName = request.runName;
      grantsToSend.add(key);
      return;
    }
    if (waitingByKey.has(key)) return;
    const waiting: Waiting = {
      holder: request.holder, runName: request.runName, amounts: request.amounts, priority: request.priority,
      seq: ++state.seq, requestedAt: nowIso(), grantedAt: '', told: 0,
    };
    if (request.key !== undefined) waiting.key = request.key;
    if (request.deployment) waiting.deployment = request.deployment;
    // Still in order when it is behind every request of its priority or higher (the usual case: equal priorities).
    const last = state.queue.at(-1);
    if (last && last.priority < waiting.priority) sorted = false;
    state.queue.push(waiting);
    waitingByKey.set(key, waiting);
  };
  setHandler(requestSlotsSignal, enqueue, { description: 'Queue a run for slots (sent by runs from before the joinQueue update, through signal-with-start). Input: {"holder", "runName", "amounts", "priority", "limits", "key"?, "deployment"?}.' });

  const release = (key: string): void => {
    const held = holderByKey.get(key);
    if (held) {
      holderByKey.delete(key);
      state.holders.splice(state.holders.indexOf(held), 1);
      count(held.amounts, -1);
    }
    const waiting = waitingByKey.get(key);
    if (waiting) {
      waitingByKey.delete(key);
      state.queue.splice(state.queue.indexOf(waiting), 1);
    }
    grantsToSend.delete(key);
  };
  setHandler(releaseSlotsSignal, ({ holder, key }) => {
    release(key ?? holder);
    changed = true;
  }, { description: 'Give back a run\'s slots, or take it out of the queue (sent by the run\'s cleanup); with "key", a deployment slot (sent when the deployment is deleted). Input: {"holder": "<workflow id>", "key"?}.' });

  const view = (): AdmissionView => {
    const cap = capacity(limits);
    const free = zero();
    for (const kind of SLOT_KINDS) free[kind] = Math.max(0, cap[kind] - used[kind]);
    return {
      resource, limits, capacity: cap, used: { ...used }, free, holders: state.holders, granted: state.granted, reclaimed: state.reclaimed,
      queue: ordered().map((w, i) => ({ holder: w.holder, runName: w.runName, position: i + 1, amounts: w.amounts, priority: w.priority, requestedAt: w.requestedAt })),
    };
  };
  setHandler(admissionQuery, view, { description: 'Limits, slots used and free, holders, and the queue in order.' });

  /**
   * Sends a notice to a run; false when the run is gone (closed), so its place or slots can be freed. Without an async
   * function: the SDK records a stack trace for every promise a workflow makes, which is most of a notice's cost.
   */
  const tell = (holder: string, notice: AdmissionNotice): Promise<boolean> =>
    getExternalWorkflowHandle(holder).signal(admissionNoticeSignal, notice).then(() => true, () => false);

  function grantWhatFits(): void {
    const cap = capacity(limits);
    const queue = ordered();
    let taken = 0;
    for (const head of queue) {
      if (!fits(head.amounts, used, cap, state.holders.length === 0)) break;
      taken++;
      waitingByKey.delete(keyOf(head));
      const granted: Holder = { holder: head.holder, runName: head.runName, amounts: head.amounts, grantedAt: nowIso() };
      if (head.key !== undefined) granted.key = head.key;
      if (head.deployment) granted.deployment = head.deployment;
      state.holders.push(granted);
      holderByKey.set(keyOf(granted), granted);
      count(granted.amounts, 1);
      state.granted++;
      grantsToSend.add(keyOf(head));
    }
    queue.splice(0, taken);
  }

  /** Why the queue's head waits, for the waiting runs' notices. */
  const waitingReason = (head: Waiting | undefined): string => (head ? `waiting for ${shortage(head.amounts, used, capacity(limits), limits) || 'the runs ahead'} on ${resource}` : '');
  const grantedNotice = (h: Holder): AdmissionNotice => ({ resource, state: 'granted', position: 0, reason: `slots granted on ${resource}`, ...(h.key === undefined ? {} : { key: h.key }) });

  /**
   * A run's request with the answer in the reply (sent by the run's join through update-with-start): granted at once
   * when it fits, as the next round would have; else its position, and the grant comes later as a notice. A run
   * granted here is sent no notice: the signal, its acknowledgement and the run's workflow task for it are saved.
   * Keyed like the signal, so a join run again (a retried local activity) is answered again, the same way.
   */
  setHandler(joinQueueUpdate, (request) => {
    enqueue(request);
    grantWhatFits();
    const key = request.key ?? request.holder;
    const held = holderByKey.get(key);
    if (held) {
      grantsToSend.delete(key);
      return grantedNotice(held);
    }
    const waiting = ordered();
    const w = waitingByKey.get(key);
    // Usually the newest request, at the end: found without a scan.
    const position = w ? (waiting.at(-1) === w ? waiting.length : waiting.indexOf(w) + 1) : 0;
    if (w) w.told = position;
    return {
      resource, state: 'waiting', position, reason: `${waitingReason(waiting[0])}; position ${position} of ${waiting.length}`,
      ...(request.key === undefined ? {} : { key: request.key }),
    };
  }, { description: 'Queue a run for slots and answer at once: granted, or its position (sent by the run\'s join through update-with-start). Input: {"holder", "runName", "amounts", "priority", "limits", "key"?, "deployment"?}.' });

  /** Tells new grants and changed positions (under `bounded`, at most NOTICES_PER_ROUND); true when some are left for the next round. */
  async function notify(): Promise<boolean> {
    const budget = bounded ? NOTICES_PER_ROUND : Number.POSITIVE_INFINITY;
    const grants: Holder[] = [];
    for (const key of grantsToSend) {
      if (grants.length >= budget) break;
      grantsToSend.delete(key);
      const held = holderByKey.get(key);
      if (held) grants.push(held);
    }
    const waiting = ordered();
    const reason = waitingReason(waiting[0]);
    const positions: { w: Waiting; position: number }[] = [];
    let left = grantsToSend.size > 0;
    for (const [i, w] of waiting.entries()) {
      const position = i + 1;
      if (!(position <= POSITIONS_NOTIFIED ? w.told !== position : w.told === 0)) continue;
      if (grants.length + positions.length >= budget) {
        left = true;
        break;
      }
      positions.push({ w, position });
    }
    const notice = (h: Holder, n: AdmissionNotice): AdmissionNotice => (h.key === undefined ? n : { ...n, key: h.key });
    const results = await Promise.all([
      ...grants.map((h) => tell(h.holder, grantedNotice(h)).then((ok) => ({ key: keyOf(h), ok }))),
      ...positions.map(({ w, position }) => {
        w.told = position;
        return tell(w.holder, notice(w, { resource, state: 'waiting', position, reason: `${reason}; position ${position} of ${waiting.length}` })).then((ok) => ({ key: keyOf(w), ok }));
      }),
    ]);
    for (const { key, ok } of results) {
      if (!ok) {
        release(key);
        state.reclaimed++;
        changed = true;
      }
    }
    return left;
  }

  /**
   * Takes back the slots of runs that ended without releasing them; a deployment slot only once Azure no longer has
   * the deployment too (until then it holds one of the resource's deployment places, whoever created it).
   */
  async function reclaimClosedHolders(): Promise<void> {
    const runs = state.holders.filter((h) => !h.deployment);
    const deployments = state.holders.flatMap((h): DeploymentSlotCheck[] => (h.deployment ? [{ key: keyOf(h), holder: h.holder, deployment: h.deployment }] : []));
    if (runs.length === 0 && deployments.length === 0) return;
    let reclaimable: string[];
    try {
      // Deployment slots only when there are some: the queue's recorded histories ask with workflow ids alone.
      reclaimable = await closedWorkflows(deployments.length > 0 ? { workflowIds: [...new Set(runs.map((h) => h.holder))], deployments } : { workflowIds: runs.map((h) => h.holder) });
    } catch (err) {
      if (err instanceof ActivityFailure) return;
      throw err;
    }
    const closed = new Set(reclaimable);
    for (const h of state.holders.filter((x) => closed.has(x.deployment ? keyOf(x) : x.holder))) {
      release(keyOf(h));
      state.reclaimed++;
      changed = true;
    }
  }

  function showDetails(): void {
    const cap = capacity(limits);
    const named = state.holders.slice(0, DETAILS_HOLDERS).map((h) => h.runName).join(', ');
    const more = state.holders.length > DETAILS_HOLDERS ? ` and ${state.holders.length - DETAILS_HOLDERS} more` : '';
    const next = ordered()[0];
    setCurrentDetails([
      `resource: ${resource}`,
      `jobs: ${used.jobs}/${cap.jobs}, files: ${used.files}/${cap.files}, deployments: ${used.deployments}/${cap.deployments}`,
      `holders: ${named ? `${named}${more}` : 'none'}`,
      `queue: ${state.queue.length}${next ? ` (next: ${next.runName})` : ''}`,
    ].join('\n'));
  }

  const overBudget = (): boolean => {
    const info = workflowInfo();
    return info.historyLength >= (bounded ? BOUNDED_HISTORY_BUDGET : ADMISSION_HISTORY_BUDGET) || info.continueAsNewSuggested;
  };

  for (;;) {
    // Bounded: continue as new even while signals keep coming (the handlers have put them in the state, and grants
    // not yet told go along), so a busy queue's history cannot grow past the budget.
    if (bounded && overBudget()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof resourceAdmission>({ resource, limits, state: { ...state, resend: [...grantsToSend] } });
    }
    if (changed) {
      changed = false;
      grantWhatFits();
      if (await notify()) changed = true;
      showDetails();
      recordAdmissionQueueLength(resource, state.queue.length);
      continue;
    }
    if (!bounded && overBudget()) {
      await condition(allHandlersFinished);
      if (!changed) await continueAsNew<typeof resourceAdmission>({ resource, limits, state });
      continue;
    }
    // While runs wait, check now and then that every holder is still open; idle, sleep until a signal.
    const waitingForSlots = state.queue.length > 0 && state.holders.length > 0;
    const woken = () => changed || grantsToSend.size > 0;
    const signalled = waitingForSlots ? await condition(woken, `${limits.holderCheckSeconds} seconds`) : (await condition(woken), true);
    if (grantsToSend.size > 0) changed = true;
    if (!signalled && waitingForSlots) await reclaimClosedHolders();
  }
}
