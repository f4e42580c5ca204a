/**
 * Whatever a caller sends, no workflow task fails: bad inputs close the run at once as InvalidPipelineInput, bad
 * signals are recorded as refused, bad updates and queries are refused. Payloads go in raw through the Temporal client
 * (JSON, no ftpipe validation), the path the Web UI and `temporal workflow start` take.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { approveSignal, PIPELINE_WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import { usePipelineStack } from '../helpers/pipeline';

/** Generous: a closed run or a refusal is expected in well under a second; this only bounds a wedged run. */
const BOUND_MS = 60_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${BOUND_MS} ms (wedged?)`)), BOUND_MS);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

async function workflowTaskFailures(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? '?');
}

describe('the workflow boundary: no input wedges a run', () => {
  const env = usePipelineStack();

  it('fails every bad workflow input at once as InvalidPipelineInput naming the field, with no workflow task failure', async () => {
    const valid = env.input() as Record<string, unknown>;
    const withKey = (key: string, value: unknown): Record<string, unknown> => ({ ...valid, [key]: value });
    const manyKeys = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`unknown${i}`, i]));
    const cases: { name: string; args: unknown[]; issue: RegExp }[] = [
      { name: 'null', args: [null], issue: /\(input\): expected one JSON object.*got null/ },
      { name: 'no argument', args: [], issue: /got no input/ },
      { name: 'a string', args: ['{"runName": "x"}'], issue: /got a string/ },
      { name: 'a number', args: [42], issue: /got a number/ },
      { name: 'a boolean', args: [true], issue: /got a boolean/ },
      { name: 'an array', args: [[valid]], issue: /got an array/ },
      { name: 'an empty object', args: [{}], issue: /runName: .*profile: .*baseModel: .*training: / },
      { name: 'continuation: {}', args: [withKey('continuation', {})], issue: /continuation: not an input field/ },
      { name: 'a forged continuation', args: [withKey('continuation', { fromRunId: 'forged', status: {}, preflight: {}, lastEventId: null, startedAtSeconds: 0, copyRequests: [] })], issue: /continuation: not an input field/ },
      { name: 'continuation: null', args: [withKey('continuation', null)], issue: /continuation: not an input field/ },
      { name: 'an unknown key', args: [withKey('trainingFile', 'x.jsonl')], issue: /trainingFile/ },
      { name: 'an unknown nested key', args: [withKey('training', { path: 'x.jsonl', format: 'jsonl' })], issue: /training: Unrecognized key: "format"/ },
      { name: 'an unknown key in polling', args: [withKey('polling', { everySeconds: 1 })], issue: /polling: .*everySeconds/ },
      { name: 'polling of the wrong type', args: [withKey('polling', { queuedIntervalSeconds: 'fast' })], issue: /polling\.queuedIntervalSeconds: / },
      { name: 'runName null', args: [withKey('runName', null)], issue: /runName: / },
      { name: 'a huge runName', args: [withKey('runName', 'r'.repeat(300_000))], issue: /runName: / },
      { name: 'a huge profile', args: [withKey('profile', 'p'.repeat(100_000))], issue: /profile: / },
      { name: 'training null', args: [withKey('training', null)], issue: /training: / },
      { name: 'training a string', args: [withKey('training', 'examples/data/bike-shop-train.jsonl')], issue: /training: / },
      { name: 'a percent-encoded SAS signature', args: [withKey('training', { url: 'https://acct.blob.core.windows.net/c/train.jsonl?sv=2024&%73ig=abc' })], issue: /training\.url: the URL carries a SAS signature/ },
      { name: 'userinfo in a URL', args: [withKey('training', { url: 'https://user:password@acct.blob.core.windows.net/c/train.jsonl' })], issue: /training\.url: the URL carries a user name or password/ },
      { name: 'a SAS se+sp set', args: [withKey('training', { url: 'https://acct.blob.core.windows.net/c/train.jsonl?SE=2030-01-01&SP=r' })], issue: /training\.url: the URL carries a SAS token/ },
      { name: 'a token parameter', args: [withKey('training', { url: 'https://example.com/train.jsonl?Access_Token=abc' })], issue: /training\.url: the URL carries a credential-like parameter/ },
      { name: 'a key parameter, percent-encoded twice', args: [withKey('training', { url: 'https://example.com/train.jsonl?%2561pi-Key=abc' })], issue: /training\.url: the URL carries a credential-like parameter \(api-key=\)/ },
      { name: 'a token in the fragment', args: [withKey('training', { url: 'https://example.com/train.jsonl#access_token=abc' })], issue: /training\.url: the URL carries a credential-like parameter/ },
      { name: 'a SAS URL in metadata', args: [withKey('metadata', { source: 'https://acct.blob.core.windows.net/c/f?SIG=abc' })], issue: /metadata\.source: the URL carries a SAS signature/ },
      { name: 'an unknown method', args: [withKey('method', { type: 'magic' })], issue: /method/ },
      { name: 'method null', args: [withKey('method', null)], issue: /method: / },
      { name: 'nEpochs out of range', args: [withKey('hyperparameters', { nEpochs: -1 })], issue: /hyperparameters\.nEpochs: / },
      { name: 'a fractional seed', args: [withKey('seed', 1.5)], issue: /seed: / },
      { name: 'copies a string', args: [withKey('copies', 'eastus')], issue: /copies: / },
      { name: 'a copy without fields', args: [withKey('copies', [{}])], issue: /copies\.0\.destinationResourceId: / },
      { name: 'an unknown key in deployment', args: [withKey('deployment', { name: 'x', autoscale: true })], issue: /deployment: .*autoscale/ },
      { name: 'no graders', args: [withKey('evaluation', { graders: [] })], issue: /evaluation\.graders: / },
      { name: 'an empty lineage name', args: [withKey('lineage', { name: '' })], issue: /lineage\.name: / },
      { name: 'an unknown cleanup policy', args: [withKey('cleanup', { uploadedFiles: 'sometimes' })], issue: /cleanup\.uploadedFiles: / },
      { name: 'a zero heartbeat', args: [withKey('timeouts', { heartbeatSeconds: 0 })], issue: /timeouts\.heartbeatSeconds: / },
      { name: 'two thousand unknown keys', args: [{ ...valid, ...manyKeys }], issue: /unknown0/ },
      { name: 'deep garbage', args: [withKey('x', { a: { b: { c: { d: [null, [], { e: 'f' }] } } } })], issue: /\(input\): Unrecognized key: "x"/ },
      { name: 'metadata of the wrong type', args: [withKey('metadata', ['a', 'b'])], issue: /metadata: / },
    ];
    assert.ok(cases.length >= 35);

    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handles = await Promise.all(
        cases.map((c, i) => env.temporal.client.workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId: `boundary-${i}-${taskQueue}`, args: c.args })),
      );
      await Promise.all(cases.map(async (c, i) => {
        const handle = handles[i]!;
        const err = await within(handle.result().then(() => undefined, (e: unknown) => e), c.name);
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, `${c.name}: the run fails with an ApplicationFailure, got ${String(err)}`);
        const failure = err.cause;
        assert.equal(failure.type, 'InvalidPipelineInput', c.name);
        assert.equal(failure.nonRetryable, true, c.name);
        assert.match(failure.message, c.issue, c.name);
        assert.ok(failure.message.length < 10_000, `${c.name}: the failure stays small (${failure.message.length} chars)`);
        assert.deepEqual(await workflowTaskFailures(handle), [], `${c.name}: no workflow task failed`);
      }));
    });
  });

  it('refuses bad signals (recorded with the reason), bad updates and bad queries, and the run goes on', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'boundary', type: 'GlobalStandard', requireApproval: true } }));
      await env.waitForStatus(handle, (s) => s.stage === 'await_approval', BOUND_MS);

      const signals: [string, unknown[]][] = [
        ['pause', [null]], ['pause', ['now']], ['pause', [{ by: 5 }]], ['pause', [{ who: 'x' }]], ['pause', [{ by: 'x'.repeat(10_000) }]],
        ['resume', [null]], ['resume', [[]]],
        ['approve', [null]], ['approve', [{ by: {} }]], ['approve', [{ by: 'a', extra: 1 }]],
        ['reject', [null]], ['reject', [7]],
        ['copyToRegion', [null]], ['copyToRegion', [{}]], ['copyToRegion', []], ['copyToRegion', [{ destinationResourceId: 'x', region: 'eastus' }]],
      ];
      for (const [name, args] of signals) await handle.signal(name, ...args);
      const status = await env.waitForStatus(handle, (s) => s.requests.length >= signals.length, BOUND_MS);
      assert.equal(status.stage, 'await_approval', 'no bad approve or reject was taken for a decision');
      assert.equal(status.approval, null);
      assert.deepEqual(status.requests.map((r) => [r.kind, r.via, r.state]), signals.map(([name]) => [name, 'signal', 'refused']));
      for (const request of status.requests) assert.ok(request.reason && request.reason.length > 0 && request.reason.length < 2_000, JSON.stringify(request));
      assert.match(status.requests[0]!.reason!, /expected one JSON object, got null/);
      assert.match(status.requests[2]!.reason!, /by: /);
      assert.match(status.requests[3]!.reason!, /who/);

      const updates: [string, unknown[]][] = [
        ['pauseRun', [null]], ['resumeRun', ['x']], ['approveRun', [null]], ['rejectRun', [{ x: 1 }]], ['copyToRegionRun', [null]], ['copyToRegionRun', [{}]],
      ];
      for (const [name, args] of updates) {
        await within(assert.rejects(handle.executeUpdate(name, { args: args as [unknown] }), (err: Error) => err instanceof WorkflowUpdateFailedError, name), name);
      }
      for (const args of [['x'], [{ a: 1 }], [[]]]) {
        await within(assert.rejects(handle.query(statusQuery.name, ...args), /status query takes/), `status ${JSON.stringify(args)}`);
      }
      assert.equal((await handle.query(statusQuery)).stage, 'await_approval');
      // Refused by their validators: no bad update was accepted into history.
      const accepted = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      assert.deepEqual(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name), []);

      // Still steerable: a good decision goes through.
      await handle.signal(approveSignal, { by: 'alice' });
      const result = await within(handle.result(), 'the approved run');
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.approval?.by, 'alice');
      assert.deepEqual(await workflowTaskFailures(handle), []);
    });
  });
});
