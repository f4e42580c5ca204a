import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import type { CognitiveServicesManagementClient, Deployment } from '@azure/arm-cognitiveservices';
import { BadRequestError, NotFoundError, type AzureOpenAI } from 'openai';
import { createArmClient } from '../../src/azure/clients';
import type { Exchange } from '../../src/emulator';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/config';
import { validateExchanges } from '../conformance/validate';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const SWC = 'ftpipe-swc';
const NCUS = 'ftpipe-ncus';
const CREATE_SECONDS = 600;
const NOT_READY_SECONDS = 120;

function expectRestError(status: number, code: string) {
  return (err: unknown): boolean => {
    const e = err as { statusCode?: number; code?: string; name?: string };
    assert.equal(e.name, 'RestError', String(err));
    assert.equal(e.statusCode, status, String(err));
    assert.equal(e.code, code);
    return true;
  };
}

const deploymentBody = (model: string, sku = 'globalstandard', capacity = 1, source?: string, version = '1'): Deployment => ({
  sku: { name: sku, capacity },
  properties: { model: { format: 'OpenAI', name: model, version, ...(source ? { source } : {}) } },
});

/** A raw ARM request (for what the SDK never sends, e.g. another api-version), trusting the emulator's certificate. */
function rawArm(t: TestEmulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: { error?: { code?: string; message?: string; target?: string } } }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, t.emu.armEndpoint);
    const headers = { authorization: `Bearer ${t.emu.acceptedTokens[0]!}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const req = httpsRequest(url, { method, ca: readFileSync(t.emu.caCertPath), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { error?: { code?: string } } }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('emulator ARM deployments and inference', () => {
  let t: TestEmulator;
  let arm: CognitiveServicesManagementClient;
  let client: AzureOpenAI;
  let rg: string;
  let fineTunedModel: string;
  let checkpoints: { id: string; step: number; fullValidLoss: number }[];
  const evalItems = Array.from({ length: 60 }, (_, i) => ({ prompt: `valid question ${i}`, reference: `valid answer ${i}` }));

  /** Starts an LRO, moves emulated time past its end, and lets the SDK poller finish it. */
  async function deploy(account: string, name: string, body: Deployment, seconds = CREATE_SECONDS): Promise<Deployment> {
    const p = t.profile(account);
    const poller = await t.arm(account).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, name, body, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(seconds);
    return poller.pollUntilDone();
  }

  async function correctAnswers(account: string, deployment: string): Promise<number> {
    const c = t.openai(account);
    let correct = 0;
    for (const item of evalItems) {
      const r = await c.chat.completions.create({ model: deployment, messages: [{ role: 'user', content: item.prompt }] });
      if (r.choices[0]!.message.content === item.reference) correct++;
    }
    return correct;
  }

  before(async () => {
    t = await startTestEmulator();
    arm = t.arm(SWC);
    client = t.openai(SWC);
    rg = t.profile(SWC).resourceGroup;
    const training = await uploadProcessed(t, SWC, chatJsonl(20, 'train'));
    const validation = await uploadProcessed(t, SWC, chatJsonl(60, 'valid'), 'valid.jsonl');
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: training, validation_file: validation, seed: 11, hyperparameters: { n_epochs: 4, batch_size: 4 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    fineTunedModel = (await client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!;
    checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data.map((c) => ({ id: c.id, step: c.step_number, fullValidLoss: c.metrics.full_valid_loss! }));
  });
  after(() => t.emu.stop());

  it('creates through the recorded LRO (201 Creating + Azure-AsyncOperation at operationResults, Running -> Succeeded), refusing a parallel operation with 409', async () => {
    t.emu.control.clearRequests();
    const exchanges: Exchange[] = [];
    const untap = t.emu.control.tapExchanges((e) => exchanges.push(e));
    const poller = await arm.deployments.beginCreateOrUpdate(rg, SWC, 'ft-main', deploymentBody(fineTunedModel, 'globalstandard', 2), { updateIntervalInMs: 5 });
    const created = t.emu.control.requests({ route: 'arm.deployments.put' });
    assert.equal(created.length, 1);
    assert.equal(created[0]!.status, 201);
    const put = exchanges.find((e) => e.route === 'arm.deployments.put')!;
    assert.equal((put.responseBody as { properties: { provisioningState: string } }).properties.provisioningState, 'Creating');
    const asyncOperation = String(put.responseHeaders['azure-asyncoperation']);
    assert.match(asyncOperation, new RegExp(`/subscriptions/${t.emu.account(SWC).subscriptionId}/providers/Microsoft.CognitiveServices/locations/swedencentral/operationResults/[0-9a-f-]{36}\\?api-version=`));
    assert.equal(String(put.responseHeaders.location), `${asyncOperation}&operationResultResponseType=Location`);
    assert.equal((await arm.deployments.get(rg, SWC, 'ft-main')).properties?.provisioningState, 'Creating');
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'other', deploymentBody(fineTunedModel)), expectRestError(409, 'RequestConflict'));
    await assert.rejects(arm.deployments.beginDelete(rg, SWC, 'ft-main'), expectRestError(409, 'RequestConflict'));
    t.emu.control.advanceClock(CREATE_SECONDS);
    const done = await poller.pollUntilDone();
    assert.equal(done.properties?.provisioningState, 'Succeeded');
    assert.equal(done.name, 'ft-main');
    assert.equal(done.id, `${t.emu.account(SWC).armId}/deployments/ft-main`);
    assert.deepEqual({ name: done.sku?.name, capacity: done.sku?.capacity }, { name: 'globalstandard', capacity: 2 }, 'the SKU name is echoed as sent');
    assert.equal(done.properties?.model?.name, fineTunedModel);
    assert.equal((await arm.deployments.get(rg, SWC.toUpperCase(), 'FT-Main')).name, 'ft-main', 'ARM names are case-insensitive');
    untap();
    // The operation is found only under its account's subscription and region.
    const operationPath = new URL(asyncOperation).pathname;
    assert.equal((await rawArm(t, 'GET', `${operationPath}?api-version=2025-09-01`)).status, 200);
    for (const elsewhere of [operationPath.replace('/locations/swedencentral/', '/locations/eastus2/'), operationPath.replace(t.emu.account(SWC).subscriptionId, t.emu.account('ftpipe-eus2').subscriptionId)]) {
      assert.deepEqual([(await rawArm(t, 'GET', `${elsewhere}?api-version=2025-09-01`)).status], [404], elsewhere);
    }
    const statusBodies = exchanges.filter((e) => e.route === 'arm.operationResults.get' && e.query.operationResultResponseType === undefined).map((e) => e.responseBody as { status: string; percentComplete?: number });
    const statuses = statusBodies.map((b) => b.status);
    assert.deepEqual([...new Set(statusBodies.map((b) => b.percentComplete))], [0], 'percentComplete 0 on every poll, Succeeded included (recorded, 2025-09-01)');
    assert.ok(statuses.length >= 1, 'the poller followed Azure-AsyncOperation');
    assert.deepEqual([...new Set(statuses)], statuses.includes('Running') ? ['Running', 'Succeeded'] : ['Succeeded']);

    const listed: string[] = [];
    for await (const d of arm.deployments.list(rg, SWC)) listed.push(d.name!);
    assert.deepEqual(listed, ['ft-main']);
  });

  it('answers DeploymentNotReady for a while after Succeeded, then chat completions on both families', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'ft-main', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'DeploymentNotReady');
      return true;
    });
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    const dated = await client.chat.completions.create({ model: 'ft-main', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(dated.object, 'chat.completion');
    assert.equal(dated.model, fineTunedModel);
    assert.ok(dated.usage!.total_tokens > 0);
    const v1 = await t.v1(SWC).chat.completions.create({ model: 'ft-main', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(v1.choices[0]!.message.content, dated.choices[0]!.message.content);
    const stream = await client.chat.completions.create({ model: 'ft-main', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, dated.choices[0]!.message.content);
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => err instanceof NotFoundError && err.code === 'DeploymentNotFound');
  });

  it('refuses chat requests the model service refuses: an undefined field (dated), a value outside the spec, an unknown role, missing content', async () => {
    const asked = { model: 'ft-main', messages: [{ role: 'user' as const, content: 'hi' }] };
    const refused = (param: string | null, message: RegExp) => (err: unknown): boolean => {
      assert.ok(err instanceof BadRequestError, String(err));
      assert.deepEqual(err.error, { message: (err.error as { message: string }).message, type: 'invalid_request_error', param, code: null });
      assert.match(err.message, message);
      return true;
    };
    const unrecognized = { ...asked, max_output_tokens: 5 } as unknown as typeof asked;
    await assert.rejects(client.chat.completions.create(unrecognized), refused(null, /Unrecognized request argument supplied: max_output_tokens/));
    await assert.rejects(client.chat.completions.create({ ...asked, temperature: 3 }), refused('temperature', /3 is greater than the maximum of 2 - 'temperature'/));
    await assert.rejects(client.chat.completions.create({ ...asked, top_p: -0.5 }), refused('top_p', /-0\.5 is less than the minimum of 0 - 'top_p'/));
    await assert.rejects(client.chat.completions.create({ ...asked, max_tokens: 2.5 }), refused('max_tokens', /2\.5 is not of type 'integer' - 'max_tokens'/));
    await assert.rejects(client.chat.completions.create({ ...asked, n: 0 }), refused('n', /0 is less than the minimum of 1 - 'n'/));
    const customer = { model: 'ft-main', messages: [{ role: 'customer', content: 'hi' }] } as unknown as typeof asked;
    await assert.rejects(client.chat.completions.create(customer), refused('messages.0.role', /"customer" is not one of \['system', 'assistant', 'user', 'function', 'tool', 'developer'\]/));
    const contentless = { model: 'ft-main', messages: [{ role: 'user' }] } as unknown as typeof asked;
    await assert.rejects(client.chat.completions.create(contentless), refused('messages.0.content', /'messages\.0\.content'/));
    // v1: the defined fields' values are checked the same way; its request schema is not vendored, so fields are not.
    await assert.rejects(t.v1(SWC).chat.completions.create({ ...asked, temperature: -1 }), refused('temperature', /-1 is less than the minimum of 0/));
    // What the spec defines passes: the deployment name as body `model` (recorded), sampling and stop settings.
    const ok = await client.chat.completions.create({ ...asked, temperature: 0, top_p: 1, n: 1, max_tokens: 16, stop: ['\n'], seed: 3, user: 'u' });
    assert.equal(ok.object, 'chat.completion');
  });

  it('lets an evaluation tell checkpoints apart: the lowest validation loss answers the most eval items', async () => {
    const scores: { step: number; loss: number; correct: number }[] = [];
    for (const c of checkpoints) {
      const name = `ckpt-${c.step}`;
      const d = await deploy(SWC, name, deploymentBody(c.id, 'GlobalStandard'));
      assert.equal(d.properties?.model?.name, c.id);
      t.emu.control.advanceClock(NOT_READY_SECONDS);
      scores.push({ step: c.step, loss: c.fullValidLoss, correct: await correctAnswers(SWC, name) });
    }
    const best = scores.reduce((a, b) => (b.loss < a.loss ? b : a));
    const last = scores.reduce((a, b) => (b.step > a.step ? b : a));
    assert.notEqual(best.step, last.step, `overfitting: the last epoch is not the best (${JSON.stringify(scores)})`);
    for (const s of scores) assert.ok(best.correct >= s.correct, JSON.stringify(scores));
    assert.ok(best.correct > last.correct, JSON.stringify(scores));
    assert.ok(best.correct < evalItems.length, 'no checkpoint is perfect');

    await deploy(SWC, 'base', deploymentBody('gpt-4.1-mini', 'GlobalStandard', 1, undefined, '2025-04-14'));
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    assert.equal(await correctAnswers(SWC, 'base'), 0, 'a base model knows no references');
  });

  it('rejects unknown models, SKUs the region lacks, and in-place model changes of fine-tuned deployments', async () => {
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody('gpt-7-ultra')), expectRestError(400, 'DeploymentModelNotSupported'));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody(`gpt-4.1-mini-2025-04-14.ft-${'a'.repeat(32)}`)), expectRestError(400, 'DeploymentModelNotSupported'));
    // gpt-4.1-mini fine-tunes have Standard deployments in eastus2/northcentralus only.
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody(fineTunedModel, 'Standard')), expectRestError(400, 'InvalidResourceProperties'));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody(fineTunedModel, 'Turbo')), expectRestError(400, 'InvalidResourceProperties'));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'ft-main', deploymentBody(checkpoints[1]!.id)), expectRestError(400, 'ModelUpgradeNotSupported'));
    await assert.rejects(arm.deployments.get(rg, SWC, 'never-created'), expectRestError(404, 'NotFound'));
    // A checkpoint deploys by its ftchkpt- id, never by its ...:ckpt-step-N name; a fine-tuned model has version "1" only.
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody(`${fineTunedModel}:ckpt-step-10`)), expectRestError(400, 'DeploymentModelNotSupported'));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'rejected', deploymentBody(fineTunedModel, 'GlobalStandard', 1, undefined, '2025-04-14')), expectRestError(400, 'DeploymentModelNotSupported'));
  });

  it('deploys a base model only with its real version and on a base-model SKU (DeveloperTier is for fine-tuned models)', async () => {
    await assert.rejects(arm.deployments.beginCreateOrUpdate(rg, SWC, 'base-bad', deploymentBody('gpt-4.1-mini', 'GlobalStandard')), expectRestError(400, 'DeploymentModelNotSupported'));
    await assert.rejects(
      arm.deployments.beginCreateOrUpdate(rg, SWC, 'base-bad', deploymentBody('gpt-4.1-mini', 'DeveloperTier', 1, undefined, '2025-04-14')),
      expectRestError(400, 'InvalidResourceProperties'),
    );
    const reasoning = await deploy(SWC, 'o4-base', deploymentBody('o4-mini', 'GlobalStandard', 1, undefined, '2025-04-16'));
    assert.equal(reasoning.properties?.versionUpgradeOption, 'OnceNewDefaultVersionAvailable');
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    // Reasoning models refuse sampling parameters.
    await assert.rejects(client.chat.completions.create({ model: 'o4-base', messages: [{ role: 'user', content: 'hi' }], temperature: 0 }), (err: unknown) => {
      const e = err as { status?: number; code?: string; param?: string };
      assert.equal(e.status, 400);
      assert.equal(e.code, 'unsupported_parameter');
      assert.equal(e.param, 'temperature');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'o4-base', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }), (err: { param?: string }) => err.param === 'max_tokens');
    const answered = await client.chat.completions.create({ model: 'o4-base', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 5 });
    assert.equal(answered.object, 'chat.completion');
    assert.equal(answered.model, 'o4-mini-2025-04-16', 'a base model is named with its version, as Azure answers');
  });

  it('answers a path to nothing as ARM and the resource provider word it: deployment NotFound, account ResourceNotFound, ResourceGroupNotFound, SubscriptionNotFound', async () => {
    const account = t.emu.account(SWC);
    const deployment = await rawArm(t, 'GET', `${account.armId}/deployments/never-created?api-version=2025-09-01`);
    assert.deepEqual([deployment.status, deployment.body.error], [404, { code: 'NotFound', message: `Specified resource '${account.armId}/deployments/never-created' cannot be found.` }]);
    const noAccount = await rawArm(t, 'GET', `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/nope/deployments?api-version=2025-09-01`);
    assert.deepEqual([noAccount.status, noAccount.body.error], [404, { code: 'ResourceNotFound', message: `The Resource 'Microsoft.CognitiveServices/accounts/nope' under resource group '${account.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix` }]);
    const noGroup = await rawArm(t, 'GET', `/subscriptions/${account.subscriptionId}/resourceGroups/other-rg/providers/Microsoft.CognitiveServices/accounts/${SWC}/deployments?api-version=2025-09-01`);
    assert.deepEqual([noGroup.status, noGroup.body.error], [404, { code: 'ResourceGroupNotFound', message: "Resource group 'other-rg' could not be found." }]);
    const noSubscription = await rawArm(t, 'GET', `/subscriptions/99999999-0000-4000-8000-000000000000/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${SWC}/deployments?api-version=2025-09-01`);
    assert.deepEqual([noSubscription.status, noSubscription.body.error?.code], [404, 'SubscriptionNotFound']);
  });

  it('serves only the ARM api-versions the resource provider registers', async () => {
    const path = `${t.emu.account(SWC).armId}/deployments?api-version=`;
    const old = await rawArm(t, 'GET', `${path}1999-01-01`);
    assert.equal(old.status, 400);
    assert.equal(old.body.error?.code, 'NoRegisteredProviderFound');
    assert.equal((await rawArm(t, 'GET', `${path}2023-05-01`)).status, 200);
  });

  it('updates capacity with PATCH and deletes through their LROs', async () => {
    const poller = await arm.deployments.beginUpdate(rg, SWC, 'ft-main', { sku: { name: 'GlobalStandard', capacity: 5 } }, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(120);
    const updated = await poller.pollUntilDone();
    assert.equal(updated.sku?.capacity, 5);
    assert.equal((await arm.deployments.get(rg, SWC, 'ft-main')).sku?.capacity, 5);

    const deleting = await arm.deployments.beginDelete(rg, SWC, 'ft-main', { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(60);
    await deleting.pollUntilDone();
    await assert.rejects(arm.deployments.get(rg, SWC, 'ft-main'), expectRestError(404, 'NotFound'));
  });

  it('expires DeveloperTier deployments after 24 emulated hours', async () => {
    await deploy(SWC, 'dev', deploymentBody(fineTunedModel, 'developertier'));
    assert.equal((await arm.deployments.get(rg, SWC, 'dev')).sku?.name, 'developertier');
    t.emu.control.advanceClock(24 * 3600);
    await assert.rejects(arm.deployments.get(rg, SWC, 'dev'), expectRestError(404, 'NotFound'));
    await assert.rejects(client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] }), NotFoundError);
  });

  it('deploys across regions and subscriptions with properties.model.source', async () => {
    const d = await deploy(NCUS, 'from-swc', deploymentBody(fineTunedModel, 'Standard', 1, t.emu.account(SWC).armId));
    assert.equal(d.properties?.model?.source, t.emu.account(SWC).armId);
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    assert.ok((await correctAnswers(NCUS, 'from-swc')) > 0);
    await assert.rejects(
      t.arm(NCUS).deployments.beginCreateOrUpdate(t.profile(NCUS).resourceGroup, NCUS, 'no-source', deploymentBody(fineTunedModel)),
      expectRestError(400, 'DeploymentModelNotSupported'),
    );
  });

  it('deletes a fine-tuned deployment after 15 days without inference; each call restarts the period', async () => {
    const ncus = t.arm(NCUS);
    const ncusRg = t.profile(NCUS).resourceGroup;
    const day = 24 * 3600;
    t.emu.control.advanceClock(14 * day);
    assert.equal((await ncus.deployments.get(ncusRg, NCUS, 'from-swc')).properties?.provisioningState, 'Succeeded');
    await t.openai(NCUS).chat.completions.create({ model: 'from-swc', messages: [{ role: 'user', content: 'still there?' }] });
    t.emu.control.advanceClock(14 * day);
    assert.equal((await ncus.deployments.get(ncusRg, NCUS, 'from-swc')).name, 'from-swc');
    t.emu.control.advanceClock(day);
    await assert.rejects(ncus.deployments.get(ncusRg, NCUS, 'from-swc'), expectRestError(404, 'NotFound'));
  });

  it('answers ARM 401 for a wrong bearer token', async () => {
    const wrong = createArmClient(t.profile(SWC), { ...t.env, EMU_ARM_TOKEN: 'not-a-token' });
    await assert.rejects(wrong.deployments.get(rg, SWC, 'base'), expectRestError(401, 'InvalidAuthenticationToken'));
  });
});

describe('emulator fine-tuned deployment quota', () => {
  let t: TestEmulator;
  let fineTunedModel: string;
  const LIMIT = 2;

  before(async () => {
    t = await startTestEmulator({ accounts: [{ ...DEFAULT_ACCOUNTS[0]!, quotas: { runningJobs: 3, fineTunedDeployments: LIMIT } }, ...DEFAULT_ACCOUNTS.slice(1)] });
    const client = t.openai(SWC);
    const training = await uploadProcessed(t, SWC, chatJsonl(20, 'train'));
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: training, seed: 3, hyperparameters: { n_epochs: 1 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    fineTunedModel = (await client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!;
  });
  after(() => t.emu.stop());

  async function deploy(name: string, body: Deployment): Promise<void> {
    const p = t.profile(SWC);
    const poller = await t.arm(SWC).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, name, body, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    await poller.pollUntilDone();
  }

  it('refuses a fine-tuned deployment beyond the account\'s limit with ARM\'s InsufficientQuota; base models, updates and a freed place are not refused', async () => {
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    for (let i = 1; i <= LIMIT; i++) await deploy(`ft-${i}`, deploymentBody(fineTunedModel));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'ft-over', deploymentBody(fineTunedModel)), expectRestError(400, 'InsufficientQuota'));
    await deploy('base', deploymentBody('gpt-4.1-mini', 'GlobalStandard', 1, undefined, '2025-04-14'));
    await deploy('ft-1', deploymentBody(fineTunedModel, 'globalstandard', 2));
    const removed = await arm.deployments.beginDelete(p.resourceGroup, p.account, 'ft-2', { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    await removed.pollUntilDone();
    await deploy('ft-over', deploymentBody(fineTunedModel));
  });
});

describe('emulator: deleting a fine-tuned model (dated job DELETE)', () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emu.stop());

  it('refuses while the model or a checkpoint of the job is deployed; afterwards neither deploys nor fine-tunes, and a copy elsewhere stays', async () => {
    const client = t.openai(SWC);
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    const training = await uploadProcessed(t, SWC, chatJsonl(20, 'train'));
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: training, seed: 5, hyperparameters: { n_epochs: 2 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const fineTunedModel = (await client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!;
    const checkpoint = (await client.fineTuning.jobs.checkpoints.list(job.id)).data.find((c) => c.fine_tuned_model_checkpoint !== fineTunedModel)!;
    const deploy = async (name: string, model: string): Promise<void> => {
      const poller = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, name, deploymentBody(model), { updateIntervalInMs: 5 });
      t.emu.control.advanceClock(CREATE_SECONDS);
      await poller.pollUntilDone();
    };
    const undeploy = async (name: string): Promise<void> => {
      const poller = await arm.deployments.beginDelete(p.resourceGroup, p.account, name, { updateIntervalInMs: 5 });
      t.emu.control.advanceClock(CREATE_SECONDS);
      await poller.pollUntilDone();
    };
    const deleteJob = () => client.delete(`/fine_tuning/jobs/${job.id}`).withResponse();
    const refusedWhileDeployed = (name: string) => (err: unknown): boolean => {
      const e = err as { status?: number; error?: { code?: string; message?: string } };
      assert.equal(e.status, 400, String(err));
      assert.equal(e.error?.code, 'unexpectedEntityState');
      assert.match(e.error?.message ?? '', new RegExp(`is deployed as '${name}'.*delete the deployment before deleting the model`));
      return true;
    };

    // A copy in another account (North Central US has a fine-tuning job, the copy's prerequisite) survives the delete.
    const ncusTraining = await uploadProcessed(t, NCUS, chatJsonl(20, 'ncus'));
    await t.openai(NCUS).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: ncusTraining, seed: 6 });
    await t.v1(SWC).post(`/fine_tuning/jobs/${job.id}/checkpoints/${checkpoint.id}/copy`, { body: { destinationResourceId: t.emu.account(NCUS).armId, region: 'northcentralus' }, headers: { 'aoai-copy-ft-checkpoints': 'preview' } });
    t.emu.control.advanceClock(CREATE_SECONDS * 2);

    await deploy('ft-final', fineTunedModel);
    await assert.rejects(deleteJob(), refusedWhileDeployed('ft-final'));
    await undeploy('ft-final');
    await deploy('ft-checkpoint', checkpoint.id);
    await assert.rejects(deleteJob(), refusedWhileDeployed('ft-checkpoint'));
    await undeploy('ft-checkpoint');

    assert.equal((await deleteJob()).response.status, 204);
    for (const model of [fineTunedModel, checkpoint.id]) {
      await assert.rejects(arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'after-delete', deploymentBody(model)), expectRestError(400, 'DeploymentModelNotSupported'));
      await assert.rejects(client.fineTuning.jobs.create({ model, training_file: training }), (err: unknown) => (err as { status?: number }).status === 400);
    }
    const ncus = t.profile(NCUS);
    const copied = await t.arm(NCUS).deployments.beginCreateOrUpdate(ncus.resourceGroup, ncus.account, 'copy-kept', deploymentBody(checkpoint.id), { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    assert.equal((await copied.pollUntilDone()).properties?.provisioningState, 'Succeeded');
  });
});

describe('emulator deployment capacity: the SKU\'s range and the free quota', () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emu.stop());

  it('refuses a capacity outside the range with InvalidCapacity and one beyond the free quota with InsufficientQuota, as Azure words them; an update needs only what it adds', async () => {
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    const base = (capacity: number) => deploymentBody('gpt-4.1-mini', 'GlobalStandard', capacity, undefined, '2025-04-14');
    const refused = (code: string, message: string) => (err: unknown): boolean => {
      expectRestError(400, code)(err);
      assert.equal((err as Error).message, message);
      return true;
    };
    await assert.rejects(arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'big', base(101)), refused('InvalidCapacity', "The specified capacity '101' of account deployment should be greater than 0 and no more than 100."));
    await assert.rejects(arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'big', base(0)), refused('InvalidCapacity', "The specified capacity '0' of account deployment should be greater than 0 and no more than 100."));
    t.emu.capacity.setSkuCapacity('gpt-4.1-mini', 'GlobalStandard', { minimum: 10, maximum: 100, step: 10, default: 10 });
    await assert.rejects(arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'big', base(15)), refused('InvalidCapacity', "The specified capacity '15' of account deployment should be from 10 to 100 in steps of 10."));
    t.emu.capacity.reset();

    const quota = 'Tokens Per Minute (thousands) - gpt-4.1-mini - GlobalStandard';
    t.emu.capacity.setUsage(p.subscriptionId, 'swedencentral', 'OpenAI.GlobalStandard.gpt-4.1-mini', { limit: 10, extraUsed: 4 });
    await assert.rejects(
      arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'big', base(7)),
      refused('InsufficientQuota', `This operation require 7 new capacity in quota ${quota}, which is bigger than the current available capacity 6. The current quota usage is 4 and the quota limit is 10 for quota ${quota}.`),
    );
    await assert.rejects(arm.deployments.get(p.resourceGroup, p.account, 'big'), expectRestError(404, 'NotFound'), 'a refused PUT creates nothing');
    const created = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'fits', base(6), { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    await created.pollUntilDone();
    await assert.rejects(
      arm.deployments.beginUpdate(p.resourceGroup, p.account, 'fits', { sku: { name: 'GlobalStandard', capacity: 7 } }),
      refused('InsufficientQuota', `This operation require 1 new capacity in quota ${quota}, which is bigger than the current available capacity 0. The current quota usage is 10 and the quota limit is 10 for quota ${quota}.`),
    );
    const same = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'fits', base(5), { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    assert.equal((await same.pollUntilDone()).sku?.capacity, 5, 'an update within what the deployment holds needs no new capacity');
  });
});

describe('emulator deployment PUT: the spec\'s writable properties', () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emu.stop());

  it('refuses a writable property of the wrong type or outside its enum or range (InvalidResourceProperties, target the field), and echoes versionUpgradeOption and raiPolicyName as sent', async () => {
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    const base = deploymentBody('gpt-4.1-mini', 'GlobalStandard', 1, undefined, '2025-04-14');
    const withProperties = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Deployment =>
      ({ ...base, ...extra, properties: { ...base.properties, ...properties } });
    const cases: [Deployment, string][] = [
      [withProperties({ versionUpgradeOption: 'Always' }), 'properties.versionUpgradeOption'],
      [withProperties({ raiPolicyName: 7 }), 'properties.raiPolicyName'],
      [withProperties({ capacitySettings: { designatedCapacity: -1 } }), 'properties.capacitySettings.designatedCapacity'],
      [withProperties({ scaleSettings: { scaleType: 'Auto' } }), 'properties.scaleSettings.scaleType'],
      [withProperties({ spilloverDeploymentName: ['x'] }), 'properties.spilloverDeploymentName'],
      [withProperties({ model: { format: 1, name: 'gpt-4.1-mini', version: '2025-04-14' } }), 'properties.model.format'],
      [withProperties({}, { tags: { team: 3 } }), 'tags'],
      [withProperties({}, { sku: { name: 'GlobalStandard', capacity: 1, tier: 'Gold' } }), 'sku.tier'],
    ];
    // Raw requests: the SDK's serializer refuses the wrong types itself.
    const path = `${t.emu.account(SWC).armId}/deployments/typed?api-version=2025-09-01`;
    for (const [body, target] of cases) {
      const answer = await rawArm(t, 'PUT', path, body);
      assert.equal(answer.status, 400, target);
      assert.deepEqual({ code: answer.body.error?.code, target: answer.body.error?.target }, { code: 'InvalidResourceProperties', target }, JSON.stringify(answer.body));
    }
    assert.deepEqual(t.emu.control.requests({ route: 'arm.deployments.put', status: 201 }), [], 'nothing was created');

    const poller = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'typed', withProperties({ versionUpgradeOption: 'NoAutoUpgrade', raiPolicyName: 'Microsoft.DefaultV2', capacitySettings: { designatedCapacity: 0, priority: 1 } }, { tags: { team: 'bikes' } }), { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    const done = await poller.pollUntilDone();
    assert.equal(done.properties?.versionUpgradeOption, 'NoAutoUpgrade');
    assert.equal(done.properties?.raiPolicyName, 'Microsoft.DefaultV2');
    // PATCH (the spec's PatchResourceTagsAndSku) types its tags and sku the same way.
    for (const [body, target] of [[{ tags: { team: 3 } }, 'tags'], [{ sku: { name: 'GlobalStandard', tier: 'Gold' } }, 'sku.tier'], [{ sku: 'GlobalStandard' }, 'sku']] as [unknown, string][]) {
      const answer = await rawArm(t, 'PATCH', path, body);
      assert.deepEqual([answer.status, answer.body.error?.code, answer.body.error?.target], [400, 'InvalidResourceProperties', target], JSON.stringify(answer.body));
    }
  });
});

describe('emulator deployment provisioning that ends Failed (control.failDeployment)', () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emu.stop());

  it('fails the next create: the operation status Failed with its error, provisioningState Failed, nothing served; a new PUT then provisions', async () => {
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    const base = deploymentBody('gpt-4.1-mini', 'GlobalStandard', 1, undefined, '2025-04-14');
    t.emu.control.failDeployment({ account: SWC, deployment: 'doomed' }, { code: 'DeploymentFailed', message: 'Capacity could not be allocated.' });
    const exchanges: Exchange[] = [];
    const untap = t.emu.control.tapExchanges((e) => exchanges.push(e));
    const poller = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'doomed', base, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    await assert.rejects(poller.pollUntilDone(), (err: unknown) => {
      assert.match(String(err), /Capacity could not be allocated/);
      return true;
    });
    untap();
    const status = exchanges.filter((e) => e.route === 'arm.operationResults.get').at(-1)!.responseBody as { status: string; error?: unknown; endTime?: string };
    assert.equal(status.status, 'Failed');
    assert.deepEqual(status.error, { code: 'DeploymentFailed', message: 'Capacity could not be allocated.' });
    assert.ok(status.endTime);
    assert.deepEqual(validateExchanges(exchanges), [], 'the Failed status and deployment as the 2025-09-01 spec shapes them');
    assert.equal((await arm.deployments.get(p.resourceGroup, p.account, 'doomed')).properties?.provisioningState, 'Failed');
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    await assert.rejects(t.openai(SWC).chat.completions.create({ model: 'doomed', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => err instanceof NotFoundError && err.code === 'DeploymentNotFound');

    const again = await arm.deployments.beginCreateOrUpdate(p.resourceGroup, p.account, 'doomed', base, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(CREATE_SECONDS);
    assert.equal((await again.pollUntilDone()).properties?.provisioningState, 'Succeeded', 'the rule fired once');
    t.emu.control.advanceClock(NOT_READY_SECONDS);
    assert.equal((await t.openai(SWC).chat.completions.create({ model: 'doomed', messages: [{ role: 'user', content: 'hi' }] })).object, 'chat.completion');
  });

  it('fails a running update over HTTP, leaving the old deployment serving', async () => {
    const p = t.profile(SWC);
    const arm = t.arm(SWC);
    const poller = await arm.deployments.beginUpdate(p.resourceGroup, p.account, 'doomed', { sku: { name: 'GlobalStandard', capacity: 2 } }, { updateIntervalInMs: 5 });
    const answer = await fetch(`${t.emu.adminUrl}/accounts/${SWC}/deployments/fail`, { method: 'POST', body: JSON.stringify({ deployment: 'doomed' }) });
    assert.equal(answer.status, 204);
    t.emu.control.advanceClock(CREATE_SECONDS);
    await assert.rejects(poller.pollUntilDone(), (err: unknown) => /The deployment failed to provision/.test(String(err)));
    const failed = await arm.deployments.get(p.resourceGroup, p.account, 'doomed');
    assert.deepEqual([failed.properties?.provisioningState, failed.sku?.capacity], ['Failed', 1]);
    assert.equal((await t.openai(SWC).chat.completions.create({ model: 'doomed', messages: [{ role: 'user', content: 'hi' }] })).object, 'chat.completion');
  });
});
