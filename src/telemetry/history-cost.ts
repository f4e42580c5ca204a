/**
 * What a run costs Temporal, counted from its history by stage: workflow tasks, activity tasks (each attempt is one),
 * local activities, events, search-attribute and memo upserts, timers and signals. bench/workflow-tasks.ts prints it,
 * test/pipeline/workflow-cost.test.ts bounds it. Reads histories as the client fetches them or as JSON files hold them
 * (attribute objects, never event-type numbers).
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import { STAGE } from '../temporal/search-attributes';

export type HistoryEvent = NonNullable<History['events']>[number];

export interface HistoryCost {
  events: number;
  /** Workflow tasks completed, the SDK's own continuations included. */
  workflowTasks: number;
  /**
   * Of those, the ones the worker completed early to keep a local activity going (past 80% of the task timeout): the
   * next task is scheduled after the task's own commands, with no event from outside (an activity's end, a signal, a
   * timer) between. An update's task looks the same (the server writes no event for an update before a task accepts it).
   */
  continuationTasks: number;
  /** Workflow tasks failed or timed out (each retried as another task). */
  failedWorkflowTasks: number;
  /** Activity tasks the server dispatched: every attempt of every scheduled activity that started. */
  activityTasks: number;
  activitiesScheduled: number;
  localActivities: number;
  /** Upserts of ftpipe's search attributes (commands of the workflow code). */
  searchAttributeUpserts: number;
  /** Upserts of TemporalChangeVersion, which the SDK adds to each patch marker. */
  changeVersionUpserts: number;
  memoUpserts: number;
  timers: number;
  patchMarkers: number;
  signalsReceived: number;
  signalsSent: number;
}

export interface StageCost {
  stage: string;
  cost: HistoryCost;
}

/** Events a workflow task's own commands write (whatever else happens between two tasks comes from outside). */
const COMMAND_EVENTS = [
  'markerRecordedEventAttributes', 'upsertWorkflowSearchAttributesEventAttributes', 'workflowPropertiesModifiedEventAttributes', 'activityTaskScheduledEventAttributes',
  'activityTaskCancelRequestedEventAttributes', 'timerStartedEventAttributes', 'timerCanceledEventAttributes', 'signalExternalWorkflowExecutionInitiatedEventAttributes',
  'requestCancelExternalWorkflowExecutionInitiatedEventAttributes', 'startChildWorkflowExecutionInitiatedEventAttributes', 'workflowExecutionUpdateAcceptedEventAttributes',
  'workflowExecutionUpdateCompletedEventAttributes',
] as const;

/** Whether the task completed at `at` was a continuation: only its own commands lie between it and the next task. */
function isContinuation(events: HistoryEvent[], at: number): boolean {
  for (let i = at + 1; i < events.length; i++) {
    const event = events[i]!;
    if (event.workflowTaskScheduledEventAttributes) return true;
    if (!COMMAND_EVENTS.some((key) => event[key])) return false;
  }
  return false;
}

function emptyCost(): HistoryCost {
  return {
    events: 0, workflowTasks: 0, continuationTasks: 0, failedWorkflowTasks: 0, activityTasks: 0, activitiesScheduled: 0, localActivities: 0,
    searchAttributeUpserts: 0, changeVersionUpserts: 0, memoUpserts: 0, timers: 0, patchMarkers: 0, signalsReceived: 0, signalsSent: 0,
  };
}

export function addCosts(costs: HistoryCost[]): HistoryCost {
  const sum = emptyCost();
  for (const cost of costs) for (const key of Object.keys(sum) as (keyof HistoryCost)[]) sum[key] += cost[key];
  return sum;
}

/** The stage an upsert moves the run to (FtpipeStage's JSON payload), if it sets that attribute. */
export function stageSetBy(event: HistoryEvent): string | undefined {
  const payload = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[STAGE.name];
  const data = payload?.data;
  if (!data) return undefined;
  const text = typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data).toString('utf8');
  const value: unknown = JSON.parse(text);
  return typeof value === 'string' ? value : undefined;
}

/**
 * The cost of each stage in the order the run entered them (a stage entered twice is counted once, where it was
 * first). An event belongs to the stage the run was in when it was written: a workflow task that moves the run on is
 * the earlier stage's. Events before the first stage upsert belong to `firstStage` (a run started by ftpipe's client
 * starts with FtpipeStage set).
 */
export function historyCostByStage(events: HistoryEvent[], firstStage = 'preflight'): StageCost[] {
  const stages: StageCost[] = [{ stage: firstStage, cost: emptyCost() }];
  let current = stages[0]!.cost;
  events.forEach((event, i) => {
    const moved = stageSetBy(event);
    if (moved !== undefined) {
      const known = stages.find((s) => s.stage === moved);
      if (known) current = known.cost;
      else {
        current = emptyCost();
        stages.push({ stage: moved, cost: current });
      }
    }
    current.events++;
    if (event.workflowTaskCompletedEventAttributes) {
      current.workflowTasks++;
      if (isContinuation(events, i)) current.continuationTasks++;
    }
    if (event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) current.failedWorkflowTasks++;
    if (event.activityTaskScheduledEventAttributes) current.activitiesScheduled++;
    if (event.activityTaskStartedEventAttributes) current.activityTasks += event.activityTaskStartedEventAttributes.attempt ?? 1;
    const marker = event.markerRecordedEventAttributes?.markerName;
    if (marker === 'core_local_activity') current.localActivities++;
    if (marker === 'core_patch') current.patchMarkers++;
    const upserted = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (upserted) {
      if ('TemporalChangeVersion' in upserted) current.changeVersionUpserts++;
      if (Object.keys(upserted).some((key) => key !== 'TemporalChangeVersion')) current.searchAttributeUpserts++;
    }
    if (event.workflowPropertiesModifiedEventAttributes) current.memoUpserts++;
    if (event.timerStartedEventAttributes) current.timers++;
    if (event.workflowExecutionSignaledEventAttributes) current.signalsReceived++;
    if (event.signalExternalWorkflowExecutionInitiatedEventAttributes) current.signalsSent++;
  });
  return stages.filter((s) => s.cost.events > 0);
}

/** A run's cost before training (every stage before `train`), in training, and after it. */
export function historyCostAroundTraining(byStage: StageCost[]): { beforeTraining: HistoryCost; training: HistoryCost; afterTraining: HistoryCost } {
  const trainAt = byStage.findIndex((s) => s.stage === 'train');
  const before = trainAt < 0 ? byStage : byStage.slice(0, trainAt);
  const after = trainAt < 0 ? [] : byStage.slice(trainAt + 1);
  return {
    beforeTraining: addCosts(before.map((s) => s.cost)),
    training: addCosts(trainAt < 0 ? [] : [byStage[trainAt]!.cost]),
    afterTraining: addCosts(after.map((s) => s.cost)),
  };
}

/** What a stage ran, by name: activities (scheduled, and attempts started), local activities, signals in and out. */
export interface StageSteps {
  stage: string;
  activities: Record<string, { scheduled: number; attempts: number }>;
  local: Record<string, number>;
  signalsIn: Record<string, number>;
  signalsOut: Record<string, number>;
}

function payloadText(data: string | Uint8Array | null | undefined): string | undefined {
  if (!data) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data).toString('utf8');
}

/** The activity type a local activity's marker names (the SDK writes the marker's data as JSON). */
function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const text = payloadText(marker.details?.data?.payloads?.[0]?.data);
  return text ? (JSON.parse(text) as { activity_type?: string }).activity_type : undefined;
}

/** The steps of each stage, stages as historyCostByStage assigns events to them. */
export function historyStepsByStage(events: HistoryEvent[], firstStage = 'preflight'): StageSteps[] {
  const empty = (stage: string): StageSteps => ({ stage, activities: {}, local: {}, signalsIn: {}, signalsOut: {} });
  const stages: StageSteps[] = [empty(firstStage)];
  let current = stages[0]!;
  const scheduledNames = new Map<string, string>();
  const bump = (counts: Record<string, number>, name: string): void => {
    counts[name] = (counts[name] ?? 0) + 1;
  };
  for (const event of events) {
    const moved = stageSetBy(event);
    if (moved !== undefined) {
      current = stages.find((s) => s.stage === moved) ?? stages[stages.push(empty(moved)) - 1]!;
    }
    const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) {
      scheduledNames.set(String(event.eventId), scheduled);
      (current.activities[scheduled] ??= { scheduled: 0, attempts: 0 }).scheduled++;
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const name = scheduledNames.get(String(started.scheduledEventId)) ?? '?';
      (current.activities[name] ??= { scheduled: 0, attempts: 0 }).attempts += started.attempt ?? 1;
    }
    const local = localActivityType(event);
    if (local) bump(current.local, local);
    const signalled = event.workflowExecutionSignaledEventAttributes?.signalName;
    if (signalled) bump(current.signalsIn, signalled);
    const sent = event.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName;
    if (sent) bump(current.signalsOut, sent);
  }
  return stages.filter((s) => Object.keys(s.activities).length + Object.keys(s.local).length + Object.keys(s.signalsIn).length + Object.keys(s.signalsOut).length > 0);
}
