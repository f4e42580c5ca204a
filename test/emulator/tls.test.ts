import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIConnectionError } from 'openai';
import { createArmClient, createOpenAIClient, createOpenAIV1Client } from '../../src/azure/clients';
import { chatJsonl, startTestEmulator, type TestEmulator } from './helpers';

const ACCOUNT = 'ftpipe-eus2';

describe('emulator over https: per-client CA trust (caCertPath)', () => {
  let t: TestEmulator;

  before(async () => {
    t = await startTestEmulator({ dataPlaneHttps: true });
  });
  after(() => t.emu.stop());

  it('serves the data plane over https; clients built with caCertPath trust it (uploads, downloads, v1)', async () => {
    assert.match(t.emu.endpointFor(ACCOUNT), /^https:\/\/127\.0\.0\.1:\d+\/ftpipe-eus2$/);
    const client = t.openai(ACCOUNT);
    const content = chatJsonl(10, 'tls');
    const { data: file, response } = await client.files.create({ file: new File([content], 'tls.jsonl'), purpose: 'fine-tune' }).withResponse();
    assert.equal(response.status, 201);
    assert.match(response.headers.get('location') ?? '', /^https:\/\//);
    assert.equal(Buffer.from(await (await client.files.content(file.id)).arrayBuffer()).toString('utf8'), content);
    const v1 = await t.v1(ACCOUNT).files.retrieve(file.id);
    assert.equal(v1.bytes, Buffer.byteLength(content));
  });

  it('does not make the process trust the certificate: a client without caCertPath refuses it', async () => {
    const { caCertPath: _ca, ...untrusting } = t.profile(ACCOUNT);
    await assert.rejects(createOpenAIClient(untrusting, t.env, { maxRetries: 0 }).files.list(), APIConnectionError);
    await assert.rejects(createOpenAIV1Client(untrusting, t.env, { maxRetries: 0 }).files.list(), APIConnectionError);
    await assert.rejects(createArmClient(untrusting, t.env).deployments.get(untrusting.resourceGroup, ACCOUNT, 'none'), (err: Error) =>
      /self[- ]signed|certificate/i.test(err.message),
    );
  });

  it('names a missing credential variable without leaking any value', () => {
    const env = { ...t.env };
    delete env.EMU_KEY_FTPIPE_EUS2;
    assert.throws(() => createOpenAIClient(t.profile(ACCOUNT), env), /environment variable EMU_KEY_FTPIPE_EUS2 is not set/);
    const secret = 'secret-key-value-123';
    assert.throws(
      () => createArmClient(t.profile(ACCOUNT), { EMU_KEY_FTPIPE_EUS2: secret }),
      (err: Error) => /environment variable EMU_ARM_TOKEN is not set/.test(err.message) && !err.message.includes(secret),
    );
  });
});
