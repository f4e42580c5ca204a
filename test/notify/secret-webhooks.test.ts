/**
 * Webhook URLs that are credentials, of the hosts refused since runs took them (Discord, Zapier, IFTTT; src/notify/schema.ts
 * moreSecretWebhookIssues): the client refuses them before a start, a new run fails at its boundary, and a recorded run
 * that took one replays as it ran.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { PipelineInputError, parsePipelineInput, safeParsePipelineInput } from '../../src/pipeline/input';
import { WORKFLOW_BUNDLER_OPTIONS } from '../../src/stack/workflow-bundle';
import { WORKFLOW_INTERCEPTORS_MODULE, setupTracing, workflowSpanSinks } from '../../src/telemetry/tracing';
import { PIPELINE_WORKFLOW_TYPE } from '../../workflows/messages';
import { testWorkflowSource, useTemporal } from '../helpers/temporal';

const BASE = { runName: 'hooks', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'a.jsonl' } };
const DISCORD = 'https://discord.com/api/webhooks/123456/abcDEF-token/slack';

describe('webhook URLs that are credentials (Discord, Zapier, IFTTT)', () => {
  const env = useTemporal();

  it('are refused by the client, naming the field; the schema a recorded run was parsed with still takes them', () => {
    const urls = [DISCORD, 'https://ptb.discordapp.com/api/webhooks/1/x', 'https://hooks.zapier.com/hooks/catch/123/abc/', 'https://maker.ifttt.com/trigger/done/with/key/k3y'];
    for (const url of urls) {
      const notify = [{ url: 'https://ops.example/hook' }, { url, format: 'slack' }];
      assert.throws(() => parsePipelineInput({ ...BASE, notify }), (err: unknown) => {
        assert.ok(err instanceof PipelineInputError, String(err));
        assert.deepEqual(err.issues.map((i) => i.split(': ')[0]), ['notify.1.url'], url);
        assert.match(err.issues[0]!, /is itself a credential \(Discord, Zapier and IFTTT put the secret in the path\).*notify\.webhooks/);
        return true;
      });
      assert.equal(safeParsePipelineInput({ ...BASE, notify }).success, true, url);
    }
    assert.equal(parsePipelineInput({ ...BASE, notify: [{ url: 'https://discord.example.org/hook' }] }).notify?.length, 1, 'another host is taken');
  });

  it('fail a new run at once (InvalidPipelineInput naming the field); a run recorded with one replays unchanged', async () => {
    const taskQueue = env.taskQueue();
    const worker = await env.createWorker({ taskQueue });
    const err = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue, workflowId: `secret-hook-${taskQueue}`, args: [{ ...BASE, notify: [{ url: DISCORD }] }] });
      return handle.result().then(() => undefined, (e: unknown) => e);
    });
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'InvalidPipelineInput');
    assert.match(err.cause.message, /^invalid pipeline input: notify\.0\.url: this webhook URL is itself a credential/);

    // A run from before (no marker of the patch) that took such a URL: the recorded succeeded run, given one.
    const recorded = JSON.parse(readFileSync(join(__dirname, '..', 'histories', 'pipeline-succeeded.json'), 'utf8')) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[] };
    const payload = recorded.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
    payload.data = Buffer.from(JSON.stringify({ ...input, notify: [{ url: DISCORD, format: 'slack' }] })).toString('base64');
    const source = testWorkflowSource();
    const code = 'workflowBundlePath' in source
      ? { workflowBundle: { codePath: source.workflowBundlePath } }
      : { workflowsPath: source.workflowsPath, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS, interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_MODULE] } };
    await Worker.runReplayHistory({ ...code, sinks: workflowSpanSinks(setupTracing({ serviceName: 'replay' })) }, historyFromJSON(recorded), 'recorded-with-discord-hook');
  });
});
