/**
 * The emulator's per-account fine-tuning quotas (src/emulator/quotas.ts): a job create beyond the running + queued
 * places and an upload beyond the file count or bytes are refused with Azure's data-plane error body; a freed place
 * (a job ended, a file deleted) is usable again. The deployment limit is in deployments.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIError } from 'openai';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/config';
import { chatJsonl, startTestEmulator, uploadProcessed, type TestEmulator } from './helpers';

const ACCOUNT = DEFAULT_ACCOUNTS[0]!.name;

/** Azure's refusal of a create over a limit: HTTP 400 with code `quotaExceeded` in its error body. */
function quotaRefusal(message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof APIError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'quotaExceeded');
    assert.match(err.message, message);
    return true;
  };
}

describe('emulator quotas', () => {
  let t: TestEmulator;
  let trainingFile: string;
  const content = chatJsonl(10, 'quota');
  const bytes = Buffer.byteLength(content);

  before(async () => {
    // One job place (1 running + 0 queued), two fine-tune files, and room for two files of this size.
    t = await startTestEmulator({ accounts: [{ ...DEFAULT_ACCOUNTS[0]!, quotas: { runningJobs: 1, queuedJobs: 0, files: 2, fileBytes: bytes * 2 } }, ...DEFAULT_ACCOUNTS.slice(1)] });
    trainingFile = await uploadProcessed(t, ACCOUNT, content);
  });
  after(() => t.emu.stop());

  it('refuses a job beyond the running + queued places with quotaExceeded, and takes one once a place frees', async () => {
    const v1 = t.v1(ACCOUNT);
    const first = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    await assert.rejects(v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile }), quotaRefusal(/has 1 fine-tuning jobs running or queued; the limit is 1 running and 0 queued/));
    await assert.rejects(t.openai(ACCOUNT).fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile }), quotaRefusal(/the limit is 1 running/), 'the dated family counts the same places');
    await v1.fineTuning.jobs.cancel(first.id);
    const next = await v1.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: trainingFile });
    assert.equal(next.status, 'pending');
    await v1.fineTuning.jobs.cancel(next.id);
  });

  it('refuses an upload beyond the file count or the bytes with quotaExceeded; a deleted file frees its place', async () => {
    const client = t.openai(ACCOUNT);
    const upload = (text: string) => client.files.create({ file: new File([text], 'more.jsonl'), purpose: 'fine-tune' });
    const bigger = chatJsonl(11, 'quota');
    await assert.rejects(upload(bigger), quotaRefusal(new RegExp(`holds ${bytes} bytes of fine-tuning files; this upload of ${Buffer.byteLength(bigger)} bytes would exceed the limit of ${bytes * 2} bytes`)));
    const second = await upload(content);
    await assert.rejects(upload('{}'), quotaRefusal(/holds 2 fine-tuning files; the limit is 2/));
    await client.files.delete(second.id);
    await upload(content);
  });
});
