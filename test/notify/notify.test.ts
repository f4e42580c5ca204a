/**
 * Run notifications against a local HTTP receiver, on the dev server and the emulator: the generic JSON, Slack and
 * Teams shapes when a run awaits approval (scores, approve links) and succeeds, is cancelled or fails; HMAC-signed;
 * a dead webhook is retried a bounded number of times and never holds the run; credential URLs refused in inputs.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { PipelineInputError, parsePipelineInput } from '../../src/pipeline/input';
import { parseWorkerConfig } from '../../src/config/worker-config';
import { ROOT } from '../helpers/cli';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../helpers/http-receiver';
import { usePipelineStack } from '../helpers/pipeline';
import { approveUpdate, statusQuery } from '../../workflows/messages';

const SECRET = 'test-signing-key';
const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20, copySeconds: 60 };

type Received = ReceivedRequest<Record<string, unknown>>;

function verify(r: Received): void {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['x-ftpipe-signature']));
  assert.ok(match, `signed: ${String(r.headers['x-ftpipe-signature'])}`);
  assert.equal(match[2], createHmac('sha256', SECRET).update(`${match[1]}.${r.text}`).digest('hex'));
}

describe('run notifications', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });
  let receiver: HttpReceiver<Record<string, unknown>>;
  before(async () => {
    receiver = await startHttpReceiver({ status: (path) => (path === '/dead' ? 500 : 200) });
  });
  after(() => receiver?.close());

  const worker = (taskQueue: string) =>
    env.temporal.createWorker({
      taskQueue,
      config: {
        ...env.config,
        notify: parseWorkerConfig({ notify: {
          webUiUrl: 'http://ui.example:8233',
          signingSecretEnv: 'TEST_NOTIFY_SECRET',
          webhooks: [
            { name: 'ops-slack', urlEnv: 'TEST_SLACK_URL', format: 'slack', events: ['awaiting_approval'] },
            { name: 'ops-teams', url: `${receiver.url}/teams`, format: 'teams' },
            { name: 'everyone', url: `${receiver.url}/default`, default: true },
          ],
        } }, 'test').notify!,
      },
      env: { ...env.workerEnv, TEST_NOTIFY_SECRET: SECRET, TEST_SLACK_URL: `${receiver.url}/slack` },
    });
  const arrived = async (predicate: (r: Received) => boolean): Promise<Received> => {
    for (;;) {
      const found = receiver.received.find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('tells the webhooks when a run awaits approval (scores, links) and succeeds, in the JSON, Slack and Teams shapes, signed; a dead webhook never holds the run', async () => {
    const taskQueue = env.temporal.taskQueue();
    const w = await worker(taskQueue);
    await w.runUntil(async () => {
      const input = env.input({
        evaluation: { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' } },
        deployment: { name: 'notified', requireApproval: true, type: 'GlobalStandard' },
        notify: [{ url: `${receiver.url}/generic` }, { webhook: 'ops-slack' }, { webhook: 'ops-teams' }, { url: `${receiver.url}/dead` }],
      });
      const handle = await env.start(taskQueue, input);
      const generic = await arrived((r) => r.path === '/generic' && r.body.event === 'awaiting_approval');
      const slack = await arrived((r) => r.path === '/slack');
      const teams = await arrived((r) => r.path === '/teams' && JSON.stringify(r.body).includes('awaits approval'));
      for (const r of [generic, slack, teams]) verify(r);

      assert.equal(generic.body.type, 'ftpipe.run.awaiting_approval');
      assert.equal(generic.body.runName, input.runName);
      assert.equal(generic.body.workflowId, handle.workflowId);
      const scores = generic.body.scores as { kind: string; score: number }[];
      assert.ok(scores.some((s) => s.kind === 'baseline') && scores.filter((s) => s.kind === 'candidate').length >= 1, JSON.stringify(scores));
      assert.ok((generic.body.chosenCheckpoint as { model: string }).model.includes(':ckpt-step-') || (generic.body.chosenCheckpoint as { model: string }).model.includes('.ft-'));
      const links = generic.body.links as { webUi: string; approve: string; reject: string };
      assert.equal(links.approve, `ftpipe approve ${handle.workflowId} --by NAME`);
      assert.match(links.reject, /^ftpipe reject /);
      assert.ok(links.webUi.startsWith(`http://ui.example:8233/namespaces/default/workflows/${handle.workflowId}/`), links.webUi);
      assert.equal(generic.headers['x-ftpipe-delivery'], `${handle.workflowId}/${(generic.body.runId as string)}/awaiting_approval/0`);

      assert.match(String(slack.body.text), new RegExp(`ftpipe run ${input.runName} awaits approval`));
      assert.ok(Array.isArray(slack.body.blocks));
      const card = (teams.body.attachments as { contentType: string; content: { type: string; body: { text: string }[] } }[])[0]!;
      assert.equal(teams.body.type, 'message');
      assert.equal(card.contentType, 'application/vnd.microsoft.card.adaptive');
      assert.ok(card.content.body.some((b) => b.text.startsWith('approve: ftpipe approve')));

      // The run waits for its approver, not for the dead webhook.
      assert.equal((await handle.query(statusQuery)).stage, 'await_approval');
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'erin' }] });
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      const done = await arrived((r) => r.path === '/generic' && r.body.event === 'succeeded');
      verify(done);
      assert.equal(done.body.outcome, 'succeeded');
      assert.deepEqual(done.body.deployments, ['notified-v1']);
      assert.equal(receiver.received.filter((r) => r.path === '/slack').length, 1, 'the Slack webhook takes only awaiting_approval');
      assert.equal(receiver.received.filter((r) => r.path === '/default').length, 0, 'an input with notify replaces the default webhooks');
      const dead = receiver.received.filter((r) => r.path === '/dead' && r.body.event === 'awaiting_approval').length;
      assert.equal(dead, 4, 'retried a bounded number of times');
      const errors = (await handle.query(statusQuery)).errors.map((e) => e.message);
      assert.ok(errors.some((m) => m.startsWith('notification awaiting_approval not delivered: notify[3]: HTTP 500')), errors.join('\n'));
      assert.ok(!errors.join('\n').includes(receiver.url), 'no URL in the errors');
    });
  });

  it('sends the default webhooks for cancelled and failed runs', async () => {
    const taskQueue = env.temporal.taskQueue();
    const w = await worker(taskQueue);
    await w.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'cancelled', requireApproval: true, type: 'GlobalStandard' } }));
      await arrived((r) => r.path === '/default' && r.body.workflowId === handle.workflowId && r.body.event === 'awaiting_approval');
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      const cancelled = await arrived((r) => r.path === '/default' && r.body.workflowId === handle.workflowId && r.body.event === 'cancelled');
      verify(cancelled);
      assert.equal(cancelled.body.stage, 'cancelled');

      const failing = await env.start(taskQueue, env.input({ profile: 'no-such-profile' }));
      await assert.rejects(failing.result(), WorkflowFailedError);
      const failed = await arrived((r) => r.path === '/default' && r.body.workflowId === failing.workflowId && r.body.event === 'failed');
      assert.match(String(failed.body.reason), /unknown Azure profile "no-such-profile"/);
    });
  });

  it('refuses webhook URLs that are credentials in inputs, and checks the worker configuration', () => {
    const base = { runName: 'n', profile: 'p', baseModel: 'gpt-4.1-mini', training: { path: 'a.jsonl' } };
    const refused = (notify: unknown): string => {
      try {
        parsePipelineInput({ ...base, notify });
      } catch (err) {
        assert.ok(err instanceof PipelineInputError);
        return err.message;
      }
      return assert.fail('accepted');
    };
    assert.match(refused([{ url: 'https://hooks.slack.com/services/T0/B0/abcdef' }]), /notify\.0\.url: this webhook URL is itself a credential/);
    assert.match(refused([{ url: 'https://contoso.webhook.office.com/webhookb2/x/IncomingWebhook/y/z' }]), /notify\.0\.url: this webhook URL is itself a credential/);
    assert.match(refused([{ url: 'https://bob:hunter2@hooks.example.com/x' }]), /notify\.0\.url: the URL carries a user name or password/);
    assert.match(refused([{ url: 'https://hooks.example.com/x?token=abc' }]), /notify\.0\.url: the URL carries a credential-like parameter/);
    assert.match(refused([{ url: 'https://hooks.example.com/x', webhook: 'ops' }]), /notify\.0: give exactly one of "url" and "webhook"/);
    assert.equal(parsePipelineInput({ ...base, notify: [{ url: 'https://hooks.example.com/ftpipe' }] }).notify?.[0]?.format, 'json');
    assert.throws(() => parseWorkerConfig({ notify: { webhooks: [{ name: 'x' }] } }, 'cfg.yaml'), /cfg\.yaml: invalid ftpipe configuration: notify\.webhooks\.0: give exactly one of "url" and "urlEnv"/);
  });
});
