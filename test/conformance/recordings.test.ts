/**
 * Conformance test B: replays the live recordings (copied into recordings/, see its README) against the emulator and
 * compares each answer with the recorded one: status, the key set, value types, and the values that do not depend
 * on the account (object, status, codes, messages, purposes, SKUs...). Ids are compared by shape (`ftjob-<32 hex>`),
 * timestamps and counts by type. Recorded requests that need the recorded account's history (pages of 2024 jobs,
 * retired models such as gpt-35-turbo-0613 or text-davinci-003) are replayed on the emulator's own equivalents.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { advanceUntil, chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from '../emulator/helpers';

interface Recorded {
  method: string;
  url: string;
  request_body?: unknown;
  status: number;
  response_headers?: Record<string, string>;
  response_body?: unknown;
  response_body_excerpt?: Record<string, unknown>;
}

const recording = (name: string): Recorded[] =>
  (JSON.parse(readFileSync(join(__dirname, 'recordings', `${name}.json`), 'utf8')) as { exchanges: Recorded[] }).exchanges;

/** A project endpoint's recorded answer without its `additionalParameters` (the 2025 resource-endpoint recordings have none): not emulated. */
function withoutProjectFields(r: Recorded): Recorded {
  const { additionalParameters: _dropped, ...body } = r.response_body as Record<string, unknown>;
  return { ...r, response_body: body };
}

/** Keys whose values are the service's, not the account's: compared exactly. */
const EXACT = new Set(['object', 'status', 'code', 'purpose', 'type', 'level', 'deleted', 'provisioningState', 'versionUpgradeOption', 'name_sku', 'format', 'learning_rate_multiplier']);
const ID = /^(file|ftjob|ftchkpt|ftevent)-[0-9a-f]{32}$/;

/** Differences between a recorded JSON value and the emulator's, as readable paths. */
function compare(recorded: unknown, actual: unknown, path = '$', exact = new Set<string>()): string[] {
  if (recorded === null || actual === null) return recorded === actual ? [] : [`${path}: recorded ${JSON.stringify(recorded)}, got ${JSON.stringify(actual)}`];
  if (Array.isArray(recorded)) {
    if (!Array.isArray(actual)) return [`${path}: recorded an array, got ${typeof actual}`];
    if (recorded.length > 0 && actual.length === 0) return [`${path}: recorded ${recorded.length} items, got none`];
    return recorded.length > 0 ? compare(recorded[0], actual[0], `${path}[0]`, exact) : [];
  }
  if (typeof recorded === 'object') {
    if (typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: recorded an object, got ${JSON.stringify(actual)}`];
    const r = recorded as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const problems: string[] = [];
    const rk = Object.keys(r).sort().join(',');
    const ak = Object.keys(a).sort().join(',');
    if (rk !== ak) problems.push(`${path}: recorded keys [${rk}], got [${ak}]`);
    // Error messages are the service's; other messages (events, billing) carry the account's numbers.
    const exactKey = (k: string): boolean => EXACT.has(k) || (k === 'message' && path.endsWith('.error'));
    for (const k of Object.keys(r)) if (k in a) problems.push(...compare(r[k], a[k], `${path}.${k}`, exactKey(k) || exact.has(k) ? new Set(['*']) : exact));
    return problems;
  }
  if (typeof recorded !== typeof actual) return [`${path}: recorded ${typeof recorded}, got ${typeof actual}`];
  if (typeof recorded === 'string' && typeof actual === 'string' && ID.test(recorded)) {
    return ID.test(actual) && actual.split('-')[0] === recorded.split('-')[0] ? [] : [`${path}: recorded id shape ${recorded}, got ${actual}`];
  }
  if (exact.has('*') && recorded !== actual) return [`${path}: recorded ${JSON.stringify(recorded)}, got ${JSON.stringify(actual)}`];
  return [];
}

describe('conformance B: the emulator answers the recorded requests as the live service did', () => {
  let t: TestEmulator;
  let base: string;
  let key: string;

  /** A data-plane request as the recorded client sent it (api-key header), path relative to the account. */
  async function call(method: string, path: string, body?: unknown, form?: FormData): Promise<{ status: number; headers: Headers; json: unknown }> {
    const init: RequestInit = { method, headers: { 'api-key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (form) init.body = form;
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
  }

  function armCall(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpsRequest(new URL(path, t.emu.armEndpoint), {
        method,
        ca: readFileSync(t.emu.caCertPath),
        headers: { authorization: `Bearer ${t.emu.acceptedTokens[0]!}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text.length > 0 ? (JSON.parse(text) as unknown) : undefined });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  const upload = (purpose: string, content: string, filename: string, apiVersion: string) => {
    const form = new FormData();
    form.append('purpose', purpose);
    form.append('file', new Blob([content]), filename);
    return call('POST', `/openai/files?api-version=${apiVersion}`, undefined, form);
  };

  function expectLike(rec: Recorded, got: { status: number; json: unknown }): void {
    assert.equal(got.status, rec.status, `${rec.method} ${rec.url}`);
    if (rec.response_body === null) return assert.equal(got.json, undefined, `${rec.url}: no body, as recorded`);
    const problems = rec.response_body === undefined ? [] : compare(rec.response_body, got.json);
    assert.deepEqual(problems, [], `${rec.method} ${rec.url}:\n${problems.join('\n')}`);
  }

  before(async () => {
    t = await startTestEmulator();
    base = t.emu.endpointFor('ftpipe-swc');
    key = t.emu.account('ftpipe-swc').apiKey;
  });
  after(() => t.emu.stop());

  it('CreateCancelDelete (2025-04-01-preview): upload, create, cancel, DELETE 204, the gateway 404, file DELETE true then false', async () => {
    const rec = recording('net-aoai__FineTuningTests_CreateCancelDelete(null)');
    const v = '2025-04-01-preview';
    const up = await upload('fine-tune', chatJsonl(10, 'rec'), 'Assets\\fine_tuning.jsonl', v);
    expectLike(rec[0]!, up);
    assert.match(up.headers.get('location') ?? '', /\/openai\/files\/file-[0-9a-f]{32}\?api-version=2025-04-01-preview$/);
    const fileId = (up.json as { id: string }).id;
    t.emu.control.advanceClock(60);
    expectLike(rec[1]!, await call('GET', `/openai/files/${fileId}?api-version=${v}`));
    const created = await call('POST', `/openai/fine_tuning/jobs?api-version=${v}`, { ...(rec[2]!.request_body as object), training_file: fileId });
    expectLike(rec[2]!, created);
    assert.match(created.headers.get('location') ?? '', /\/openai\/fine_tuning\/ftjob-[0-9a-f]{32}\?api-version=/);
    const job = created.json as { id: string; model: string; created_at: number; estimated_finish: number };
    assert.equal(job.model, 'gpt-4o-mini-2024-07-18');
    assert.ok(Math.abs(job.estimated_finish - job.created_at - 900) <= 2);
    t.emu.control.advanceClock(1);
    expectLike(rec[3]!, await call('POST', `/openai/fine_tuning/jobs/${job.id}/cancel?api-version=${v}`));
    expectLike(rec[4]!, await call('DELETE', `/openai/fine_tuning/jobs/${job.id}?api-version=${v}`));
    const gateway = await call('GET', `/fine_tuning/jobs/${job.id}`);
    expectLike(rec[5]!, gateway);
    assert.deepEqual(gateway.json, rec[5]!.response_body);
    assert.equal(gateway.headers.get('x-ms-region'), null);
    expectLike(rec[6]!, await call('DELETE', `/openai/files/${fileId}?api-version=${v}`));
    expectLike(rec[7]!, await call('DELETE', `/openai/files/${fileId}?api-version=${v}`));
  });

  it('CreateAndCancelFineTuning (2024-05-01-preview): file DELETE answers 204 on that api-version', async () => {
    const rec = recording('net-aoai__FineTuningTests_CreateAndCancelFineTuning');
    const up = await upload('fine-tune', chatJsonl(10, 'old'), 'Assets\\fine_tuning.jsonl', '2024-05-01-preview');
    expectLike(rec[0]!, up);
    const fileId = (up.json as { id: string }).id;
    expectLike(rec[7]!, await call('DELETE', `/openai/files/${fileId}?api-version=2024-05-01-preview`));
  });

  it('DeleteFineTuningModel: DELETE of an unknown job 204, GET 404 notFound', async () => {
    const rec = recording('net-aoai__FineTuningTests_DeleteFineTuningModel');
    expectLike(rec[0]!, await call('DELETE', '/openai/fine_tuning/jobs/does-not-exist?api-version=2024-05-01-preview'));
    const got = await call('GET', '/openai/fine_tuning/jobs/does-not-exist?api-version=2024-05-01-preview');
    expectLike(rec[1]!, got);
    assert.deepEqual(got.json, rec[1]!.response_body);
  });

  it('CanUploadFileForFineTuning: an invalid file is pending, then error with Azure\'s status_details', async () => {
    const rec = recording('net-aoai__FineTuningTests_CanUploadFileForFineTuning(null)');
    const up = await upload('fine-tune', '{"this is": not valid json at all!!}\n', 'intentionally-bad-ft-input.jsonl', '2025-01-01-preview');
    expectLike(rec[0]!, up);
    const fileId = (up.json as { id: string }).id;
    t.emu.control.advanceClock(60);
    const got = await call('GET', `/openai/files/${fileId}?api-version=2025-01-01-preview`);
    expectLike(rec[1]!, got);
    assert.equal((got.json as { status_details: string }).status_details, (rec[1]!.response_body as { status_details: string }).status_details);
    expectLike(rec[2]!, await call('DELETE', `/openai/files/${fileId}?api-version=2025-01-01-preview`));
  });

  it('CanUploadWithExpiration and CanListFiles: a batch file is processed at once, the dated list is {object, data}', async () => {
    const rec = recording('net-aoai__FileTests_CanUploadWithExpiration(null)');
    const up = await upload('batch', '{"custom_id":"1"}\n', 'test_file_delete_me.jsonl', '2025-03-01-preview');
    expectLike(rec[0]!, up);
    const list = await call('GET', '/openai/files?api-version=2025-01-01-preview');
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.json as object).sort(), ['data', 'object']);
    // Recorded: the file list answers JSON without a charset; the upload (and every other files answer) with one.
    const listRec = recording('net-aoai__FileTests_CanListFiles(null)')[0]!;
    assert.equal(list.headers.get('content-type'), listRec.response_headers?.['Content-Type']);
    assert.equal(up.headers.get('content-type'), rec[0]!.response_headers?.['Content-Type'] ?? 'application/json; charset=utf-8');
    expectLike(rec[1]!, await call('DELETE', `/openai/files/${(up.json as { id: string }).id}?api-version=2025-03-01-preview`));
  });

  it('CheckpointsFineTuning and EventsFineTuning: a succeeded job, its three checkpoints and its events as recorded', async () => {
    const checkpointsRec = recording('net-aoai__FineTuningTests_CheckpointsFineTuning(null)');
    const training = await uploadProcessed(t, 'ftpipe-swc', chatJsonl(11, 'ckpt'));
    const v = '2025-03-01-preview';
    // Recorded: created with empty hyperparameters on the SDK's 11-example file, resolved to n_epochs 9, batch_size 1.
    const created = await call('POST', `/openai/fine_tuning/jobs?api-version=${v}`, { model: 'gpt-4o-mini', training_file: training, method: { type: 'supervised', supervised: { hyperparameters: {} } } });
    const jobId = (created.json as { id: string }).id;
    await advanceUntil(t, 3600, async () => ((await call('GET', `/openai/fine_tuning/jobs/${jobId}?api-version=${v}`)).json as { status: string }).status === 'succeeded');
    const job = await call('GET', `/openai/fine_tuning/jobs/${jobId}?api-version=${v}`);
    // The recorded list's first entry is a 2025 job of the same shape (gpt-4o-mini, no suffix, no validation file).
    const recordedJob = (checkpointsRec[0]!.response_body_excerpt!.data_first_4_of_10 as unknown[])[0];
    assert.deepEqual(compare(recordedJob, job.json), []);
    assert.deepEqual((job.json as { hyperparameters: unknown }).hyperparameters, (recordedJob as { hyperparameters: unknown }).hyperparameters, 'auto n_epochs for 11 examples: 9, as recorded');
    const ckpts = await call('GET', `/openai/fine_tuning/jobs/${jobId}/checkpoints?api-version=${v}&limit=10`);
    expectLike(checkpointsRec[3]!, ckpts);
    const data = (ckpts.json as { data: { step_number: number; fine_tuned_model_checkpoint: string }[] }).data;
    assert.deepEqual(data.map((c) => c.step_number), [99, 88, 77], 'the last three epochs, newest first, as recorded');
    const ftm = (job.json as { fine_tuned_model: string }).fine_tuned_model;
    assert.deepEqual(data.map((c) => c.fine_tuned_model_checkpoint), [ftm, `${ftm}:ckpt-step-88`, `${ftm}:ckpt-step-77`]);

    const eventsAsync = recording('net-aoai__FineTuningTests_EventsFineTuning(null)Async');
    const newest = await call('GET', `/openai/fine_tuning/jobs/${jobId}/events?api-version=2025-04-01-preview&limit=1`);
    expectLike(eventsAsync[0]!, newest);
    assert.match((newest.json as { data: { message: string }[] }).data[0]!.message, /^Training tokens billed: \d+$/);
    const events = recording('net-aoai__FineTuningTests_EventsFineTuning');
    const page = await call('GET', `/openai/fine_tuning/jobs/${jobId}/events?api-version=2024-07-01-preview&limit=10`);
    assert.equal(page.status, 200);
    const recordedMetrics = (events[1]!.response_body as { data: { type: string }[] }).data.find((e) => e.type === 'metrics');
    const ourMetrics = (page.json as { data: { type: string }[] }).data.find((e) => e.type === 'metrics');
    assert.deepEqual(compare(recordedMetrics, ourMetrics), []);
    assert.deepEqual(Object.keys(page.json as object).sort(), Object.keys(events[1]!.response_body as object).sort());
  });

  it('DeployAndChatWithModel and InvalidModel: the ARM deployment LRO, chat on it, delete; chat on an unknown deployment', async () => {
    const rec = recording('net-aoai__FineTuningTests_DeployAndChatWithModel(null)');
    // The recorded Standard deployment of a fine-tune: Standard is offered in North Central US for gpt-4.1-mini fine-tunes.
    const ncus = t.emu.account('ftpipe-ncus');
    const training = await uploadProcessed(t, 'ftpipe-ncus', chatJsonl(10, 'deploy'));
    const client = t.openai('ftpipe-ncus');
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: training, suffix: 'azure-ai-openai-integration-test' });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const ftm = (await client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!;
    const path = `${ncus.armId}/deployments/azure-ai-openai-test?api-version=2023-10-01-preview`;
    const putRec = rec[3]!;
    const body = putRec.request_body as { properties: { model: Record<string, string> } };
    const put = await armCall('PUT', path, { ...body, properties: { model: { ...body.properties.model, name: ftm } } });
    const recordedPut = putRec.response_body as Record<string, unknown>;
    assert.equal(put.status, 201);
    assert.deepEqual(compare({ ...recordedPut, etag: 'x' }, { ...(put.json as object), etag: 'x' }), []);
    assert.deepEqual((put.json as { sku: unknown }).sku, { name: 'standard', capacity: 1 }, 'the string capacity "1" is accepted and answered as a number');
    assert.match(String(put.headers['azure-asyncoperation']), /\/providers\/Microsoft\.CognitiveServices\/locations\/northcentralus\/operationResults\/[0-9a-f-]{36}\?api-version=2023-10-01-preview$/);
    assert.match(String(put.headers.location), /\/operationResults\/[0-9a-f-]{36}\?api-version=2023-10-01-preview&operationResultResponseType=Location$/);
    const polling = await armCall('GET', path);
    assert.deepEqual(compare(rec[4]!.response_body, polling.json), []);
    // Recorded: PUT and GET carry an ETag header, the body's quoted etag, unchanged while the deployment provisions.
    const etag = (put.json as { etag: string }).etag;
    assert.ok(putRec.response_headers?.ETag !== undefined && rec[4]!.response_headers?.ETag === putRec.response_headers.ETag);
    assert.equal(put.headers.etag, etag);
    assert.equal(polling.headers.etag, etag);
    t.emu.control.advanceClock(600);
    const succeeded = await armCall('GET', path);
    assert.deepEqual(compare(rec[5]!.response_body, succeeded.json), []);
    assert.equal(succeeded.headers.etag, (succeeded.json as { etag: string }).etag);
    t.emu.control.advanceClock(120);
    const chat = await fetch(`${ncus.endpoint}/openai/deployments/azure-ai-openai-test/chat/completions?api-version=2025-01-01-preview`, {
      method: 'POST',
      headers: { 'api-key': ncus.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(chat.status, 200);
    // The model service answers JSON without a charset (recorded here and in go-azopenai InvalidModel).
    const chatRec = rec.find((r) => r.url.includes('/chat/completions'))!;
    assert.equal(chat.headers.get('content-type'), chatRec.response_headers?.['Content-Type']);
    assert.equal(((await chat.json()) as { model: string }).model, ftm, 'the answer names the fine-tuned model');
    const deleted = await armCall('DELETE', path);
    assert.equal(deleted.status, rec[rec.length - 1]!.status);

    const invalid = recording('go-azopenai__TestClient_GetChatCompletions_InvalidModel')[0]!;
    const got = await call('POST', '/openai/deployments/invalid%20model%20name/chat/completions?api-version=2023-12-01-preview', invalid.request_body);
    expectLike(invalid, got);
    assert.deepEqual(got.json, invalid.response_body);
    assert.ok(got.headers.get('apim-request-id'));
    assert.ok(got.headers.get('x-ms-region'));
    assert.equal(got.headers.get('content-type'), invalid.response_headers?.['Content-Type']);
  });
  it('py-projects pause and resume (2025-11-15-preview): a running job not yet trained (hyperparameters -1) pauses, at step 1; paused and resumed as recorded', async () => {
    const rec = recording('py-projects__pause-resume-2025-11-15-preview');
    const v = '2025-11-15-preview';
    // The recorded job: created without method, learning_rate_multiplier 2, n_epochs and batch_size left to the service.
    const training = await uploadProcessed(t, 'ftpipe-swc', chatJsonl(10, 'py-pause'), 'py-pause.jsonl');
    const created = await call('POST', `/openai/fine_tuning/jobs?api-version=${v}`, { model: 'gpt-4.1', training_file: training, hyperparameters: { learning_rate_multiplier: 2 }, trainingType: 'Standard' });
    assert.equal(created.status, 201);
    const job = created.json as { id: string; created_at: number };
    const path = `/openai/fine_tuning/jobs/${job.id}`;
    await advanceUntil(t, 60, async () => ((await call('GET', `${path}?api-version=${v}`)).json as { status: string }).status === 'running');
    const running = await call('GET', `${path}?api-version=${v}`);
    expectLike(withoutProjectFields(rec[0]!), running);
    const shown = (got: { json: unknown }) => (got.json as { hyperparameters: unknown; estimated_finish: number });
    assert.deepEqual(shown(running).hyperparameters, (rec[0]!.response_body as { hyperparameters: unknown }).hyperparameters, 'running, no step trained: -1 as recorded');
    assert.equal(shown(running).estimated_finish, job.created_at + 900, 'not yet corrected, as recorded');
    const pausing = await call('POST', `${path}/pause?api-version=${v}`);
    expectLike(withoutProjectFields(rec[1]!), pausing);
    assert.deepEqual(shown(pausing).hyperparameters, (rec[1]!.response_body as { hyperparameters: unknown }).hyperparameters);

    await advanceUntil(t, 60, async () => ((await call('GET', `${path}?api-version=${v}`)).json as { status: string }).status === 'paused');
    const paused = await call('GET', `${path}?api-version=${v}`);
    expectLike(withoutProjectFields(rec[2]!), paused);
    const settled = shown(paused).hyperparameters as { n_epochs: number; batch_size: number };
    assert.ok(settled.n_epochs > 0 && settled.batch_size > 0, 'settled once a step is trained, as recorded when paused');
    assert.ok(shown(paused).estimated_finish > job.created_at + 900, 'corrected, as recorded (created_at + 3,427 s there)');
    // Recorded (test_finetuning_list_checkpoints): a job paused that early keeps a checkpoint at step 1.
    const checkpoints = await call('GET', `${path}/checkpoints?api-version=${v}`);
    const excerpt = rec[4]!.response_body_excerpt as { data_last: unknown };
    const data = (checkpoints.json as { data: { step_number: number }[] }).data;
    assert.deepEqual(data.map((c) => c.step_number), [1]);
    assert.deepEqual(compare(excerpt.data_last, data[0]), []);

    expectLike(withoutProjectFields(rec[3]!), await call('POST', `${path}/resume?api-version=${v}`));
  });
  it('py-projects (2025-11-15-preview): method.<type> whole on create and cancel, events after a cancel, a cancel 409; the 2025-09-01 ARM operation status', async () => {
    const rec = recording('py-projects__finetuning-2025-11-15-preview');
    const v = '2025-11-15-preview';
    const replayCreate = async (r: Recorded, content: string, name: string): Promise<string> => {
      const training = await uploadProcessed(t, 'ftpipe-swc', content, `${name}.jsonl`);
      const created = await call('POST', `/openai/fine_tuning/jobs?api-version=${v}`, { ...(r.request_body as object), training_file: training, validation_file: training });
      expectLike(withoutProjectFields(r), created);
      const recorded = r.response_body as { created_at: number; estimated_finish: number };
      const job = created.json as { id: string; created_at: number; estimated_finish: number };
      assert.equal(job.estimated_finish - job.created_at, recorded.estimated_finish - recorded.created_at, `${name}: estimated_finish from creation as recorded`);
      return job.id;
    };

    const sft = await replayCreate(rec[0]!, chatJsonl(10, 'py-sft'), 'py-sft');
    expectLike(withoutProjectFields(rec[1]!), await call('POST', `/openai/fine_tuning/jobs/${sft}/cancel?api-version=${v}`));
    expectLike(rec[2]!, await call('GET', `/openai/fine_tuning/jobs/${sft}/events?api-version=${v}`));

    const dpoLines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ input: { messages: [{ role: 'user', content: `py dpo ${i}` }] }, preferred_output: [{ role: 'assistant', content: `good ${i}` }], non_preferred_output: [{ role: 'assistant', content: `bad ${i}` }] }),
    );
    const dpo = await replayCreate(rec[3]!, dpoLines.join('\n'), 'py-dpo');
    // Azure refused this cancel once, a second after the create; the emulator answers so when told to (a fault).
    t.emu.control.addFault({ route: 'jobs.cancel', action: 'error', status: 409, times: 1 });
    expectLike(rec[4]!, await call('POST', `/openai/fine_tuning/jobs/${dpo}/cancel?api-version=${v}`));
    assert.deepEqual((await call('POST', `/openai/fine_tuning/jobs/${dpo}/cancel?api-version=${v}`)).status, 200);

    const rftLines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `py rft ${i}` }], reference_answer: `${i}` }));
    const rft = await replayCreate(rec[5]!, rftLines.join('\n'), 'py-rft');
    await call('POST', `/openai/fine_tuning/jobs/${rft}/cancel?api-version=${v}`);

    const swc = t.emu.account('ftpipe-swc');
    const client = t.openai('ftpipe-swc');
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: await uploadProcessed(t, 'ftpipe-swc', chatJsonl(10, 'py-deploy')) });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const ftm = (await client.fineTuning.jobs.retrieve(job.id)).fine_tuned_model!;
    const put = await armCall('PUT', `${swc.armId}/deployments/py-ft?api-version=2025-09-01`, { sku: { name: 'GlobalStandard', capacity: 50 }, properties: { model: { format: 'OpenAI', name: ftm, version: '1' } } });
    assert.equal(put.status, 201);
    const operation = new URL(String(put.headers['azure-asyncoperation']));
    const running = await armCall('GET', operation.pathname + operation.search);
    expectLike(rec[6]!, running);
    t.emu.control.advanceClock(600);
    expectLike(rec[7]!, await armCall('GET', operation.pathname + operation.search));
  });
});
