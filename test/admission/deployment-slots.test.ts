/**
 * Deployment slots (workflows/admission.ts + workflows/slots.ts) on the real Temporal dev server and the emulator: a run
 * waits for one of its resource's fine-tuned deployment places, a release gives it to the next, and a slot outlives
 * its run until Azure no longer has the deployment.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { admissionActivities } from '../../activities/admission';
import { azureAccess } from '../../activities/azure-access';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import { admissionWorkflowId } from '../../src/admission/types';
import { createArmClient } from '../../src/azure/clients';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import type { DeploymentSlot } from '../../src/pipeline/types';
import { emulatorProfiles } from '../../src/stack/emulator-profiles';
import { admissionTaskQueue } from '../../src/temporal/constants';
import { admissionQuery, type AdmissionView } from '../../workflows/admission';
import { deploymentSlotHolder, finishSignal, slotsQuery } from './workflows/deployment-holder';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

const PROFILE = 'ftpipe-swc';

describe('admission: deployment slots', () => {
  let emu: RunningEmulator;
  const workers: Worker[] = [];
  let running: Promise<unknown> | undefined;
  after(async () => {
    for (const worker of workers) worker.shutdown();
    await running;
    await emu?.stop();
  });
  const temporal = useTemporal();
  const taskQueue = `deployment-slots-${randomUUID()}`;
  let resource = '';
  let profiles: ReturnType<typeof emulatorProfiles>;

  before(async () => {
    emu = await startEmulator({ clockScale: 1000 });
    profiles = emulatorProfiles(emu);
    const withLimits = profiles.profiles.map((p) => ({ ...p, limits: { ...DEFAULT_LIMITS, fineTunedDeployments: 1, holderCheckSeconds: 0.2 } }));
    const account = emu.account(PROFILE);
    resource = `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account.name}`;
    const azure = azureAccess({ config: { profiles: withLimits }, logger: createLogger({ level: 'silent' }), version: 'test', env: { ...process.env, ...profiles.env } });
    // The holders on their task queue, and the queue they join on its own, as an ftpipe worker serves both.
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows/deployment-holder'), logger: new DefaultLogger('WARN') });
    for (const queue of [taskQueue, admissionTaskQueue(taskQueue)]) {
      workers.push(await Worker.create({ connection: temporal.nativeConnection, namespace: temporal.server.namespace, taskQueue: queue, workflowBundle, activities: admissionActivities(azure) }));
    }
    running = Promise.all(workers.map((w) => w.run()));
  });

  const hold = (name: string): Promise<WorkflowHandle> =>
    temporal.client.workflow.start(deploymentSlotHolder, { taskQueue, workflowId: `holder-${name}-${randomUUID().slice(0, 6)}`, args: [{ profile: PROFILE, name, runName: name }] });
  const slot = async (h: WorkflowHandle): Promise<DeploymentSlot | undefined> => (await h.query(slotsQuery))[0];
  const view = (): Promise<AdmissionView> => temporal.client.workflow.getHandle(admissionWorkflowId(resource, taskQueue)).query(admissionQuery);

  it('queues a deployment for a free deployment slot, says why it waits, and hands the slot on when it is released', async () => {
    const a = await hold('prod-a');
    await until(async () => ((await slot(a))?.state === 'granted' ? true : undefined), 'prod-a granted');
    const b = await hold('prod-b');
    const waiting = await until(async () => {
      const s = await slot(b);
      return s?.state === 'waiting' && s.position === 1 ? s : undefined;
    }, 'prod-b waiting at position 1');
    assert.match(waiting.reason, /deployment slots \(1 of 1 in use\)/);
    const v = await view();
    assert.deepEqual(v.used.deployments, 1);
    assert.deepEqual(v.holders.map((h) => h.runName), ['prod-a']);

    await a.signal(finishSignal, { release: true });
    await a.result();
    await until(async () => ((await slot(b))?.state === 'granted' ? true : undefined), 'prod-b granted after the release');
    await b.signal(finishSignal, { release: true });
    await b.result();
    await until(async () => ((await view()).used.deployments === 0 ? true : undefined), 'no deployment slot in use');
  });

  it('keeps a deployment\'s slot after its run ends while Azure has the deployment, and takes it back once Azure has not', async () => {
    const arm = createArmClient(profiles.profiles.find((p) => p.name === PROFILE)!, { ...process.env, ...profiles.env });
    const account = emu.account(PROFILE);
    await arm.deployments.beginCreateOrUpdateAndWait(account.resourceGroup, account.name, 'prod-live', {
      sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: 'gpt-4.1-mini', version: '2025-04-14' } },
    }, { updateIntervalInMs: 50 });
    const live = await hold('prod-live');
    await until(async () => ((await slot(live))?.state === 'granted' ? true : undefined), 'prod-live granted');
    // The run ends without releasing: its deployment stays live.
    await live.signal(finishSignal, { release: false });
    await live.result();

    const next = await hold('prod-next');
    await until(async () => ((await slot(next))?.state === 'waiting' ? true : undefined), 'prod-next waiting');
    // Several holder checks pass (every 0.2 s): the ended run's deployment still exists, so its slot is kept.
    const checked = (await view()).reclaimed;
    await until(async () => (emu.control.requests({ route: 'arm.deployments.get' }).filter((r) => r.path.endsWith('/prod-live')).length >= 3 ? true : undefined), 'three existence checks');
    assert.equal((await slot(next))?.state, 'waiting');
    assert.equal((await view()).reclaimed, checked);

    await arm.deployments.beginDeleteAndWait(account.resourceGroup, account.name, 'prod-live', { updateIntervalInMs: 50 });
    await until(async () => ((await slot(next))?.state === 'granted' ? true : undefined), 'prod-next granted once prod-live is gone');
    assert.equal((await view()).reclaimed, checked + 1);
    await next.signal(finishSignal, { release: true });
    await next.result();
  });
});
