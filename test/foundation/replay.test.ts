import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { AdmissionNotice } from '../../src/admission/types';
import { DEFAULT_API_KEYS, DEFAULT_TOKEN } from '../../src/emulator';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../src/stack/workflow-bundle';
import { WORKFLOW_INTERCEPTORS_MODULE, setupTracing, workflowSpanSinks } from '../../src/telemetry/tracing';
import { SCENARIOS } from '../histories/scenarios';
import { testWorkflowSource } from '../helpers/temporal';

const HISTORIES = join(__dirname, '..', 'histories');
/**
 * Histories recorded by earlier workflow code, kept when their scenario was re-recorded after a patch(): runs open
 * since then still take the unpatched branch, so they must replay too. Named `<scenario>.before-<patch id>.json`.
 */
const EARLIER = 'earlier';

function loadHistory(file: string) {
  return historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')));
}

describe('recorded workflow histories replay on the current workflow code', () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();
  const earlier = readdirSync(join(HISTORIES, EARLIER)).filter((f) => f.endsWith('.json')).sort().map((f) => join(EARLIER, f));
  const all = [...files, ...earlier];

  it('has a recorded history for every scenario', () => {
    assert.deepEqual(files, SCENARIOS.map((s) => `${s.name}.json`).sort());
    for (const file of earlier) assert.ok(SCENARIOS.some((s) => basename(file).startsWith(`${s.name}.before-`)), `${file}: named <scenario>.before-<patch id>.json`);
  });

  it('replays each history without nondeterminism', async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const histories = all.map((file) => ({ workflowId: file, history: loadHistory(file) }));
    const results: ReplayResult[] = [];
    // The workflow code every worker runs: the test run's bundle (src/stack/workflow-bundle.ts, as `npm run build` makes
    // it), or the sources bundled alike when this file runs on its own. With the workflow interceptors, the preloaded
    // modules and the module optimizations (tracing; the schemas shared between executions; fewer modules per
    // execution), so a change they cause to old histories fails here.
    const source = testWorkflowSource();
    const code = 'workflowBundlePath' in source
      ? { workflowBundle: { codePath: source.workflowBundlePath } }
      : { workflowsPath: source.workflowsPath, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS, interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_MODULE] } };
    for await (const result of Worker.runReplayHistories({ ...code, sinks: workflowSpanSinks(setupTracing({ serviceName: 'replay' })) }, histories)) {
      results.push(result);
    }
    assert.equal(results.length, all.length);
    for (const result of results) assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
  });

  it('hold no secret and no training content: only paths, ids and hashes', () => {
    const secrets = [...Object.values(DEFAULT_API_KEYS), DEFAULT_TOKEN];
    const trainingText = ['Quill is a precise assistant', 'Every 150 to 300 km', 'carbon assembly paste'];
    for (const file of all) {
      const text = readFileSync(join(HISTORIES, file), 'utf8');
      for (const needle of [...secrets, ...trainingText]) assert.ok(!text.includes(needle), `${file} contains "${needle}"`);
    }
  });

  // Why the approval path replays however many awaits lie after the decision: under the patch, the run waits for the
  // deciding update to finish (workflows/post-training.ts awaitApproval), so its answer is recorded before the next
  // stage's commands. Without it the order followed the microtasks between the decision and setStage('cleanup').
  it('records an approval update\'s answer before the stage it leads to, in histories with ftpipe-approval-settled', () => {
    type Event = { eventType: string; markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: string }[] }> }; workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest?: { input?: { name?: string } } }; upsertWorkflowSearchAttributesEventAttributes?: { searchAttributes?: { indexedFields?: Record<string, unknown> } } };
    const decode = (data: string | undefined): string => (data ? Buffer.from(data, 'base64').toString('utf8') : '');
    let checked = 0;
    for (const file of files) {
      const events = (JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { events: Event[] }).events;
      const settled = events.some((e) => decode(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data).includes('"ftpipe-approval-settled"'));
      const accepted = events.findIndex((e) => ['approveRun', 'rejectRun'].includes(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? ''));
      if (!settled || accepted < 0) continue;
      const completed = events.findIndex((e, i) => i > accepted && e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
      const nextStage = events.findIndex((e, i) => i > accepted && e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.FtpipeStage !== undefined);
      assert.ok(completed > accepted && completed < nextStage, `${file}: the approval update completes (event ${completed}) before the next stage (event ${nextStage})`);
      checked++;
    }
    assert.ok(checked >= 1, 'a recorded approval update under the patch (pipeline-approval-rejected)');
  });

  // The grant in the join's reply (workflows/admission.ts joinQueue, workflows/slots.ts applyReply) is recorded only in
  // the update's outcome and the join's local-activity result: a change to either side's path fails replay only if
  // some history takes it. admission-join-queue (the queue) and pipeline-waited-for-slot (a run) are recorded for it.
  it('take both answers of the joinQueue update, on the queue\'s side and on a run\'s', () => {
    type Payloads = { payloads?: { data?: string }[] };
    type Event = {
      workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
      workflowExecutionUpdateAcceptedEventAttributes?: { protocolInstanceId?: string; acceptedRequest?: { input?: { name?: string } } };
      workflowExecutionUpdateCompletedEventAttributes?: { meta?: { updateId?: string }; outcome?: { success?: Payloads } };
      markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, Payloads> };
    };
    const json = (p: Payloads | undefined): unknown => {
      const data = p?.payloads?.[0]?.data;
      return data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
    };
    const answers = { queue: new Set<string>(), run: new Set<string>(), deploymentSlot: new Set<string>() };
    for (const file of files) {
      const events = (JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { events: Event[] }).events;
      const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (type === 'resourceAdmission') {
        const joins = new Set(events.flatMap((e) => (e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'joinQueue' ? [e.workflowExecutionUpdateAcceptedEventAttributes.protocolInstanceId] : [])));
        for (const e of events) {
          const completed = e.workflowExecutionUpdateCompletedEventAttributes;
          if (completed && joins.has(completed.meta?.updateId)) answers.queue.add((json(completed.outcome?.success) as AdmissionNotice).state);
        }
      }
      for (const e of events) {
        const marker = e.markerRecordedEventAttributes;
        if (marker?.markerName !== 'core_local_activity' || (json(marker.details?.data) as { activity_type?: string }).activity_type !== 'joinAdmissionQueue') continue;
        const reply = (json(marker.details?.result) as { reply?: AdmissionNotice } | undefined)?.reply;
        if (reply) (reply.key === undefined ? answers.run : answers.deploymentSlot).add(reply.state);
      }
    }
    assert.deepEqual([...answers.queue].sort(), ['granted', 'waiting'], 'the queue answers a join granted, and waiting (admission-join-queue)');
    assert.deepEqual([...answers.run].sort(), ['granted', 'waiting'], 'a run is granted in the reply (pipeline-succeeded), and told to wait in it (pipeline-waited-for-slot)');
    assert.deepEqual([...answers.deploymentSlot], ['granted'], 'a deployment slot granted in the reply (pipeline-waited-for-slot)');
  });

  it('fails replay when the workflow code changed incompatibly', async () => {
    const changed = require.resolve('../fixtures/changed-workflows');
    await assert.rejects(
      Worker.runReplayHistory({ workflowsPath: changed }, loadHistory('check-worker.json'), 'check-worker'),
      DeterminismViolationError,
    );
  });
});
