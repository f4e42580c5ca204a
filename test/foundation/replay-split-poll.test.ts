/**
 * The training monitor's poll is a local activity. When the SDK core answers a query while the poll's result waits for
 * the workflow code, it completes the workflow task at once with the poll's marker and forces a new task, in which the
 * code after the poll runs (sdk-core managed_run.rs, prepare_complete_resp: "If there are pending LA resolutions, and
 * we're responding to a query here ... force a new task"). On replay the core resolves the poll from its marker within
 * the first task, before it has announced the patch markers of the second: a `patched()` asked first right after the
 * poll returns false there, and replay fails with "Non-deprecated patch marker encountered" (session 20's CI failure).
 *
 * This test makes that history from each recorded one: it ends the workflow task after the monitor's first poll marker
 * (and after the run's first local activity, preflight's reads) and moves the commands after it into a new task, as
 * the core records it. Histories from before `ftpipe-monitor-flags`
 * (test/histories/earlier) that decide a patch right after the poll fail on the split; every history recorded since
 * replays with it, since the monitor takes its patch decisions at its entry.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../src/stack/workflow-bundle';
import { WORKFLOW_INTERCEPTORS_MODULE, setupTracing, workflowSpanSinks } from '../../src/telemetry/tracing';
import { PATCHES_ASKED_AHEAD } from '../../workflows/run';
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

function isPatchMarker(e: JsonEvent, patch: string): boolean {
  const data = (e.markerRecordedEventAttributes as { details?: Record<string, { payloads?: { data?: string }[] }> } | undefined)?.details?.['patch-data']?.payloads?.[0]?.data;
  return data !== undefined && Buffer.from(data, 'base64').toString('utf8').includes(`"${patch}"`);
}

function isAnyPatchMarker(e: JsonEvent): boolean {
  return (e.markerRecordedEventAttributes as { details?: Record<string, unknown> } | undefined)?.details?.['patch-data'] !== undefined;
}

/**
 * Where a history is split, each only when later commands share the marker's completion: after the run's first
 * local-activity marker (preflight's reads, in runs from before them the monitor's first poll), after the monitor's
 * first poll (the first marker after the ftpipe-local-poll patch), and after every local-activity marker whose
 * completion records a patch marker after it (`patch@<event id>`: a patch decided right after a local activity).
 */
function splitPoints(events: JsonEvent[]): Map<string, number> {
  const localPoll = events.findIndex((e) => isPatchMarker(e, 'ftpipe-local-poll'));
  const points = new Map<string, number>([
    ['first', events.findIndex(isPollMarker)],
    ['monitor', localPoll < 0 ? -1 : events.findIndex((e, i) => i > localPoll && isPollMarker(e))],
  ]);
  if (points.get('first') === points.get('monitor')) points.delete('first');
  events.forEach((e, at) => {
    if (!isPollMarker(e) || [...points.values()].includes(at)) return;
    const end = events.findIndex((next, i) => i > at && !COMMAND_EVENTS.has(next.eventType));
    if (events.slice(at + 1, end < 0 ? undefined : end).some(isAnyPatchMarker)) points.set(`patch@${e.eventId}`, at);
  });
  for (const [point, at] of points) if (at < 0 || !COMMAND_EVENTS.has(events[at + 1]?.eventType ?? '')) points.delete(point);
  return points;
}

/**
 * The history split after the local-activity marker at `at`: the marker's workflow task ends after it, and a new task
 * (scheduled, started, completed) records the commands that followed it.
 */
function splitAfter(events: JsonEvent[], at: number): JsonEvent[] {
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

/** Replays each history split at each of its split points; results by `<file>@<point>`. */
async function replaySplit(files: string[]): Promise<Map<string, ReplayResult>> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const histories = files.flatMap((file) => {
    const events = loadEvents(file);
    return [...splitPoints(events)].map(([point, at]) => ({ workflowId: `${file}@${point}`, history: historyFromJSON({ events: splitAfter(events, at) }) }));
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
  const current = SCENARIOS.map((s) => `${s.name}.json`).filter((f) => splitPoints(loadEvents(f)).size > 0);
  let results: Map<string, ReplayResult>;
  // One replay worker (one workflow bundle) for every split history.
  before(async () => {
    results = await replaySplit([...BEFORE_THE_FLAGS.keys(), ...current]);
  });

  it('fails on the histories from before ftpipe-monitor-flags that decide a patch right after the poll', () => {
    for (const [file, patch] of BEFORE_THE_FLAGS) assert.match(String(results.get(`${file}@monitor`)?.error), new RegExp(`Non-deprecated patch marker encountered for change ${patch},`), file);
  });

  it('keeps the history of a run whose replay failed so (test/helpers/history-evidence.ts)', async () => {
    const [file] = [...BEFORE_THE_FLAGS.keys()] as [string];
    const events = loadEvents(file);
    const history = historyFromJSON({ events: splitAfter(events, splitPoints(events).get('monitor')!) });
    const handle = { workflowId: 'split-run', fetchHistory: () => Promise.resolve(history) } as unknown as WorkflowHandle;
    const artifacts = mkdtempSync(join(tmpdir(), 'ftpipe-artifacts-'));
    process.env.FTPIPE_TEST_ARTIFACTS = artifacts;
    try {
      const error = results.get(`${file}@monitor`)?.error;
      assert.ok(error instanceof Error, `${file} failed to replay`);
      await assert.rejects(keepHistoryOnFailure(handle, () => Promise.reject(error)), DeterminismViolationError);
    } finally {
      delete process.env.FTPIPE_TEST_ARTIFACTS;
    }
    const kept = historyFromJSON(JSON.parse(readFileSync(join(artifacts, 'histories', 'split-run.json'), 'utf8')));
    assert.equal(kept.events?.length, history.events?.length);
  });

  it('replays every recorded history with the monitor flags split that way', () => {
    for (const file of ['pipeline-stopped-early.json', 'pipeline-stopped-at-budget.json']) assert.ok(results.has(`${file}@monitor`), `${file} is split after the monitor's first poll`);
    assert.equal(results.size, current.reduce((n, f) => n + splitPoints(loadEvents(f)).size, BEFORE_THE_FLAGS.size));
    for (const [split, result] of results) if (!BEFORE_THE_FLAGS.has(split.split('@')[0]!)) assert.equal(result.error, undefined, `${split}: ${String(result.error)}`);
  });

  it('asks ahead only patches the workflow code asks at their sites (a misspelt id would leave its site unguarded)', () => {
    const dir = join(__dirname, '..', '..', 'workflows');
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const id of PATCHES_ASKED_AHEAD) assert.ok(sources.includes(`patched('${id}')`), `${id} is asked ahead but no workflow code asks patched('${id}')`);
  });
});
