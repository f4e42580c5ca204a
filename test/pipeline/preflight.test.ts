/** Preflight checks what the run will deploy, evaluate and copy before anything is uploaded or created in Azure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import { countRequests } from '../helpers/emulator-state';
import { usePipelineStack } from '../helpers/pipeline';

describe('preflight: every check that needs no Azure write runs first', () => {
  const env = usePipelineStack();

  it('fails at once, naming the field and what is accepted, with nothing uploaded', async () => {
    const ncus = () => env.emulator.account('ftpipe-ncus').armId;
    const cases: { name: string; input: Partial<PipelineInputDraft>; type: string; message: RegExp }[] = [
      { name: 'a deployment type the region does not offer', input: { deployment: { name: 'pf', type: 'Standard' } }, type: 'DeploymentTypeNotAvailable', message: /deployment\.type: deployment type "Standard" is not offered .* in swedencentral .*accepted there: .*GlobalStandard/ },
      { name: 'a missing eval set', input: { evaluation: { evalSet: { path: 'examples/data/no-such-eval.jsonl' } } }, type: 'DatasetUnreadable', message: /eval set examples\/data\/no-such-eval\.jsonl: no such file/ },
      { name: 'an invalid eval set', input: { evaluation: { evalSet: { path: 'docs/emulator.md' } } }, type: 'InvalidEvalSet', message: /eval set docs\/emulator\.md: line 1: not valid JSON/ },
      { name: 'an invalid grader', input: { evaluation: { graders: [{ type: 'regex', pattern: '[' }] } }, type: 'InvalidGraders', message: /evaluation\.graders\.0\.pattern: / },
      { name: 'an unknown copy profile', input: { copies: [{ destinationResourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/x', region: 'eastus2', deploy: { profile: 'nowhere', name: 'c' } }] }, type: 'UnknownProfile', message: /copies\.0\.deploy\.profile: unknown profile "nowhere"; this worker has: .*ftpipe-ncus/ },
      { name: 'a copy profile of another account', input: { copies: [{ destinationResourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/x', region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'c' } }] }, type: 'CopyProfileMismatch', message: /copies\.0\.deploy\.profile: profile "ftpipe-ncus" is account / },
      { name: 'a copy region that is not the account\'s', input: { copies: [{ destinationResourceId: ncus(), region: 'eastus2', deploy: { profile: 'ftpipe-ncus', name: 'c' } }] }, type: 'CopyRegionMismatch', message: /copies\.0\.region: "eastus2" is not the region of the destination account/ },
    ];
    const uploadsBefore = countRequests(env.emulator, 'files.upload');
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      for (const c of cases) {
        const handle = await env.start(taskQueue, env.input(c.input));
        const err = await handle.result().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, `${c.name}: ${String(err)}`);
        assert.equal(err.cause.type, c.type, `${c.name}: ${err.cause.message}`);
        assert.match(err.cause.message, c.message, c.name);
        const status = await handle.query<{ timeline: { stage: string }[] }, []>('status');
        assert.ok(!status.timeline.some((t) => t.stage === 'validate' || t.stage === 'upload'), `${c.name}: failed in preflight (${status.timeline.map((t) => t.stage).join(', ')})`);
      }
    });
    assert.equal(countRequests(env.emulator, 'files.upload'), uploadsBefore, 'nothing was uploaded');
  });
});
