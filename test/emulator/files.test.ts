import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AuthenticationError, NotFoundError } from 'openai';
import { createOpenAIClient } from '../../src/azure/clients';
import { chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const ACCOUNT = 'ftpipe-swc';

describe('emulator files', () => {
  let t: TestEmulator;
  let contentServer: Server;
  let contentUrl: string;

  before(async () => {
    t = await startTestEmulator();
    contentServer = createServer((req, res) => {
      if (req.url === '/train.jsonl') res.end(chatJsonl(12, 'http'));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => contentServer.listen(0, '127.0.0.1', r));
    contentUrl = `http://127.0.0.1:${(contentServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    await t.emu.stop();
    await new Promise((r) => contentServer.close(r));
  });

  it('uploads on the dated family: 201 + Location, pending, then processed; content round-trips; delete', async () => {
    const client = t.openai(ACCOUNT);
    const content = chatJsonl(10);
    const { data: file, response } = await client.files.create({ file: new File([content], 'train.jsonl'), purpose: 'fine-tune' }).withResponse();
    assert.equal(response.status, 201);
    assert.match(response.headers.get('location') ?? '', new RegExp(`/${ACCOUNT}/openai/files/${file.id}\\?api-version=`));
    assert.match(file.id, /^file-[0-9a-f]{32}$/);
    assert.equal(file.object, 'file');
    assert.equal(file.status, 'pending');
    assert.equal(file.bytes, Buffer.byteLength(content));
    assert.equal(file.filename, 'train.jsonl');

    t.emu.control.advanceClock(29);
    assert.equal((await client.files.retrieve(file.id)).status, 'pending');
    t.emu.control.advanceClock(2);
    assert.equal((await client.files.retrieve(file.id)).status, 'processed');

    const downloaded = await client.files.content(file.id);
    assert.deepEqual(Buffer.from(await downloaded.arrayBuffer()), Buffer.from(content));

    const deleted = await client.files.delete(file.id);
    assert.deepEqual(deleted, { id: file.id, object: 'file', deleted: true });
    await assert.rejects(client.files.retrieve(file.id), NotFoundError);
    // Recorded: deleting an already deleted file answers 200 with deleted: false.
    assert.deepEqual(await client.files.delete(file.id), { id: file.id, object: 'file', deleted: false });
  });

  it('takes only the upload purposes each family\'s spec enumerates; a batch file is processed at once', async () => {
    const dated = t.openai(ACCOUNT);
    const v1 = t.v1(ACCOUNT);
    const upload = (client: typeof dated | typeof v1, purpose: string) => client.files.create({ file: new File(['{}\n'], 'p.jsonl'), purpose: purpose as 'batch' });
    await assert.rejects(upload(dated, 'user_data'), (err: { status?: number; code?: string; param?: string }) => err.status === 400 && err.code === 'invalidPayload' && err.param === 'purpose');
    await assert.rejects(upload(v1, 'fine-tune-results'), (err: { status?: number; param?: string }) => err.status === 400 && err.param === 'purpose');
    assert.equal((await upload(dated, 'evals_output')).status, 'processed');
    assert.equal((await upload(v1, 'batch')).status, 'processed');
  });

  it('refuses an upload whose file part has no content type, as Azure answered the .NET SDK (azure-sdk-for-net#44710)', async () => {
    const account = t.emu.account(ACCOUNT);
    const boundary = 'ftpipe-boundary';
    const send = (fileHeaders: string) => {
      const body = [`--${boundary}`, 'Content-Disposition: form-data; name="purpose"', '', 'fine-tune', `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="train.jsonl"', ...(fileHeaders ? [fileHeaders] : []), '', chatJsonl(10), `--${boundary}--`, ''].join('\r\n');
      return fetch(`${t.emu.endpointFor(ACCOUNT)}/openai/files?api-version=2024-10-21`, { method: 'POST', headers: { 'api-key': account.apiKey, 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    };
    for (const headers of ['', 'Content-Type: ']) {
      const refused = await send(headers);
      assert.equal(refused.status, 400, headers);
      assert.deepEqual(await refused.json(), { error: { code: 'invalidPayload', message: 'The file has no or an empty content type specified.' } });
    }
    assert.equal((await send('Content-Type: application/octet-stream')).status, 201);
  });

  it('uploads on the v1 family with 200, and lists in the v1 envelope, ignoring the paging the v1 spec does not define', async () => {
    const v1 = t.v1('ftpipe-ncus');
    const { data: file, response } = await v1.files.create({ file: new File([chatJsonl(10)], 'v1.jsonl'), purpose: 'fine-tune' }).withResponse();
    assert.equal(response.status, 200);
    t.emu.control.advanceClock(1);
    const second = await v1.files.create({ file: new File([chatJsonl(10)], 'v1b.jsonl'), purpose: 'fine-tune' });
    await v1.files.create({ file: new File(['{}'], 'v1.batch.jsonl'), purpose: 'batch' });
    // The v1 spec's list defines only `purpose`: limit, after and order are ignored (the dated list takes them).
    const page = await v1.files.list({ limit: 1, order: 'asc', purpose: 'fine-tune' });
    assert.deepEqual(page.data.map((f) => f.id), [second.id, file.id], 'every fine-tune file, newest first');
    assert.equal(page.has_more, false);
    assert.ok(!page.hasNextPage());
    const raw = await v1.get<Record<string, unknown>>('/files', { query: { limit: 1, after: second.id } });
    assert.deepEqual(Object.keys(raw).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
    assert.equal((raw.data as unknown[]).length, 3);
    assert.equal(raw.last_id, file.id);
  });

  it('pages the dated list (newest first) with after/limit, filtered by purpose; the dated envelope has no has_more', async () => {
    const client = t.openai('ftpipe-eus2');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await client.files.create({ file: new File([chatJsonl(10)], `f${i}.jsonl`), purpose: 'fine-tune' })).id);
      t.emu.control.advanceClock(1);
    }
    await client.files.create({ file: new File(['{}'], 'batch.jsonl'), purpose: 'batch' });
    // The dated spec enumerates `purpose` and names asc/desc for `order`: anything else is refused.
    for (const query of [{ purpose: 'training' }, { order: 'newest' }]) {
      await assert.rejects(client.get('/files', { query }), (err: { status?: number; code?: string; param?: string }) => err.status === 400 && err.code === 'invalidPayload' && err.param === Object.keys(query)[0]);
    }
    const raw = await client.get<Record<string, unknown>>('/files', { query: { limit: 2, purpose: 'fine-tune' } });
    assert.deepEqual(Object.keys(raw).sort(), ['data', 'object']);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await client.files.list({ limit: 2, purpose: 'fine-tune', ...(after ? { after } : {}) });
      if (page.data.length === 0) break;
      seen.push(...page.data.map((f) => f.id));
      after = page.data[page.data.length - 1]!.id;
    }
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('marks invalid JSONL as error, naming the line, and refuses it for training', async () => {
    const client = t.openai(ACCOUNT);
    const bad = chatJsonl(10, 'x', false).split('\n');
    bad[3] = '{"messages": [{"role": "user", "content": "no answer"}], ';
    const file = await client.files.create({ file: new File([bad.join('\n')], 'bad.jsonl'), purpose: 'fine-tune' });
    const few = await client.files.create({ file: new File([chatJsonl(3)], 'few.jsonl'), purpose: 'fine-tune' });
    t.emu.control.advanceClock(60);
    const got = (await client.files.retrieve(file.id)) as unknown as Record<string, unknown>;
    assert.equal(got.status, 'error');
    assert.match(String(got.status_details), /^Validation of jsonl file failed: Deserialization of line #3 failed\./);
    const empty = await client.files.create({ file: new File(['\n'], 'empty.jsonl'), purpose: 'fine-tune' });
    t.emu.control.advanceClock(60);
    assert.match(String(((await client.files.retrieve(empty.id)) as unknown as Record<string, unknown>).status_details), /no examples/);
    // Three examples make a valid file (a validation file may be small) but not a training file.
    assert.equal((await client.files.retrieve(few.id)).status, 'processed');
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: few.id }),
      (err: Error & { status?: number; param?: string }) => err.status === 400 && err.param === 'training_file' && /3 examples; fine-tuning needs at least 10/.test(err.message),
    );
    const small = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: (await uploadProcessed(t, ACCOUNT, chatJsonl(10))), validation_file: few.id });
    assert.equal(small.validation_file, few.id);
    await assert.rejects(client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: file.id }), (err: { status?: number; code?: string; param?: string }) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, 'jsonlValidationFailed');
      assert.equal(err.param, 'training_file');
      return true;
    });
  });

  it('imports only from https URLs it can fetch (the emulator blob store here); a missing blob ends in error', async () => {
    const client = t.openai(ACCOUNT);
    const dir = mkdtempSync(join(tmpdir(), 'emu-import-'));
    const path = join(dir, 'train.jsonl');
    writeFileSync(path, chatJsonl(11, 'file'));
    const importFile = (url: string, filename: string) =>
      client.post<{ id: string; status: string }>('/files/import', { body: { purpose: 'fine-tune', filename, content_url: url } }).withResponse();
    // Azure downloads the content itself: a path on this machine or plain http is nothing it can fetch.
    // Nor is a URL that does not parse (`FileImport.content_url` has format url).
    for (const url of [pathToFileURL(path).href, `${contentUrl}/train.jsonl`, 'https://', 'https:// blob']) {
      await assert.rejects(importFile(url, 'x.jsonl'), (err: { status?: number; code?: string; param?: string }) => err.status === 400 && err.code === 'invalidPayload' && err.param === 'content_url');
    }
    await assert.rejects(t.v1(ACCOUNT).post('/files/import', { body: { purpose: 'fine-tune', filename: 'x.jsonl', content_url: 'https://example.com/x' } }), NotFoundError);
    const blobUrl = t.emu.control.putBlob('train.jsonl', chatJsonl(11, 'blob'));
    assert.match(blobUrl, /^https:\/\//);
    const { data: fromBlob, response } = await importFile(`${blobUrl}?sv=2024-01-01&sig=redacted`, 'from-blob.jsonl');
    assert.equal(response.status, 201);
    assert.equal(fromBlob.status, 'pending');
    const { data: missing } = await importFile(blobUrl.replace('train.jsonl', 'missing.jsonl'), 'missing.jsonl');
    // Downloads finish in real time; processing then takes emulated time.
    const ids = [fromBlob.id, missing.id];
    for (let waited = 0; waited < 5000; waited += 20) {
      t.emu.control.advanceClock(60);
      const statuses: string[] = await Promise.all(ids.map(async (id) => (await client.files.retrieve(id)).status));
      if (!statuses.includes('pending')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const a = await client.files.retrieve(fromBlob.id);
    const c = (await client.files.retrieve(missing.id)) as unknown as Record<string, unknown>;
    assert.equal(a.status, 'processed');
    assert.equal(a.bytes, Buffer.byteLength(chatJsonl(11, 'blob')));
    assert.equal(c.status, 'error');
    assert.match(String(c.status_details), /fileImportFailed: GET .* answered 404/);
    assert.equal(Object.keys(c)[0], 'status_details', 'status_details comes first, as recorded');
  });

  it('checks expires_after as each family\'s spec defines it, and deletes a file when it expires', async () => {
    const client = t.openai(ACCOUNT);
    const v1 = t.v1(ACCOUNT);
    const DAY = 86_400;
    const count = async (): Promise<number> => (await client.files.list()).data.length;
    const before = await count();
    const upload = (c: typeof client | typeof v1, expires_after: unknown, purpose: 'batch' | 'fine-tune' = 'batch') =>
      c.files.create({ file: new File([chatJsonl(10)], 'expiring.jsonl'), purpose, expires_after: expires_after as { anchor: 'created_at'; seconds: number } });
    const refused = (param: string) => (err: { status?: number; code?: string; param?: string }) => err.status === 400 && err.code === 'invalidPayload' && err.param === param;
    // Both specs: anchor is only created_at; the dated spec: seconds 1209600..2592000.
    await assert.rejects(upload(client, { anchor: 'last_active_at', seconds: 14 * DAY }), refused('expires_after.anchor'));
    await assert.rejects(upload(client, { anchor: 'created_at', seconds: 13 * DAY }), refused('expires_after.seconds'));
    await assert.rejects(upload(v1, { anchor: 'created_at', seconds: 31 * DAY }), refused('expires_after.seconds'));
    // v1 requires both fields of expires_after once it is sent (the SDK always sends both: a raw form here).
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('expires_after[seconds]', String(14 * DAY));
    form.set('file', new File([chatJsonl(10)], 'half.jsonl'));
    const half = await fetch(`${t.emu.endpointFor(ACCOUNT)}/openai/v1/files`, { method: 'POST', headers: { 'api-key': t.emu.account(ACCOUNT).apiKey }, body: form });
    assert.equal(half.status, 400);
    assert.equal(((await half.json()) as { error: { param: string } }).error.param, 'expires_after.anchor');
    assert.equal(await count(), before, 'a refused upload stores nothing');

    const importFile = (expires_after: unknown) =>
      client.post<{ id: string }>('/files/import', { body: { purpose: 'fine-tune', filename: 'imported.jsonl', content_url: t.emu.control.putBlob('expiring.jsonl', chatJsonl(11)), expires_after } });
    await assert.rejects(importFile('soon'), refused('expires_after'));
    await assert.rejects(importFile({ anchor: 'created_at', seconds: 60 }), refused('expires_after.seconds'));

    const dated = await upload(client, { anchor: 'created_at', seconds: 14 * DAY });
    const viaV1 = await upload(v1, { anchor: 'created_at', seconds: 15 * DAY }, 'fine-tune');
    const imported = await importFile({ anchor: 'created_at', seconds: 14 * DAY });
    const kept = await upload(client, undefined);
    t.emu.control.advanceClock(14 * DAY - 1);
    for (const id of [dated.id, viaV1.id, imported.id, kept.id]) assert.equal((await client.files.retrieve(id)).id, id, 'not expired yet');
    t.emu.control.advanceClock(1);
    // Expired: gone as if deleted (404, not listed, a second delete answers deleted: false).
    for (const id of [dated.id, imported.id]) await assert.rejects(client.files.retrieve(id), NotFoundError);
    assert.deepEqual(await client.files.delete(dated.id), { id: dated.id, object: 'file', deleted: false });
    const listed = (await client.files.list()).data.map((f) => f.id);
    assert.ok(!listed.includes(imported.id) && listed.includes(viaV1.id) && listed.includes(kept.id));
    t.emu.control.advanceClock(DAY);
    await assert.rejects(v1.files.retrieve(viaV1.id), NotFoundError);
    // A job cannot train on an expired file.
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: viaV1.id }),
      (err: { status?: number; param?: string }) => err.status === 400 && err.param === 'training_file',
    );
    await client.files.delete(kept.id);
  });

  it('imports from http and file URLs in lenient mode only (rehearsals)', async () => {
    const lenient = await startTestEmulator({ strict: false });
    try {
      const client = lenient.openai(ACCOUNT);
      const { response } = await client.post('/files/import', { body: { purpose: 'fine-tune', filename: 'h.jsonl', content_url: `${contentUrl}/train.jsonl` } }).withResponse();
      assert.equal(response.status, 201);
    } finally {
      await lenient.emu.stop();
    }
  });

  it('answers 401 in Azure shape for a wrong or another account\'s api key, and accepts a bearer token', async () => {
    const wrong = createOpenAIClient(t.profile(ACCOUNT), { ...t.env, EMU_KEY_FTPIPE_SWC: 'nope' }, { maxRetries: 0 });
    await assert.rejects(wrong.files.list(), (err: unknown) => {
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.code, '401');
      assert.match(err.message, /Access denied due to invalid subscription key/);
      return true;
    });
    // The key of another account is wrong here too.
    const otherKey = createOpenAIClient(t.profile(ACCOUNT), { ...t.env, EMU_KEY_FTPIPE_SWC: t.emu.account('ftpipe-ncus').apiKey }, { maxRetries: 0 });
    await assert.rejects(otherKey.files.list(), AuthenticationError);
    // A bearer token that the emulator accepts works on the data plane.
    const tokenProfile = { ...t.profile(ACCOUNT), auth: { type: 'token' as const, tokenEnv: 'EMU_ARM_TOKEN' } };
    const viaToken = createOpenAIClient(tokenProfile, t.env, { maxRetries: 0 });
    assert.ok(Array.isArray((await viaToken.files.list()).data));
  });
});
