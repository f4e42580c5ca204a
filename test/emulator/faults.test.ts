import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIConnectionError, ConflictError, InternalServerError, RateLimitError } from 'openai';
import { chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const ACCOUNT = 'ftpipe-ncus';

describe('emulator faults and control API', () => {
  let t: TestEmulator;
  let trainingFile: string;

  before(async () => {
    t = await startTestEmulator({ faultSeed: 1234 });
    trainingFile = await uploadProcessed(t, ACCOUNT, chatJsonl(10));
  });
  after(() => t.emu.stop());

  it('throttles with 429 + Retry-After/retry-after-ms; the openai SDK retries and succeeds', async () => {
    t.emu.control.clearRequests();
    t.emu.control.addFault({ route: 'files.list', action: 'error', status: 429, retryAfterMs: 20, times: 2 });
    const page = await t.openai(ACCOUNT, { maxRetries: 2 }).files.list();
    assert.ok(page.data.length >= 1);
    assert.deepEqual(
      t.emu.control.requests({ route: 'files.list' }).map((r) => r.status),
      [429, 429, 200],
    );

    t.emu.control.addFault({ route: 'files.list', action: 'error', status: 429, retryAfterMs: 1500, times: 1 });
    await assert.rejects(t.openai(ACCOUNT).files.list(), (err: unknown) => {
      assert.ok(err instanceof RateLimitError);
      assert.equal(err.headers.get('retry-after-ms'), '1500');
      assert.equal(err.headers.get('retry-after'), '2');
      assert.equal(err.code, '429');
      return true;
    });
  });

  it("answers an injected 409 on a cancel as Azure did (unexpectedEntityState, 'cannot be canceled at this moment'); the SDK retries it", async () => {
    const job = await t.openai(ACCOUNT).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    t.emu.control.addFault({ route: 'jobs.cancel', action: 'error', status: 409, times: 2 });
    await assert.rejects(t.openai(ACCOUNT).fineTuning.jobs.cancel(job.id), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.deepEqual(err.error, { code: 'unexpectedEntityState', message: 'This item cannot be canceled at this moment. please try again.' });
      return true;
    });
    t.emu.control.clearRequests();
    assert.equal((await t.openai(ACCOUNT, { maxRetries: 2 }).fineTuning.jobs.cancel(job.id)).status, 'cancelled');
    assert.deepEqual(t.emu.control.requests({ route: 'jobs.cancel' }).map((r) => r.status), [409, 200]);
    await t.openai(ACCOUNT).delete(`/fine_tuning/jobs/${job.id}`); // the later tests count this account's jobs
  });

  it('loses the response after the job is created: a retrying client creates a second job', async () => {
    t.emu.control.clearRequests();
    t.emu.control.addFault({ route: 'jobs.create', action: 'lostResponse', status: 500, times: 1 });
    const metadata = { run: 'lost-response' };
    const job = await t.openai(ACCOUNT, { maxRetries: 2 }).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile, metadata });
    const creates = t.emu.control.requests({ route: 'jobs.create' });
    assert.deepEqual(
      creates.map((r) => [r.status, r.account]),
      [
        [500, ACCOUNT],
        [201, ACCOUNT],
      ],
    );
    const found = await t.openai(ACCOUNT).fineTuning.jobs.list({ metadata });
    assert.equal(found.data.length, 2, 'both creates took effect');
    assert.ok(found.data.some((j) => j.id === job.id));
  });

  it('closes the connection after the state change (lostConnection) or before it (drop)', async () => {
    const client = t.openai(ACCOUNT);
    const before = (await client.files.list()).data.length;
    t.emu.control.addFault({ route: 'files.upload', action: 'lostConnection', times: 1 });
    await assert.rejects(client.files.create({ file: new File([chatJsonl(10)], 'lost.jsonl'), purpose: 'fine-tune' }), APIConnectionError);
    assert.equal((await client.files.list()).data.length, before + 1, 'the upload was stored');

    t.emu.control.addFault({ route: 'files.upload', action: 'drop', times: 1 });
    await assert.rejects(client.files.create({ file: new File([chatJsonl(10)], 'dropped.jsonl'), purpose: 'fine-tune' }), APIConnectionError);
    assert.equal((await client.files.list()).data.length, before + 1, 'a dropped request changes nothing');
  });

  it('fails with 500 and 503 by route and method, adds latency, and fires rate-based faults reproducibly', async () => {
    const client = t.openai(ACCOUNT);
    t.emu.control.addFault({ route: 'files.*', method: 'GET', action: 'error', status: 503, times: 1 });
    // The data plane's codes for its own failures are the dated spec's ErrorCode values; no recording shows others.
    await assert.rejects(client.files.retrieve(trainingFile), (err: { status?: number; code?: string }) => err.status === 503 && err.code === 'serviceUnavailable');
    t.emu.control.addFault({ route: 'jobs.list', action: 'error', status: 500, times: 1 });
    await assert.rejects(client.fineTuning.jobs.list(), (err: { status?: number; code?: string }) => err.status === 500 && err.code === 'internalFailure');
    t.emu.control.addFault({ route: 'files.get', action: 'error', status: 500, account: 'ftpipe-swc' });
    assert.equal((await client.files.retrieve(trainingFile)).id, trainingFile, 'a fault for another account does not fire');
    t.emu.control.clearFaults();

    t.emu.control.addFault({ route: 'files.get', action: 'latency', latencyMs: 150, times: 1 });
    const started = Date.now();
    await client.files.retrieve(trainingFile);
    assert.ok(Date.now() - started >= 140);

    const rule = t.emu.control.addFault({ route: 'files.get', action: 'error', status: 500, rate: 0.5 });
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await client.files.retrieve(trainingFile);
      } catch (err) {
        assert.ok(err instanceof InternalServerError);
        failures++;
      }
    }
    assert.ok(failures > 8 && failures < 32, `about half fail, got ${failures}`);
    assert.equal(t.emu.control.faults().find((f) => f.id === rule.id)?.fired, failures);
    assert.ok(t.emu.control.removeFault(rule.id));
  });

  it('fails ARM requests too; the ARM SDK retries a 503', async () => {
    const p = t.profile(ACCOUNT);
    t.emu.control.clearRequests();
    t.emu.control.addFault({ route: 'arm.deployments.list', action: 'error', status: 503, retryAfterMs: 10, times: 1 });
    const names: string[] = [];
    for await (const d of t.arm(ACCOUNT).deployments.list(p.resourceGroup, p.account)) names.push(d.name!);
    assert.deepEqual(names, []);
    assert.deepEqual(
      t.emu.control.requests({ route: 'arm.*' }).map((r) => r.status),
      [503, 200],
    );
  });

  it('serves the control API over HTTP under /admin', async () => {
    const admin = t.emu.adminUrl;
    await t.openai(ACCOUNT).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    const json = async (path: string, init?: RequestInit): Promise<Record<string, unknown>> => {
      const response = await fetch(`${admin}${path}`, { ...init, headers: { 'content-type': 'application/json' } });
      assert.ok(response.ok, `${path}: ${response.status}`);
      return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
    };
    const clock = await json('/clock');
    assert.equal(clock.scale, 0);
    const advanced = await json('/clock/advance', { method: 'POST', body: JSON.stringify({ seconds: 3600 }) });
    assert.equal(Date.parse(advanced.now as string) - Date.parse(clock.now as string), 3600_000);
    assert.equal((await json('/clock', { method: 'PUT', body: JSON.stringify({ scale: 0 }) })).scale, 0);

    const fault = await json('/faults', { method: 'POST', body: JSON.stringify({ route: 'jobs.get', action: 'error', status: 500, times: 1 }) });
    assert.match(fault.id as string, /^fault-/);
    await json('/faults', { method: 'POST', body: JSON.stringify({ action: 'drop' }) });
    assert.equal(((await json('/faults')).data as unknown[]).length, 2, 'a catch-all fault does not touch the control API');
    await json(`/faults/${fault.id as string}`, { method: 'DELETE' });
    assert.equal(((await json('/faults')).data as unknown[]).length, 1);
    const bad = await fetch(`${admin}/faults`, { method: 'POST', body: JSON.stringify({ action: 'explode' }) });
    assert.equal(bad.status, 400);
    await json('/faults', { method: 'DELETE' });
    assert.equal(((await json('/faults')).data as unknown[]).length, 0);

    const creates = (await json('/requests?route=jobs.create')).data as { method: string; status: number; account: string }[];
    assert.equal(creates.length, 1);
    assert.ok(creates.every((r) => r.method === 'POST' && r.account === ACCOUNT));

    const running = await t.openai(ACCOUNT).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    await json(`/jobs/${running.id}/fail`, { method: 'POST', body: JSON.stringify({ code: 'quotaExceeded', message: 'No capacity.' }) });
    assert.deepEqual((await t.openai(ACCOUNT).fineTuning.jobs.retrieve(running.id)).error, { code: 'quotaExceeded', message: 'No capacity.' });

    const state = await json('/state');
    assert.equal((state.accounts as unknown[]).length, 3);
    const jobs = state.jobs as { id: string; status: string; account: string }[];
    assert.ok(jobs.length >= 2);
    assert.ok(jobs.every((j) => j.status === 'succeeded' || j.id === running.id), 'the dump advances jobs to emulated now');
    await json('/requests', { method: 'DELETE' });
    assert.deepEqual(((await json('/requests?route=jobs.*')).data as unknown[]).length, 0);
  });
});
