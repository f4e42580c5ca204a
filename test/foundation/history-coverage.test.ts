/**
 * The recorded histories (test/histories) are what the replay test checks a workflow change against: a path no
 * history takes is a path whose nondeterminism passes CI unnoticed. So together they must schedule every activity,
 * and record every workflow type, that the code has; both sets are read from the code, never listed here. The
 * histories kept from before a patch (test/histories/earlier) count too: replay.test.ts replays them, and they alone
 * take a patch's old branch (e.g. preflight as an activity, before `ftpipe-local-preflight`) once every scenario on
 * that branch is re-recorded.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { createActivities } from '../../activities';
import { createLogger } from '../../src/logging';
import * as workflows from '../../workflows';
import { PIPELINE_WORKFLOW_TYPE, PLAN_WORKFLOW_TYPE } from '../../workflows/messages';

const ROOT = join(__dirname, '..', '..');
const HISTORIES = join(ROOT, 'test', 'histories');
const EARLIER = 'earlier';

interface RecordedHistory {
  file: string;
  workflowType: string;
  /** Activities the history runs: scheduled as activity tasks, or run locally (a local activity's marker). */
  activities: Set<string>;
  localActivities: Set<string>;
}

interface HistoryJson {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
    markerRecordedEventAttributes?: { markerName?: string; details?: { data?: { payloads?: { data?: string }[] } } };
  }[];
}

/** The activity type a local activity's marker names (the SDK writes the marker's data as plain JSON, base64 in the file). */
function localActivityOf(event: HistoryJson['events'][number]): string[] {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  const type = data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { activity_type?: string }).activity_type : undefined;
  return type ? [type] : [];
}

function recordedHistories(): RecordedHistory[] {
  const current = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();
  const earlier = readdirSync(join(HISTORIES, EARLIER)).filter((f) => f.endsWith('.json')).sort().map((f) => join(EARLIER, f));
  return [...current, ...earlier].map((file) => {
    const { events } = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as HistoryJson;
    const workflowType = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    assert.ok(workflowType, `${file}: the first event starts a workflow`);
    const localActivities = new Set(events.flatMap(localActivityOf));
    return { file, workflowType, activities: new Set([...events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []), ...localActivities]), localActivities };
  });
}

/** The activities the worker registers: the keys of the object it is given (building it touches no Azure). */
function registeredActivities(): string[] {
  return Object.keys(createActivities({ config: { profiles: [] }, logger: createLogger({ level: 'silent' }), version: 'coverage' })).sort();
}

/**
 * The members of the pipeline's activity stubs, as TypeScript types them (`PipelineActivities`, what activitiesFor
 * returns): a workflow cannot be given an activity outside that type, and calling activitiesFor needs a workflow context.
 */
function pipelineStubActivities(typeName = 'PipelineActivities'): string[] {
  const file = join(ROOT, 'workflows', 'activity-stubs.ts');
  // The member names are the file's own: its imports need not be read (seconds saved on every run).
  const program = ts.createProgram([file], { noResolve: true, types: [], noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  const stubs = module && checker.getExportsOfModule(module).find((s) => s.name === typeName);
  assert.ok(stubs, `${file} exports the type ${typeName} (the pipeline's activity stubs)`);
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(stubs)).map((p) => p.name).sort();
}

/** The workflow types the worker registers: the functions workflows/index.ts exports. */
function registeredWorkflowTypes(): string[] {
  return Object.entries(workflows).filter(([, value]) => typeof value === 'function').map(([name]) => name).sort();
}

function missing(expected: string[], histories: RecordedHistory[]): string[] {
  return expected.filter((name) => !histories.some((h) => h.activities.has(name)));
}

describe('the recorded histories cover the workflows\' code', () => {
  const histories = recordedHistories();

  it('schedule every activity of the pipeline\'s stubs, in the histories of the workflows built on them', () => {
    const stubs = pipelineStubActivities();
    assert.ok(stubs.length >= 20 && stubs.includes('createFineTuningJob'), `the stubs were read: ${stubs.join(', ')}`);
    // fineTunePipeline and planPipeline (ftpipe run --dry-run) take their activities from these stubs.
    const onStubs = histories.filter((h) => h.workflowType === PIPELINE_WORKFLOW_TYPE || h.workflowType === PLAN_WORKFLOW_TYPE);
    assert.deepEqual(missing(stubs, onStubs), [], 'record a scenario (test/histories/scenarios.ts) that schedules these');
  });

  it('run every local activity of the pipeline\'s local stubs locally', () => {
    const local = pipelineStubActivities('PipelineLocalActivities');
    assert.ok(local.includes('pollFineTuningJob'), `the local stubs were read: ${local.join(', ')}`);
    const pipelines = histories.filter((h) => h.workflowType === 'fineTunePipeline');
    assert.deepEqual(local.filter((name) => !pipelines.some((h) => h.localActivities.has(name))), [], 'record a scenario (test/histories/scenarios.ts) that runs these');
  });

  it('schedule every activity the worker registers, and none it does not', () => {
    const registered = registeredActivities();
    assert.ok(registered.includes('describeWorker') && registered.includes('closedWorkflows'), registered.join(', '));
    assert.deepEqual(missing(registered, histories), [], 'record a scenario (test/histories/scenarios.ts) that schedules these');
    for (const h of histories) {
      assert.deepEqual([...h.activities].filter((a) => !registered.includes(a)), [], `${h.file} schedules activities the worker no longer registers: re-record it`);
    }
  });

  it('record every workflow type the worker registers, and no other', () => {
    const types = registeredWorkflowTypes();
    assert.ok(types.includes(PIPELINE_WORKFLOW_TYPE), types.join(', '));
    const recorded = new Set(histories.map((h) => h.workflowType));
    assert.deepEqual(types.filter((t) => !recorded.has(t)), [], 'record a scenario for these workflow types');
    assert.deepEqual([...recorded].filter((t) => !types.includes(t)), [], 'histories of workflow types the worker no longer registers');
  });

  it('count the histories kept from before a patch', () => {
    assert.ok(histories.some((h) => h.file.startsWith(`${EARLIER}/`)), histories.map((h) => h.file).join(', '));
  });

  it('fail when an activity has no recording', () => {
    assert.deepEqual(missing(['anActivityNoScenarioSchedules'], histories), ['anActivityNoScenarioSchedules']);
  });
});
