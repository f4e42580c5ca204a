/**
 * Conformance test A (direct clients): drives the end-to-end scenarios (demo-like SFT with deployment and inference, DPO, RFT, import
 * by URL, pause/resume, checkpoint copy + destination deploy, cancel) through the real `openai` and
 * `@azure/arm-cognitiveservices` clients, in the request shapes of the family each operation goes to, records every
 * exchange with `tapExchanges`, and validates each request and response against the vendored spec of its family.
 * A second test proves the validator fails on a field, status or enum value outside the spec.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Deployment } from '@azure/arm-cognitiveservices';
import type { Exchange } from '../../src/emulator';
import { dataPlaneErrorBody, InvalidRequestError } from '../../src/emulator/errors';
import { advanceUntil, chatJsonl, startTestEmulator, type TestEmulator } from '../emulator/helpers';
import { validateExchange, validateExchanges } from './validate';

const SWC = 'ftpipe-swc';
const EUS2 = 'ftpipe-eus2';
const PREVIEW = { 'aoai-copy-ft-checkpoints': 'preview' };

describe('conformance A: every exchange of the end-to-end scenarios validates against its family spec', () => {
  let t: TestEmulator;
  const exchanges: Exchange[] = [];
  let untap: () => void;

  before(async () => {
    t = await startTestEmulator();
    untap = t.emu.control.tapExchanges((e) => exchanges.push(e));
  });
  after(async () => {
    untap();
    await t.emu.stop();
  });

  async function upload(account: string, content: string, name: string): Promise<string> {
    const v1 = t.v1(account);
    const file = await v1.files.create({ file: new File([content], name), purpose: 'fine-tune' });
    t.emu.control.advanceClock(60);
    assert.equal((await v1.files.retrieve(file.id)).status, 'processed');
    return file.id;
  }

  async function deploy(account: string, name: string, body: Deployment): Promise<void> {
    const p = t.profile(account);
    const poller = await t.arm(account).deployments.beginCreateOrUpdate(p.resourceGroup, p.account, name, body, { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(600);
    await poller.pollUntilDone();
    t.emu.control.advanceClock(120);
  }

  async function finish(account: string, jobId: string): Promise<void> {
    const v1 = t.v1(account);
    await advanceUntil(t, 600, async () => (await v1.fineTuning.jobs.retrieve(jobId)).status === 'succeeded');
  }

  it('runs the scenarios', async () => {
    const v1 = t.v1(SWC);
    const dated = t.openai(SWC);
    const p = t.profile(SWC);

    // Demo-like SFT on v1 (metadata and method.supervised.hyperparameters are v1's), deploy, infer, clean up.
    const train = await upload(SWC, chatJsonl(20, 'demo'), 'train.jsonl');
    const valid = await upload(SWC, chatJsonl(10, 'demo-valid'), 'valid.jsonl');
    const sft = await v1.fineTuning.jobs.create({
      model: 'gpt-4.1-mini',
      training_file: train,
      validation_file: valid,
      seed: 7,
      suffix: 'demo',
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 'auto' } } },
      metadata: { ftpipe_run_name: 'demo' },
    });
    await finish(SWC, sft.id);
    for await (const job of v1.fineTuning.jobs.list({ limit: 2 })) assert.ok(job.id);
    await v1.fineTuning.jobs.listEvents(sft.id, { limit: 5 });
    const checkpoints = (await v1.fineTuning.jobs.checkpoints.list(sft.id)).data;
    const done = await v1.fineTuning.jobs.retrieve(sft.id);
    await (await v1.files.content(done.result_files[0]!)).text();
    await deploy(SWC, 'demo-candidate', { sku: { name: 'DeveloperTier', capacity: 1 }, properties: { model: { format: 'OpenAI', name: checkpoints[1]!.id, version: '1' } } });
    await deploy(SWC, 'demo-final', { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: done.fine_tuned_model!, version: '1' } } });
    await deploy(SWC, 'demo-baseline', { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: 'gpt-4.1-mini', version: '2025-04-14' } } });
    await dated.chat.completions.create({ model: 'demo-final', messages: [{ role: 'user', content: 'demo question 1' }] });
    const arm = t.arm(SWC);
    for await (const d of arm.deployments.list(p.resourceGroup, p.account)) assert.ok(d.name);
    await arm.deployments.get(p.resourceGroup, p.account, 'demo-final');
    const deleting = await arm.deployments.beginDelete(p.resourceGroup, p.account, 'demo-baseline', { updateIntervalInMs: 5 });
    t.emu.control.advanceClock(60);
    await deleting.pollUntilDone();
    await v1.files.list({ purpose: 'fine-tune' });
    await v1.files.delete(valid);

    // DPO on the dated family with a training tier (the tier needs the dated family, per the seed).
    const dpoLines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ input: { messages: [{ role: 'user', content: `q${i}` }] }, preferred_output: [{ role: 'assistant', content: `good ${i}` }], non_preferred_output: [{ role: 'assistant', content: `bad ${i}` }] }),
    );
    const dpoFile = await upload(SWC, dpoLines.join('\n'), 'dpo.jsonl');
    const dpo = await dated.post<{ id: string }>('/fine_tuning/jobs', {
      body: { model: 'gpt-4.1-mini', training_file: dpoFile, seed: 3, method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.2 } } }, trainingType: 'developerTier' },
    });
    await finish(SWC, dpo.id);

    // RFT on v1.
    const rftFile = await upload(SWC, Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `r${i}` }], answer: `${i}` })).join('\n'), 'rft.jsonl');
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' } as const;
    const rft = await v1.fineTuning.jobs.create({ model: 'o4-mini', training_file: rftFile, method: { type: 'reinforcement', reinforcement: { grader, hyperparameters: { reasoning_effort: 'low' } } } });
    await finish(SWC, rft.id);

    // Import by URL (dated only), from an https blob URL.
    const url = t.emu.control.putBlob('import.jsonl', chatJsonl(12, 'import'));
    const imported = await dated.post<{ id: string }>('/files/import', { body: { purpose: 'fine-tune', filename: 'import.jsonl', content_url: url } });
    await advanceUntil(t, 60, async () => (await dated.files.retrieve(imported.id)).status === 'processed');
    for await (const f of dated.files.list({ purpose: 'fine-tune' })) assert.ok(f.id);

    // Pause and resume on v1.
    const paused = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: imported.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2 } } } });
    await advanceUntil(t, 60, async () => (await v1.fineTuning.jobs.retrieve(paused.id)).status === 'running');
    t.emu.control.advanceClock(60);
    await v1.fineTuning.jobs.pause(paused.id);
    await advanceUntil(t, 60, async () => ((await v1.fineTuning.jobs.retrieve(paused.id)).status as string) === 'paused');
    await v1.fineTuning.jobs.resume(paused.id);
    await finish(SWC, paused.id);

    // Checkpoint copy to East US2 and the destination's own deployment of the copy (same name, no source).
    const destFile = await upload(EUS2, chatJsonl(10, 'dest'), 'dest.jsonl');
    await t.openai(EUS2).post('/fine_tuning/jobs', { body: { model: 'gpt-4.1', training_file: destFile, hyperparameters: { prompt_loss_weight: 0.1 }, trainingType: 'globalstandard' } });
    const copyPath = `/fine_tuning/jobs/${sft.id}/checkpoints/${checkpoints[1]!.id}/copy`;
    await v1.post(copyPath, { body: { destinationResourceId: t.emu.account(EUS2).armId, region: 'eastus2' }, headers: PREVIEW });
    t.emu.control.advanceClock(900);
    assert.equal((await v1.get<{ copiedAccountDetails: { status: string }[] }>(copyPath, { headers: PREVIEW })).copiedAccountDetails[0]!.status, 'Completed');
    await deploy(EUS2, 'copied', { sku: { name: 'GlobalStandard', capacity: 1 }, properties: { model: { format: 'OpenAI', name: checkpoints[1]!.id, version: '1' } } });

    // Cancel on v1; cancel and delete on dated; and Azure's errors.
    const toCancel = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: train });
    await v1.fineTuning.jobs.cancel(toCancel.id);
    const datedCancel = await dated.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: train, hyperparameters: { n_epochs: 2 } });
    await dated.fineTuning.jobs.cancel(datedCancel.id);
    await dated.delete(`/fine_tuning/jobs/${datedCancel.id}`);
    await assert.rejects(dated.fineTuning.jobs.retrieve(datedCancel.id));
    await assert.rejects(v1.fineTuning.jobs.create({ model: 'gpt-99', training_file: train }));
    await dated.files.delete(train);

    const violations = validateExchanges(exchanges);
    assert.deepEqual(violations, [], `${violations.length} spec violations:\n${violations.join('\n')}`);
    assert.ok(exchanges.length > 50, `validated ${exchanges.length} exchanges`);
    // The validation is strict on real answers too: one undeclared field in a recorded answer is a violation.
    const realJob = exchanges.find((e) => e.family === 'v1' && e.route === 'jobs.get')!;
    assert.ok(validateExchange({ ...realJob, responseBody: { ...(realJob.responseBody as object), total_steps: 10 } }).some((v) => v.includes("'total_steps'")));
    const realPut = exchanges.find((e) => e.route === 'arm.deployments.put')!;
    const body = realPut.responseBody as { properties: object };
    assert.ok(validateExchange({ ...realPut, responseBody: { ...body, properties: { ...body.properties, provisioningState: 'InProgress' } } }).length > 0);
    // The scenarios exercised every vendored operation (so a silently skipped one cannot pass).
    const seen = new Set(exchanges.map((e) => `${e.plane === 'arm' ? 'arm' : e.family}:${e.route}`));
    for (const route of ['files.upload', 'files.get', 'files.content', 'files.delete', 'files.list', 'jobs.create', 'jobs.get', 'jobs.list', 'jobs.events', 'jobs.checkpoints', 'jobs.pause', 'jobs.resume', 'jobs.cancel', 'checkpoints.copy', 'checkpoints.copyStatus']) {
      assert.ok(seen.has(`v1:${route}`), `v1 ${route} was exercised`);
    }
    for (const route of ['files.import', 'files.list', 'files.get', 'files.delete', 'jobs.create', 'jobs.cancel', 'jobs.delete', 'jobs.get', 'chat.completions']) assert.ok(seen.has(`dated:${route}`), `dated ${route} was exercised`);
    for (const route of ['arm.deployments.put', 'arm.deployments.get', 'arm.deployments.list', 'arm.deployments.delete', 'arm.operationResults.get']) assert.ok(seen.has(`arm:${route}`), `${route} was exercised`);
  });

  it('flags what a family does not define: fields, statuses and enum values outside the spec', () => {
    const exchange = (over: Partial<Exchange>): Exchange => ({
      plane: 'data',
      family: 'dated',
      route: 'jobs.create',
      method: 'POST',
      path: '/ftpipe-swc/openai/fine_tuning/jobs',
      query: { 'api-version': '2025-04-01-preview' },
      requestHeaders: {},
      requestBody: Buffer.from(JSON.stringify({ model: 'gpt-4.1-mini', training_file: 'file-x' })),
      status: 201,
      responseHeaders: { 'apim-request-id': 'x' },
      responseBody: { id: 'ftjob-x', object: 'fine_tuning.job', status: 'pending', model: 'gpt-4.1-mini-2025-04-14', training_file: 'file-x', created_at: 1 },
      ...over,
    });
    assert.deepEqual(validateExchange(exchange({})), []);
    const withMetadata = validateExchange(exchange({ requestBody: Buffer.from(JSON.stringify({ model: 'm', training_file: 'f', metadata: { a: 'b' } })) }));
    assert.ok(withMetadata.some((v) => v.includes("'metadata'")), withMetadata.join('\n'));
    const supervisedHyper = validateExchange(exchange({ requestBody: Buffer.from(JSON.stringify({ model: 'm', training_file: 'f', method: { type: 'supervised', supervised: { hyperparameters: {} } } })) }));
    assert.ok(supervisedHyper.length > 0, 'method.supervised is not in the dated spec');
    const queued = validateExchange(exchange({ responseBody: { id: 'ftjob-x', object: 'fine_tuning.job', status: 'queued', model: 'm', training_file: 'f' } }));
    assert.ok(queued.some((v) => v.includes('/status')), queued.join('\n'));
    assert.ok(validateExchange(exchange({ query: { 'api-version': '2099-01-01-preview' } })).length > 0);
    const listByMetadata = validateExchange(exchange({ route: 'jobs.list', method: 'GET', requestBody: Buffer.alloc(0), query: { 'api-version': '2025-04-01-preview', 'metadata[run]': 'x' }, status: 200, responseBody: { object: 'list', data: [], has_more: false } }));
    assert.ok(listByMetadata.some((v) => v.includes("'metadata[run]'")), listByMetadata.join('\n'));
    const v1Status = validateExchange(exchange({ family: 'v1', route: 'jobs.get', method: 'GET', requestBody: Buffer.alloc(0), query: {}, status: 200, responseBody: { status: 'validating_files' } }));
    assert.ok(v1Status.some((v) => v.includes('/status')), v1Status.join('\n'));

    // Chat completions on a deployment: the dated family's inference spec.
    const answer = { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'm', system_fingerprint: null, choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'OK', refusal: null } }] };
    const chat = (request: object, responseBody: object = answer) =>
      validateExchange(exchange({ route: 'chat.completions', path: '/ftpipe-swc/openai/deployments/d/chat/completions', requestBody: Buffer.from(JSON.stringify(request)), status: 200, responseBody }));
    const asked = { model: 'd', messages: [{ role: 'user', content: 'Reply with OK.' }] };
    assert.deepEqual(chat({ ...asked, temperature: 0 }), []);
    assert.ok(chat({ ...asked, max_output_tokens: 5 }).some((v) => v.includes("'max_output_tokens'")), 'a field the inference spec does not define');
    assert.ok(chat({ ...asked, temperature: 3 }).some((v) => v.includes('/temperature')), 'a value outside the spec\'s range');
    assert.ok(chat({ model: 'd', messages: [{ role: 'customer', content: 'hi' }] }).length > 0, 'a role outside the spec');
    const choice = answer.choices[0]!;
    assert.ok(chat(asked, { ...answer, choices: [{ ...choice, finish_reason: 'done' }] }).some((v) => v.includes('/finish_reason')), 'a finish_reason outside the enum');
    assert.ok(chat(asked, { ...answer, choices: [{ ...choice, message: { ...choice.message, annotations: [] } }] }).some((v) => v.includes("'annotations'")), 'a message field the spec does not define');
    // The emulator's refusal of a chat request is the inference spec's errorResponse (with the live answer's nulls).
    const refusal = (err: InvalidRequestError) =>
      validateExchange(exchange({ route: 'chat.completions', path: '/ftpipe-swc/openai/deployments/d/chat/completions', requestBody: Buffer.from(JSON.stringify(asked)), status: 400, responseBody: dataPlaneErrorBody(err) }));
    assert.deepEqual(refusal(new InvalidRequestError('Unrecognized request argument supplied: max_output_tokens', null)), []);
    assert.deepEqual(refusal(new InvalidRequestError("3 is greater than the maximum of 2 - 'temperature'", 'temperature')), []);
  });
});
