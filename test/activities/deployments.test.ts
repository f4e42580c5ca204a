import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { azureAccess } from '../../activities/azure-access';
import { deploymentActivities } from '../../activities/deployments';
import { CancelledFailure } from '@temporalio/common';
import { backoffMs, NOT_DONE_YET } from '../../activities/waiting';
import { activityEnvironment, emulatedDeployments, failure, runActivity, runUntilDone, startActivityTestEnv, trainedJob, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';
// Emulated seconds; at clock scale 2000 a create takes 0.3 s real and the not-ready window 2 s (room for a loaded machine).
const TIMINGS = { deploymentCreateSeconds: 600, deploymentDeleteSeconds: 200, deploymentNotReadySeconds: 4000 };
const FAST = { pollIntervalSeconds: 0.05 };

describe('deployment activities (emulator)', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof deploymentActivities>;
  /** The same activities with a profile that asks for strict catalogue checks. */
  let strictActs: ReturnType<typeof deploymentActivities>;
  let model: string;
  let checkpoints: string[];

  const puts = (name: string, status?: number) =>
    t.emu.control.requests({ route: 'arm.deployments.put', ...(status ? { status } : {}) }).filter((r) => r.path.toLowerCase().includes(`/deployments/${name.toLowerCase()}`));

  before(async () => {
    t = await startActivityTestEnv({ timings: TIMINGS });
    acts = deploymentActivities(t.deps, t.azure);
    const swc = t.deps.config.profiles.find((p) => p.name === SWC)!;
    const strict = { ...t.deps, config: { ...t.deps.config, profiles: [...t.deps.config.profiles, { ...swc, name: 'strict-swc', catalog: { strict: true } }] } };
    strictActs = deploymentActivities(strict, azureAccess(strict));
    ({ model, checkpoints } = await trainedJob(t, SWC));
  });
  after(() => t.emu.stop());

  it('checks capacity, and the deployment type against the dated catalogue (a warning, or a refusal for a strict profile), before any Azure call', async () => {
    t.emu.control.clearRequests();
    assert.deepEqual(await runActivity(() => acts.checkDeploymentPlan({ profile: SWC, baseModel: 'gpt-4.1-mini', type: 'GlobalStandard', capacity: 1 })), { ok: true, warnings: [] });
    // gpt-4.1-mini fine-tunes are listed for Standard deployments in eastus2 and northcentralus only: Azure judges the rest.
    const unlisted = await runActivity(() => acts.checkDeploymentPlan({ profile: SWC, baseModel: model, type: 'Standard', capacity: 1 }));
    assert.equal(unlisted.warnings.length, 1);
    assert.match(unlisted.warnings[0]!, /^deployment type "Standard" is not listed for fine-tuned gpt-4\.1-mini in swedencentral in the model catalogue of \d{4}-\d{2}-\d{2} \(listed there: GlobalStandard, DeveloperTier; .*\(profile "ftpipe-swc"\)$/);
    await assert.rejects(
      runActivity(() => strictActs.checkDeploymentPlan({ profile: 'strict-swc', baseModel: model, type: 'Standard', capacity: 1 })),
      failure('DeploymentTypeNotAvailable', true, /"Standard" is not listed for fine-tuned gpt-4\.1-mini in swedencentral .*strict catalogue checks\) \(profile "strict-swc"\)/),
    );
    assert.deepEqual(await runActivity(() => acts.checkDeploymentPlan({ profile: 'ftpipe-ncus', baseModel: 'gpt-4.1-mini', type: 'Standard', capacity: 2 })), { ok: true, warnings: [] });
    await assert.rejects(runActivity(() => acts.checkDeploymentPlan({ profile: SWC, baseModel: 'gpt-4.1-mini', type: 'GlobalStandard', capacity: 0 })), failure('InvalidCapacity', true));
    assert.match((await runActivity(() => acts.checkDeploymentPlan({ profile: SWC, baseModel: 'gpt-9', type: 'GlobalStandard', capacity: 1 }))).warnings.join(), /model "gpt-9" is not in the model catalogue of /);
    await assert.rejects(runActivity(() => strictActs.checkDeploymentPlan({ profile: 'strict-swc', baseModel: 'gpt-9', type: 'GlobalStandard', capacity: 1 })), failure('UnknownModel', true));
    await assert.rejects(runActivity(() => acts.checkDeploymentPlan({ profile: 'nope', baseModel: 'gpt-4.1-mini', type: 'GlobalStandard', capacity: 1 })), failure('UnknownProfile', true, /this worker has: emulator, ftpipe-swc/));
    assert.equal(t.emu.control.requests().length, 0, 'no Azure call');
  });

  it('creates a deployment in short attempts (one PUT, then one GET per check) and returns it once Succeeded', async () => {
    t.emu.control.clearRequests();
    const { result: info, notYet } = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-v1', model, type: 'GlobalStandard', capacity: 2, ...FAST }));
    assert.deepEqual(info, { profile: SWC, name: 'ft-v1', model, sku: 'GlobalStandard', capacity: 2, provisioningState: 'Succeeded' });
    const [d] = emulatedDeployments(t.emu, SWC).filter((x) => x.name === 'ft-v1');
    assert.equal(d?.state, 'Succeeded');
    assert.equal(puts('ft-v1', 201).length, 1);
    // Between attempts Temporal waits (no slot held): the first attempt PUTs, each later one reads the deployment once.
    assert.match(notYet[0]?.message ?? '', /^create deployment ft-v1 on \S+: requested; ARM is creating it; checking again in [\d.]+ s$/);
    for (const e of notYet.slice(1)) assert.match(e.message, /provisioning state Creating; checking again in/);
    assert.deepEqual(notYet.map((e) => e.nextRetryDelay as number), notYet.map((_, i) => backoffMs(FAST.pollIntervalSeconds, i + 1)));
    assert.equal(t.emu.control.requests({ route: 'arm.deployments.get' }).length, notYet.length + 1, 'a look before the PUT, then one GET per check');
    assert.equal(t.emu.control.requests({ route: 'arm.operationResults*' }).length, 0, 'the deployment\'s own state is followed, never the operation URL');
  });

  it('sends the PUT at once for a name the run chose (newName), and looks first on a retry', async () => {
    const of = (name: string) => t.emu.control.requests().filter((r) => r.path.endsWith(`/deployments/${name}`)).map((r) => `${r.method} ${r.route} ${r.status}`);
    const { notYet } = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-new', model, type: 'GlobalStandard', capacity: 1, newName: true, ...FAST }));
    assert.deepEqual(of('ft-new'), ['PUT arm.deployments.put 201', ...notYet.map(() => 'GET arm.deployments.get 200')], 'no GET before the PUT, one per check after it');

    // A retry (attempt 2: its first attempt's PUT may have reached Azure, its answer lost) looks before it writes:
    // it finds the deployment that PUT made and waits for it, sending no second PUT.
    // The emulated clock stands still while both attempts see ARM creating it: on a loaded machine the deployment could
    // otherwise finish within the first attempt.
    const first = { profile: SWC, name: 'ft-new-retry', model, type: 'GlobalStandard' as const, capacity: 1, newName: true, ...FAST };
    const scale = t.emu.control.clockScale();
    t.emu.control.setClockScale(0);
    try {
      await assert.rejects(runActivity(() => acts.createDeployment(first)), failure(NOT_DONE_YET, false, /requested; ARM is creating it/));
      await assert.rejects(
        runActivity(() => acts.createDeployment(first), [], activityEnvironment({ attempt: 2 })),
        failure(NOT_DONE_YET, false, /provisioning state Creating/),
      );
    } finally {
      t.emu.control.setClockScale(scale);
    }
    assert.deepEqual(of('ft-new-retry'), ['PUT arm.deployments.put 201', 'GET arm.deployments.get 200']);
    assert.equal((await runUntilDone(() => acts.createDeployment({ ...first, newName: false }))).result.provisioningState, 'Succeeded');
    assert.equal(puts('ft-new-retry').length, 1);
  });

  it('waits at least as long as Azure\'s Retry-After', async () => {
    t.emu.control.addFault({ route: 'arm.deployments.put', action: 'error', status: 409, retryAfterMs: 1500, times: 1 });
    const { notYet } = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-ra', model, type: 'GlobalStandard', capacity: 1, ...FAST }));
    assert.match(notYet[0]?.message ?? '', /409 RequestConflict/);
    assert.equal(notYet[0]?.nextRetryDelay, 1500);
  });

  it('is idempotent: a repeated or concurrent create of the same name and model makes one deployment', async () => {
    const again = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-v1', model, type: 'GlobalStandard', capacity: 2, ...FAST }));
    assert.equal(again.result.provisioningState, 'Succeeded');
    assert.equal(again.notYet.length, 0);
    assert.equal(puts('ft-v1').length, 1, 'no second PUT');

    // Two attempts at once (a retry racing a worker that did not die): one PUT, both get the deployment.
    const input = { profile: SWC, name: 'ft-v2', model: checkpoints[0]!, type: 'DeveloperTier' as const, capacity: 1, ...FAST };
    const both = await Promise.all([runUntilDone(() => acts.createDeployment(input)), runUntilDone(() => acts.createDeployment(input))]);
    for (const { result: info } of both) assert.deepEqual(info, { profile: SWC, name: 'ft-v2', model: checkpoints[0], sku: 'DeveloperTier', capacity: 1, provisioningState: 'Succeeded' });
    assert.equal(puts('ft-v2', 201).length, 1);
    assert.equal(emulatedDeployments(t.emu, SWC).filter((d) => d.name === 'ft-v2').length, 1);
  });

  it('makes one deployment when the response to its PUT is lost', async () => {
    t.emu.control.addFault({ route: 'arm.deployments.put', action: 'lostResponse', times: 1 });
    const { result: info } = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-lost', model, type: 'GlobalStandard', capacity: 1, ...FAST }));
    assert.equal(info.provisioningState, 'Succeeded');
    // The lost PUT created it; the SDK's retry of the 500 re-sent the same body (200, or 409 while it was creating).
    const [lost, ...retried] = puts('ft-lost');
    assert.equal(lost?.fault, 'lostResponse 500');
    for (const r of retried) assert.ok(r.status === 200 || r.status === 409, `retried PUT answered ${r.status}`);
    assert.equal(emulatedDeployments(t.emu, SWC).filter((d) => d.name === 'ft-lost').length, 1);
  });

  it('a cancelled attempt ends as a cancellation and creates nothing; a later one creates the deployment once', async () => {
    const env = activityEnvironment();
    const input = { profile: SWC, name: 'ft-cancel', model, type: 'GlobalStandard' as const, capacity: 1, ...FAST };
    env.cancel();
    await assert.rejects(runActivity(() => acts.createDeployment(input), [], env), CancelledFailure);
    assert.equal(puts('ft-cancel').length, 0);
    assert.equal((await runUntilDone(() => acts.createDeployment(input))).result.provisioningState, 'Succeeded');
    assert.equal(puts('ft-cancel').length, 1);
  });

  it('refuses to change the model of an existing deployment (ModelUpgradeNotSupported), without calling Azure to try', async () => {
    const before = puts('ft-v1').length;
    await assert.rejects(
      runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-v1', model: checkpoints[1]!, type: 'GlobalStandard', capacity: 2, ...FAST })),
      failure('ModelUpgradeNotSupported', true, /already serves .*new \(versioned\) name/),
    );
    assert.equal(puts('ft-v1').length, before);
    assert.equal(emulatedDeployments(t.emu, SWC).find((d) => d.name === 'ft-v1')?.model.name, model, 'the live deployment is untouched');
  });

  it('waits out 409 RequestConflict while another operation runs on the account', async () => {
    t.emu.control.clearRequests();
    const [a, b] = await Promise.all([
      runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-a', model: checkpoints[1]!, type: 'GlobalStandard', capacity: 1, ...FAST })),
      runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-b', model: checkpoints[2]!, type: 'GlobalStandard', capacity: 1, ...FAST })),
    ]);
    assert.equal(a.result.provisioningState, 'Succeeded');
    assert.equal(b.result.provisioningState, 'Succeeded');
    assert.ok(t.emu.control.requests({ route: 'arm.deployments.put', status: 409 }).length >= 1, 'one of them met RequestConflict');
    assert.equal(t.emu.control.requests({ route: 'arm.deployments.put', status: 201 }).length, 2);
  });

  it('while the account stays busy (409 RequestConflict), each attempt ends retryably with a delay and creates nothing', async () => {
    t.emu.control.addFault({ route: 'arm.deployments.put', action: 'error', status: 409, times: 50 });
    try {
      await assert.rejects(
        runActivity(() => acts.createDeployment({ profile: SWC, name: 'ft-busy', model, type: 'GlobalStandard', capacity: 1, ...FAST })),
        (err: unknown) => failure(NOT_DONE_YET, false, /busy with another deployment operation \(409 RequestConflict\)/)(err) && (err as { nextRetryDelay?: unknown }).nextRetryDelay !== undefined,
      );
    } finally {
      t.emu.control.clearFaults();
    }
    assert.equal(emulatedDeployments(t.emu, SWC).filter((d) => d.name === 'ft-busy').length, 0);
  });

  it('smoke-tests a new deployment through DeploymentNotReady', async () => {
    t.emu.control.clearRequests();
    await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-smoke', model, type: 'GlobalStandard', capacity: 1, ...FAST }));
    const { result, notYet } = await runUntilDone(() => acts.smokeTestDeployment({ profile: SWC, deployment: 'ft-smoke', intervalSeconds: 0.1, timeoutSeconds: 30 }));
    assert.equal(result.ok, true);
    assert.ok(result.attempts > 1, `waited: ${result.attempts} attempts`);
    assert.equal(result.attempts, notYet.length + 1);
    assert.ok(result.latencyMs >= 0);
    const notReady = t.emu.control.requests({ route: 'chat.completions', status: 404 });
    assert.equal(notReady.length, result.attempts - 1);
    for (const e of notYet) assert.match(e.message, /^smoke test of deployment ft-smoke: answered 404 DeploymentNotReady: .*; checking again in 0\.1 s$/);
  });

  it('retries a throttled smoke test, and gives up with SmokeTestFailed at its deadline', async () => {
    t.emu.control.addFault({ route: 'chat.completions', action: 'error', status: 429, retryAfterMs: 100, times: 2 });
    const throttled = await runUntilDone(() => acts.smokeTestDeployment({ profile: SWC, deployment: 'ft-smoke', intervalSeconds: 0.05, timeoutSeconds: 30 }));
    assert.equal(throttled.result.attempts, 3);
    assert.deepEqual(throttled.notYet.map((e) => e.nextRetryDelay as number), [100, 100], 'Retry-After (100 ms) over the 50 ms interval');
    await assert.rejects(
      runUntilDone(() => acts.smokeTestDeployment({ profile: SWC, deployment: 'never-created', intervalSeconds: 0.1, timeoutSeconds: 0.5 })),
      failure('SmokeTestFailed', true, /never-created .*DeploymentNotFound/),
    );
  });

  it('deploys a base model (an evaluation baseline) by its name and real version, not as a fine-tune', async () => {
    const { result: info } = await runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'base-line', model: 'gpt-4.1-mini-2025-04-14', base: true, type: 'GlobalStandard', capacity: 1, ...FAST }));
    assert.equal(info.model, 'gpt-4.1-mini');
    const [d] = emulatedDeployments(t.emu, SWC).filter((x) => x.name === 'base-line') as unknown as { model: { name: string; version: string } }[];
    assert.deepEqual([d?.model.name, d?.model.version], ['gpt-4.1-mini', '2025-04-14']);
    await assert.rejects(runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'base-x', model: 'gpt-9', base: true, type: 'GlobalStandard', capacity: 1, ...FAST })), failure('UnknownModel', true));
    await runUntilDone(() => acts.deleteDeployment({ profile: SWC, name: 'base-line', ...FAST }));
  });

  it('lists deployments, by prefix', async () => {
    const all = await runActivity(() => acts.listDeployments({ profile: SWC }));
    assert.deepEqual(all.map((d) => d.name).sort(), ['ft-a', 'ft-b', 'ft-cancel', 'ft-lost', 'ft-new', 'ft-new-retry', 'ft-ra', 'ft-smoke', 'ft-v1', 'ft-v2']);
    const v = await runActivity(() => acts.listDeployments({ profile: SWC, prefix: 'ft-v' }));
    assert.deepEqual(v.map((d) => d.name).sort(), ['ft-v1', 'ft-v2']);
    assert.equal(v.find((d) => d.name === 'ft-v2')?.sku, 'DeveloperTier');
  });

  it('deletes idempotently, also while another operation holds the account', async () => {
    // A create in flight on the account: the delete meets 409 and waits for it.
    const creating = runUntilDone(() => acts.createDeployment({ profile: SWC, name: 'ft-c', model, type: 'GlobalStandard', capacity: 1, ...FAST }));
    while (!emulatedDeployments(t.emu, SWC).some((d) => d.name === 'ft-c')) await new Promise((resolve) => setTimeout(resolve, 5));
    t.emu.control.clearRequests();
    const deleted = await runUntilDone(() => acts.deleteDeployment({ profile: SWC, name: 'ft-a', ...FAST }));
    assert.deepEqual(deleted.result, { deleted: true });
    assert.equal((await creating).result.provisioningState, 'Succeeded');
    assert.ok(t.emu.control.requests({ route: 'arm.deployments.delete', status: 409 }).length >= 1, 'the delete met RequestConflict');
    assert.deepEqual((await runUntilDone(() => acts.deleteDeployment({ profile: SWC, name: 'ft-a', ...FAST }))).result, { deleted: false });
    // The first attempt sends the DELETE without a look first (ARM answers 204 when there is nothing to delete); the
    // later ones read the deployment until it is gone, never the operation URL.
    t.emu.control.clearRequests();
    const gone = await runUntilDone(() => acts.deleteDeployment({ profile: SWC, name: 'ft-new', ...FAST }));
    assert.deepEqual(gone.result, { deleted: true });
    const ops = t.emu.control.requests().map((r) => `${r.method} ${r.route} ${r.status}`);
    assert.deepEqual(ops, ['DELETE arm.deployments.delete 202', ...gone.notYet.slice(1).map(() => 'GET arm.deployments.get 200'), 'GET arm.deployments.get 404']);
    assert.deepEqual((await runUntilDone(() => acts.deleteDeployment({ profile: SWC, name: 'never-created', ...FAST }))).result, { deleted: false });
    assert.deepEqual(
      emulatedDeployments(t.emu, SWC).map((d) => d.name).sort(),
      ['ft-b', 'ft-c', 'ft-cancel', 'ft-lost', 'ft-new-retry', 'ft-ra', 'ft-smoke', 'ft-v1', 'ft-v2'],
    );
  });
});
