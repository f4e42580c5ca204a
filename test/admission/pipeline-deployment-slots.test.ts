/**
 * The pipeline takes a deployment slot for each deployment it makes (workflows/post-training.ts) and gives it back
 * when it deletes the deployment: a promoted version keeps its slot after the run ends, a retired one frees it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admissionWorkflowId } from '../../src/admission/types';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/config';
import { admissionQuery, type AdmissionView } from '../../workflows/admission';
import { statusQuery } from '../../workflows/messages';
import { usePipelineStack } from '../helpers/pipeline';

const SWC = DEFAULT_ACCOUNTS[0]!;
const RESOURCE = `/subscriptions/${SWC.subscriptionId}/resourceGroups/${SWC.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${SWC.name}`;

describe('pipeline: deployment slots', () => {
  const env = usePipelineStack();

  it('a promoted deployment holds its slot after the run; the next version retires it and frees its slot', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const view = (): Promise<AdmissionView> => env.temporal.client.workflow.getHandle(admissionWorkflowId(RESOURCE, taskQueue)).query(admissionQuery);
    const deployment = { name: 'slotted', type: 'GlobalStandard' as const, keepVersions: 0 };
    await worker.runUntil(async () => {
      const first = await env.start(taskQueue, env.input({ deployment }));
      const r1 = await first.result();
      assert.deepEqual(r1.deployments.map((d) => d.name), ['slotted-v1']);
      // The result's ledger: the promoted version's hourly cost while it stays, and when Azure deletes it.
      assert.deepEqual(r1.ledger?.hosting.map((h) => [h.name, h.usdPerHour, h.expiry.kind]), [['slotted-v1', 1.7, 'inactivity']]);
      assert.equal(r1.ledger?.hourlyUsdWhileLive, 1.7);
      assert.ok(r1.ledger?.training.billedTokens !== null && (r1.ledger?.training.billedUsd ?? 0) > 0);
      const s1 = await first.query(statusQuery);
      assert.deepEqual(s1.deploymentSlots?.map((s) => [s.name, s.state]), [['slotted-v1', 'granted']]);
      let v = await view();
      assert.deepEqual(v.holders.map((h) => h.runName), [r1.runName], 'the deployment holds its slot after its run ended');
      assert.equal(v.used.deployments, 1);
      assert.equal(v.used.jobs, 0);

      const r2 = await (await env.start(taskQueue, env.input({ deployment }))).result();
      assert.deepEqual(r2.deployments.map((d) => d.name), ['slotted-v2']);
      assert.deepEqual(r2.deletedDeployments, ['slotted-v1']);
      v = await view();
      assert.equal(v.used.deployments, 1, 'the retired version gave its slot back');
      assert.deepEqual(v.holders.map((h) => h.runName), [r2.runName]);
    });
  });
});
