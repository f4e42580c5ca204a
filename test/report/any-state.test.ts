/**
 * `ftpipe report <run>` for runs in every state, on the real dev server and the emulator: a paused run in training
 * (live curve, who paused), one awaiting approval, a rejected one (not promoted), a cancelled one and a failed one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runCli } from '../helpers/cli';
import { holdClockOnceTraining } from '../helpers/emulator-state';
import { usePipelineStack } from '../helpers/pipeline';
import { pauseUpdate } from '../../workflows/messages';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');

describe('ftpipe report <run> in any state', () => {
  const env = usePipelineStack();
  /** A slower emulated clock, for the tests that pause or fail a job while it trains. */
  const SLOW_CLOCK = 200;
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-report-states-'));
  const report = async (run: string): Promise<string> => {
    const out = join(dir, `${run}.html`);
    const cli = await runCli(['report', run, '--out', out, '--address', env.temporal.server.address]);
    assert.equal(cli.code, 0, cli.output);
    return readFileSync(out, 'utf8');
  };

  it('reports a paused run in training, then the same run cancelled', async () => {
    env.emulator.control.setClockScale(SLOW_CLOCK);
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 2 } }));
      // A stopped clock until the pause has reached Azure, so that the job still trains then.
      await holdClockOnceTraining(env.emulator, handle.workflowId, 180_000);
      await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
      await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
      env.emulator.control.setClockScale(SLOW_CLOCK);
      await env.waitForStatus(handle, (s) => s.job?.status === 'paused');

      const paused = await report(handle.workflowId);
      assert.match(paused, /class="badge running">in progress<\/span> Running \(stage train\)/);
      assert.match(paused, /The checkpoint is chosen once training ends; the curves show the metrics seen so far/);
      assert.ok(paused.includes('data-series="train loss"'), 'the live curve is drawn');
      assert.match(paused, /<td>pause<\/td><td>alice<\/td><td>update<\/td><td>done<\/td>/);
      assert.match(paused, /<tr class="ongoing"><td>train<\/td><td>[^<]+<\/td><td>[^<]+ so far<\/td>/);
      assert.match(paused, /<th><code>n_epochs<\/code><\/th><td>2<\/td>/);
      assert.match(paused, /not decided yet: the run is in stage train/);
      const early = await runCli(['approve', handle.workflowId, '--by', 'carol', '--address', env.temporal.server.address]);
      assert.equal(early.code, 1, early.output);
      assert.match(early.output, /refused: the run is not awaiting approval \(stage train\)/);

      await handle.cancel();
      await assert.rejects(handle.result());
      const cancelled = await report(handle.workflowId);
      assert.match(cancelled, /class="badge warn">final: cancelled<\/span> Final: the run was cancelled in stage train/);
      assert.match(cancelled, /<td>cancelled<\/td>/);
    });
  });

  it('reports a run awaiting approval (the evidence is final, the decision is not), then rejected', async () => {
    // The run waits in await_approval until the test decides: no job needs holding, so the fast clock.
    env.emulator.control.setClockScale(1000);
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({
        deployment: { name: 'approve-me', type: 'GlobalStandard', requireApproval: true },
        evaluation: { evalSet: { path: EVAL_SET }, baseline: { model: 'gpt-4.1-mini' }, minLift: -1 },
      }));
      const status = await env.waitForStatus(handle, (s) => s.stage === 'await_approval');
      const waiting = await report(handle.workflowId);
      assert.match(waiting, /class="badge running">awaiting approval<\/span> Awaiting approval: training and evaluation are final/);
      assert.ok(waiting.includes(`<strong>Chosen:</strong> <code>${status.evaluation!.analysis.chosen.model}</code>`));
      assert.match(waiting, /not decided yet: the run is in stage await_approval \(the evaluation recommends: /);
      // The approver's evidence: the chosen checkpoint against the baseline, the lift, and what approving costs per hour.
      const evidence = status.approvalEvidence!;
      assert.equal(evidence.chosen.model, status.evaluation!.analysis.chosen.model);
      assert.equal(evidence.baseline?.name, 'gpt-4.1-mini');
      assert.ok(evidence.score !== null && evidence.lift !== null && Math.abs(evidence.lift - (evidence.score - evidence.baseline.score)) < 1e-9, JSON.stringify(evidence));
      assert.equal(evidence.deploy.usdPerHour, 1.7);
      const pts = (n: number): string => `${n >= 0 ? '\\+' : '−'}${(Math.abs(n) * 100).toFixed(1)} pts`;
      assert.match(waiting, new RegExp(`<dt>the approver sees</dt><dd><code>[^<]+</code> \\(step ${evidence.chosen.step}\\); the chosen checkpoint scores [\\d.]+% vs baseline <code>gpt-4\\.1-mini</code> [\\d.]+%: lift ${pts(evidence.lift)} \\(required -100\\.0 pts\\)`));
      assert.match(waiting, /approving deploys<\/dt><dd>a new version of <code>approve-me<\/code> \(GlobalStandard x1\): \$1\.70\/hour while it exists/);

      const shown = await runCli(['status', handle.workflowId, '--address', env.temporal.server.address]);
      assert.match(shown.output, new RegExp(`chosen: ${status.evaluation!.analysis.chosen.model.replace(/[.:]/g, '\\$&')} \\(step \\d+\\): highest eval score`));
      assert.match(shown.output, /evaluation's decision: promote: /);
      assert.match(shown.output, /awaiting approval: ftpipe approve \S+ --by NAME, or ftpipe reject \S+ --by NAME --comment WHY/);
      assert.match(shown.output, new RegExp(`^ +eval: the chosen checkpoint scores ${evidence.score.toFixed(3)} vs baseline gpt-4\\.1-mini ${evidence.baseline.score.toFixed(3)}: lift [+-]${Math.abs(evidence.lift).toFixed(3)} \\(required -1\\.000\\)$`, 'm'));
      assert.match(shown.output, /^ +approving deploys a new version of approve-me \(GlobalStandard x1\): \$1\.70\/hour while it exists, used or not/m);

      const decided = await runCli(['reject', handle.workflowId, '--by', 'bob', '--comment', 'not this week', '--address', env.temporal.server.address]);
      assert.equal(decided.code, 0, decided.output);
      assert.match(decided.output, /^rejected by bob at \d{4}-[^ ]+ \("not this week"\): the run ends not promoted$/m);
      assert.equal((await handle.result()).outcome, 'not_promoted');
      const rejected = await report(handle.workflowId);
      assert.match(rejected, /class="badge ok">final<\/span> Final: the run completed \(not promoted\)/);
      assert.match(rejected, /rejected by bob: not this week/);
      assert.match(rejected, /Nothing this run created is live/);
    });
  });

  it('reports a failed run from its status and failure', async () => {
    env.emulator.control.setClockScale(SLOW_CLOCK);
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input());
      const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      env.emulator.control.failJob(running.job!.id, { code: 'internal_error', message: 'disk on fire' });
      await assert.rejects(handle.result());
      const failed = await report(handle.workflowId);
      assert.match(failed, new RegExp(`class="badge warn">final: failed</span> Final: the run failed in stage train: Azure fine-tuning job ${running.job!.id} failed: internal_error: disk on fire`));
      assert.match(failed, /not promoted: the run failed in stage train/);
      assert.match(failed, /<tr><th>training<\/th><td>\d+<\/td>/, 'the dataset facts are there');
    });
  });
});
