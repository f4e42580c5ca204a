/** Preflight checks what the run will deploy, evaluate and copy before anything is uploaded or created in Azure. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { BUILTIN_CATALOG } from '../../src/catalog';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import { countRequests } from '../helpers/emulator-state';
import { ROOT } from '../helpers/cli';
import { SAMPLE_TRAINING, usePipelineStack } from '../helpers/pipeline';
import { statusQuery } from '../../workflows/messages';

/** The run failed with the case's error type and message, and never reached validation or upload. */
async function assertFailedInPreflight(handle: WorkflowHandle, c: { name: string; type: string; message: RegExp }): Promise<void> {
  const err = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, `${c.name}: ${String(err)}`);
  assert.equal(err.cause.type, c.type, `${c.name}: ${err.cause.message}`);
  assert.match(err.cause.message, c.message, c.name);
  const status = await handle.query(statusQuery);
  assert.ok(!status.timeline.some((t) => t.stage === 'validate' || t.stage === 'upload'), `${c.name}: failed in preflight (${status.timeline.map((t) => t.stage).join(', ')})`);
}

describe('preflight: every check that needs no Azure write runs first', () => {
  const env = usePipelineStack();
  /** A worker that also has `strict-swc`: the Sweden Central account, with strict catalogue checks. */
  const strictWorker = (taskQueue: string) => {
    const swc = env.config.profiles.find((p) => p.name === 'ftpipe-swc')!;
    const config = { ...env.config, profiles: [...env.config.profiles, { ...swc, name: 'strict-swc', catalog: { strict: true } }] };
    return env.temporal.createWorker({ taskQueue, config, env: env.workerEnv });
  };

  it('fails at once, naming the field and what is accepted, with nothing uploaded', async () => {
    const ncus = () => env.emulator.account('ftpipe-ncus').armId;
    const cases: { name: string; input: Partial<PipelineInputDraft>; type: string; message: RegExp }[] = [
      { name: 'a deployment type the catalogue does not list, under strict checks', input: { profile: 'strict-swc', deployment: { name: 'pf', type: 'Standard' } }, type: 'DeploymentTypeNotAvailable', message: /^deployment\.type \(profile "strict-swc"\): deployment type "Standard" is not listed for fine-tuned gpt-4\.1-mini in swedencentral in the model catalogue of \d{4}-\d{2}-\d{2} \(listed there: GlobalStandard, DeveloperTier; .*strict catalogue checks\)$/ },
      { name: 'a base model the catalogue does not list', input: { baseModel: 'gpt-9-mini' }, type: 'UnknownModel', message: /^baseModel: "gpt-9-mini" is not in the model catalogue of \d{4}-\d{2}-\d{2} \(known: gpt-4o-mini, .*\); for a model Azure added since, list it in the profile's catalog\.models or an FTPIPE_CATALOG file .* \(profile "[^"]+"\)$/ },
      { name: 'a missing eval set', input: { evaluation: { evalSet: { path: 'examples/data/no-such-eval.jsonl' } } }, type: 'DatasetUnreadable', message: /eval set examples\/data\/no-such-eval\.jsonl: no such file/ },
      { name: 'an invalid eval set', input: { evaluation: { evalSet: { path: 'docs/emulator.md' } } }, type: 'InvalidEvalSet', message: /eval set docs\/emulator\.md: line 1: not valid JSON/ },
      { name: 'an invalid grader', input: { evaluation: { graders: [{ type: 'regex', pattern: '[' }] } }, type: 'InvalidGraders', message: /evaluation\.graders\.0\.pattern: / },
      { name: 'an unknown copy profile', input: { copies: [{ destinationResourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/x', region: 'eastus2', deploy: { profile: 'nowhere', name: 'c' } }] }, type: 'UnknownProfile', message: /copies\.0\.deploy\.profile: unknown profile "nowhere"; this worker has: .*ftpipe-ncus/ },
      { name: 'a copy profile of another account', input: { copies: [{ destinationResourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/x', region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'c' } }] }, type: 'CopyProfileMismatch', message: /copies\.0\.deploy\.profile: profile "ftpipe-ncus" is account / },
      { name: 'a copy region that is not the account\'s', input: { copies: [{ destinationResourceId: ncus(), region: 'eastus2', deploy: { profile: 'ftpipe-ncus', name: 'c' } }] }, type: 'CopyRegionMismatch', message: /copies\.0\.region: "eastus2" is not the region of the destination account/ },
    ];
    const uploadsBefore = countRequests(env.emulator, 'files.upload');
    const taskQueue = env.temporal.taskQueue();
    const worker = await strictWorker(taskQueue);
    await worker.runUntil(async () => {
      for (const c of cases) {
        const handle = await env.start(taskQueue, env.input(c.input));
        await assertFailedInPreflight(handle, c);
      }
    });
    assert.equal(countRequests(env.emulator, 'files.upload'), uploadsBefore, 'nothing was uploaded');
  });

  it('proves the credentials before anything is uploaded: a refused ARM token (the run deploys), a refused API key or a missing variable fails the run in preflight, once, naming the profile and the variable', async () => {
    const swc = env.config.profiles.find((p) => p.name === 'ftpipe-swc')!;
    assert.equal(swc.auth.type, 'apiKey');
    const { apiKeyEnv, armTokenEnv } = swc.auth as { apiKeyEnv: string; armTokenEnv: string };
    const cases: { name: string; vars: Record<string, string | undefined>; input: Partial<PipelineInputDraft>; refused: string; type: string; message: RegExp }[] = [
      // Before preflight proved ARM, a bad token surfaced only after training, when the run first deployed.
      { name: 'a refused ARM token', vars: { [armTokenEnv]: 'not-the-token' }, input: { deployment: { name: 'cred-check', type: 'GlobalStandard' } }, refused: 'arm.deployments.list', type: 'CredentialRefused', message: new RegExp(`^profile "ftpipe-swc", ARM credential from environment variable ${armTokenEnv}: Azure refused it: HTTP 401 InvalidAuthenticationToken`) },
      // Before, a wrong key failed the upload with a message naming neither the profile nor the variable.
      { name: 'a refused API key', vars: { [apiKeyEnv]: 'not-the-key' }, input: {}, refused: 'jobs.list', type: 'CredentialRefused', message: new RegExp(`^profile "ftpipe-swc", data plane credential from environment variable ${apiKeyEnv}: Azure refused it: HTTP 401`) },
      { name: 'a missing key variable', vars: { [apiKeyEnv]: undefined }, input: {}, refused: 'none', type: 'CredentialMissing', message: new RegExp(`^profile "ftpipe-swc", data plane credential from environment variable ${apiKeyEnv}: the variable is not set on this worker$`) },
    ];
    const uploadsBefore = countRequests(env.emulator, 'files.upload');
    for (const c of cases) {
      const taskQueue = env.temporal.taskQueue();
      const workerEnv: NodeJS.ProcessEnv = { ...env.workerEnv, ...c.vars };
      for (const [name, value] of Object.entries(c.vars)) if (value === undefined) delete workerEnv[name];
      const worker = await env.temporal.createWorker({ taskQueue, config: env.config, env: workerEnv });
      await worker.runUntil(async () => {
        const since = env.emulator.control.requests().at(-1)?.seq ?? 0;
        const handle = await env.start(taskQueue, env.input({ profile: 'ftpipe-swc', ...c.input }));
        await assertFailedInPreflight(handle, c);
        // The proofs' reads (the capacity check's ARM lists turn a 401 into a warning, by design).
        const refusals = env.emulator.control.requests().filter((r) => r.seq > since && r.status === 401 && (r.route === 'jobs.list' || r.route === 'arm.deployments.list'));
        assert.deepEqual(refusals.map((r) => r.route), c.refused === 'none' ? [] : [c.refused], `${c.name}: asked Azure once, not retried`);
      });
    }
    assert.equal(countRequests(env.emulator, 'files.upload'), uploadsBefore, 'nothing was uploaded');
  });

  it('checks the capacity of the evaluation baseline\'s deployment: over the quota it fails before any Azure write; within it the baseline is deployed and scored', async () => {
    const swc = env.emulator.account('ftpipe-swc');
    const evaluation = { evalSet: { path: join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl') }, baseline: { model: 'gpt-4.1' } };
    const writes = (afterSeq: number) => env.emulator.control.requests().filter((r) => r.seq > afterSeq && !r.route.startsWith('admin.') && (r.method === 'PUT' || r.method === 'POST'));
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      env.emulator.capacity.setUsage(swc.subscriptionId, swc.region, 'OpenAI.GlobalStandard.gpt-4.1', { limit: 50, extraUsed: 50 });
      try {
        const since = env.emulator.control.requests().at(-1)?.seq ?? 0;
        const handle = await env.start(taskQueue, env.input({ evaluation }));
        const err = await handle.result().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
        assert.equal(err.cause.type, 'CapacityOverQuota', err.cause.message);
        assert.match(err.cause.message, /^evaluation\.baseline\.model: capacity 1 is above the free quota of OpenAI\.GlobalStandard\.gpt-4\.1 in swedencentral .*limit 50, used 50; accepted: at most 0, or ask Azure for more quota$/);
        assert.deepEqual(writes(since).map((r) => `${r.method} ${r.route}`), [], 'no Azure write');
      } finally {
        env.emulator.capacity.reset();
      }
      const since = env.emulator.control.requests().at(-1)?.seq ?? 0;
      const handle = await env.start(taskQueue, env.input({ evaluation }));
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.ok(result.evaluation?.scores.some((s) => s.kind === 'baseline' && s.candidate === 'gpt-4.1'), JSON.stringify(result.evaluation?.scores));
      const reads = env.emulator.control.requests().filter((r) => r.seq > since && (r.route === 'arm.models.list' || r.route === 'arm.usages.list'));
      assert.equal(reads.length, 2, 'preflight read both lists once');
    });
  });

  it('warns, naming the catalogue\'s date, about deployment types the catalogue does not list instead of refusing them', async () => {
    const ncus = env.emulator.account('ftpipe-ncus');
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({
        deployment: { name: 'unlisted', type: 'Standard' },
        copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'unlisted-ncus', type: 'ProvisionedManaged' } }],
      }));
      const status = await env.waitForStatus(handle, (s) => (s.warnings?.length ?? 0) > 0);
      await handle.cancel();
      const date = String.raw`\d{4}-\d{2}-\d{2}`;
      // (The capacity check adds its own warnings about these SKUs.)
      const [promotion, copy, ...more] = (status.warnings ?? []).filter((w) => /^(deployment|copies\.\d+\.deploy)\.type /.test(w));
      assert.deepEqual(more, []);
      assert.match(promotion ?? '', new RegExp(`^deployment\\.type \\(profile "emulator"\\): deployment type "Standard" is not listed for fine-tuned gpt-4\\.1-mini in swedencentral in the model catalogue of ${date} .*Azure may offer it since$`));
      assert.match(copy ?? '', new RegExp(`^copies\\.0\\.deploy\\.type \\(profile "ftpipe-ncus"\\): deployment type "ProvisionedManaged" is not listed .* in northcentralus in the model catalogue of ${date}`));
      await handle.result().catch(() => undefined);
    });
  });

  it('lets Azure judge what the catalogue does not list: DPO on gpt-4o-mini trains, and the warning is in status and in the run\'s summary', async () => {
    // DPO on gpt-4o-mini: not in the docs' table of the catalogue's date, but Azure accepted it (issue 10's recordings).
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-dpo-'));
    const lines = readFileSync(SAMPLE_TRAINING, 'utf8').trim().split('\n').map((l, i) => {
      const { messages } = JSON.parse(l) as { messages: { role: string; content: string }[] };
      return JSON.stringify({ input: { messages: messages.slice(0, -1) }, preferred_output: [messages.at(-1)], non_preferred_output: [{ role: 'assistant', content: `No idea (${i}).` }] });
    });
    writeFileSync(join(dir, 'dpo.jsonl'), `${lines.join('\n')}\n`);
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const { result, status } = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, training: { path: join(dir, 'dpo.jsonl') }, validation: undefined }));
      return { result: await handle.result(), status: await handle.query(statusQuery) };
    });
    assert.equal(result.outcome, 'succeeded');
    const warning = new RegExp(`^method "dpo" is not listed for gpt-4o-mini in the model catalogue of ${BUILTIN_CATALOG.date} .*Azure may offer it since$`);
    assert.ok(status.warnings?.some((w) => warning.test(w)), status.warnings?.join('\n'));
    assert.ok(result.notes.some((n) => n.startsWith('Preflight warning: method "dpo" is not listed for gpt-4o-mini')), result.notes.join('\n'));
  });
});
