/**
 * The training monitor's poll is a local activity. When the SDK core answers a query while the poll's result waits for
 * the workflow code, it completes the workflow task at once with the poll's marker and forces a new task, in which the
 * code after the poll runs (sdk-core managed_run.rs, prepare_complete_resp: "If there are pending LA resolutions, and
 * we're responding to a query here ... force a new task"). On replay the core resolves the poll from its marker within
 * the first task, before it has announced the patch markers of the second: a `patched()` asked first right after the
 * poll returns false there, and replay fails with "Non-deprecated patch marker encountered" (session 20's CI failure).
 *
 * This test makes that history from each recorded one: it ends the workflow task after the first poll's marker and
 * moves the commands after it into a new task, as the core records it. Histories from before `ftpipe-monitor-flags`
 * (test/histories/earlier) that decide a patch right after the poll fail on the split; every history recorded since
 * replays with it, since the monitor takes its patch decisions at its entry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../src/stack/workflow-bundle';
import { WORKFLOW_INTERCEPTORS_MODULE, setupTracing, workflowSpanSinks } from '../../src/telemetry/tracing';
import { keepHistoryOnFailure } from '../helpers/history-evidence';
import { testWorkflowSource } from '../helpers/temporal';
import { SCENARIOS } from '../histories/scenarios';

const HISTORIES = join(__dirname, '..', 'histories');

interface JsonEvent {
  eventId: string;
  eventType: string;
  [attributes: string]: unknown;
}

const COMMAND_EVENTS = new Set([
  'EVENT_TYPE_MARKER_RECORDED',
  'EVENT_TYPE_TIMER_STARTED',
  'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
  'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
  'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED',
  'EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED',
  'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
]);

function isPollMarker(e: JsonEvent): boolean {
  return (e.markerRecordedEventAttributes as { markerName?: string } | undefined)?.markerName === 'core_local_activity';
}

/** Adds `by` to every event id a field refers to (`scheduledEventId`, `startedEventId`, ...) past `after`. */
function shiftReferences(value: unknown, after: number, by: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shiftReferences(v, after, by));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, /EventId$/.test(key) && typeof v === 'string' && Number(v) > after ? String(Number(v) + by) : shiftReferences(v, after, by)]),
  );
}

/**
 * The history with its first poll marker that shares a completion with later commands split off from them (undefined
 * when there is none): the marker's workflow task ends after it, and a new task (scheduled, started, completed)
 * records the commands that followed it.
 */
function splitAfterFirstPoll(events: JsonEvent[]): JsonEvent[] | undefined {
  const at = events.findIndex((e, i) => isPollMarker(e) && COMMAND_EVENTS.has(events[i + 1]?.eventType ?? ''));
  if (at < 0 || events.slice(0, at).some(isPollMarker)) return undefined;
  const last = (type: string): JsonEvent => events.slice(0, at).reverse().find((e) => e.eventType === `EVENT_TYPE_WORKFLOW_TASK_${type}`)!;
  const markerId = Number(events[at]!.eventId);
  const [scheduled, started, completed] = [markerId + 1, markerId + 2, markerId + 3].map(String) as [string, string, string];
  const scheduledAttrs = last('SCHEDULED').workflowTaskScheduledEventAttributes as Record<string, unknown>;
  const startedAttrs = last('STARTED').workflowTaskStartedEventAttributes as Record<string, unknown>;
  const completedAttrs = last('COMPLETED').workflowTaskCompletedEventAttributes as Record<string, unknown>;
  const eventTime = events[at]!.eventTime;
  const task: JsonEvent[] = [
    { eventId: scheduled, eventTime, eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', workflowTaskScheduledEventAttributes: { ...scheduledAttrs, attempt: 1 } },
    { eventId: started, eventTime, eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED', workflowTaskStartedEventAttributes: { ...startedAttrs, scheduledEventId: scheduled, requestId: 'request-from-RespondWorkflowTaskCompleted' } },
    { eventId: completed, eventTime, eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', workflowTaskCompletedEventAttributes: { ...completedAttrs, scheduledEventId: scheduled, startedEventId: started, sdkMetadata: {} } },
  ];
  let moved = true;
  const after = events.slice(at + 1).map((e) => {
    const shifted = shiftReferences(e, markerId, 3) as JsonEvent;
    shifted.eventId = String(Number(e.eventId) + 3);
    if (!COMMAND_EVENTS.has(e.eventType)) moved = false;
    if (moved) {
      for (const [key, attrs] of Object.entries(shifted)) {
        if (key.endsWith('Attributes') && attrs && typeof attrs === 'object' && 'workflowTaskCompletedEventId' in attrs) (attrs as Record<string, unknown>).workflowTaskCompletedEventId = completed;
      }
    }
    return shifted;
  });
  return [...events.slice(0, at + 1), ...task, ...after];
}

function loadEvents(file: string): JsonEvent[] {
  return (JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { events: JsonEvent[] }).events;
}

async function replaySplit(files: string[]): Promise<Map<string, ReplayResult>> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const histories = files.flatMap((file) => {
    const split = splitAfterFirstPoll(loadEvents(file));
    return split ? [{ workflowId: file, history: historyFromJSON({ events: split }) }] : [];
  });
  const results = new Map<string, ReplayResult>();
  // The code every worker runs: the test run's bundle, or the sources bundled alike (as test/foundation/replay.test.ts).
  const source = testWorkflowSource();
  const code = 'workflowBundlePath' in source
    ? { workflowBundle: { codePath: source.workflowBundlePath } }
    : { workflowsPath: source.workflowsPath, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS, interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_MODULE] } };
  for await (const result of Worker.runReplayHistories({ ...code, sinks: workflowSpanSinks(setupTracing({ serviceName: 'replay' })) }, histories)) {
    results.set(result.workflowId, result);
  }
  return results;
}

const BEFORE_THE_FLAGS = new Map([
  ['earlier/pipeline-stopped-early.before-ftpipe-monitor-flags.json', 'ftpipe-automatic-evaluations'],
  ['earlier/pipeline-stopped-at-budget.before-ftpipe-monitor-flags.json', 'ftpipe-budget-pause'],
]);

describe('replay: the code after the monitor\'s first poll recorded in a later workflow task than the poll', () => {
  const current = SCENARIOS.map((s) => `${s.name}.json`).filter((f) => splitAfterFirstPoll(loadEvents(f)) !== undefined);
  let results: Map<string, ReplayResult>;
  // One replay worker (one workflow bundle) for every split history.
  before(async () => {
    results = await replaySplit([...BEFORE_THE_FLAGS.keys(), ...current]);
  });

  it('fails on the histories from before ftpipe-monitor-flags that decide a patch right after the poll', () => {
    for (const [file, patch] of BEFORE_THE_FLAGS) assert.match(String(results.get(file)?.error), new RegExp(`Non-deprecated patch marker encountered for change ${patch},`), file);
  });

  it('keeps the history of a run whose replay failed so (test/helpers/history-evidence.ts)', async () => {
    const [file] = [...BEFORE_THE_FLAGS.keys()] as [string];
    const history = historyFromJSON({ events: splitAfterFirstPoll(loadEvents(file))! });
    const handle = { workflowId: 'split-run', fetchHistory: () => Promise.resolve(history) } as unknown as WorkflowHandle;
    const artifacts = mkdtempSync(join(tmpdir(), 'ftpipe-artifacts-'));
    process.env.FTPIPE_TEST_ARTIFACTS = artifacts;
    try {
      const error = results.get(file)?.error;
      assert.ok(error instanceof Error, `${file} failed to replay`);
      await assert.rejects(keepHistoryOnFailure(handle, () => Promise.reject(error)), DeterminismViolationError);
    } finally {
      delete process.env.FTPIPE_TEST_ARTIFACTS;
    }
    const kept = historyFromJSON(JSON.parse(readFileSync(join(artifacts, 'histories', 'split-run.json'), 'utf8')));
    assert.equal(kept.events?.length, history.events?.length);
  });

  it('replays every recorded history with the monitor flags split that way', () => {
    assert.ok(current.includes('pipeline-stopped-early.json') && current.includes('pipeline-stopped-at-budget.json'), current.join(', '));
    for (const file of current) {
      const result = results.get(file);
      assert.ok(result, `${file} was replayed`);
      assert.equal(result.error, undefined, `${file}: ${String(result.error)}`);
    }
  });
});
