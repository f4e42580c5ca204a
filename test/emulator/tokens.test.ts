import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateDataset } from '../../src/dataset/validate';
import { exampleTokens, promptTokens } from '../../src/emulator/tokens';
import { advanceUntil, startTestEmulator, type TestEmulator } from './helpers';

const ROOT = join(__dirname, '..', '..');
const TRAINING = join(ROOT, 'examples', 'data', 'bike-shop-train.jsonl');

describe('emulator token counts (tiktoken o200k_base, the cookbook\'s chat counting)', () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emu.stop());

  it('counts 3 per message, each string value, 1 per name and 3 priming the reply', () => {
    const hi = { role: 'user', content: 'hi' };
    const hello = { role: 'assistant', content: 'hello' };
    // (3 + "user" + "hi") + (3 + "assistant" + "hello") + 3, each word one token.
    assert.equal(exampleTokens({ messages: [hi, hello] }, 'chat'), 13);
    assert.equal(exampleTokens({ messages: [{ ...hi, name: 'bob' }, hello] }, 'chat'), 15, 'a name adds its tokens and 1');
    assert.equal(exampleTokens({ messages: [hi, { ...hello, weight: 0 }] }, 'chat'), 13, 'a weight counts nothing');
    assert.equal(exampleTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, hello] }, 'chat'), 13, 'text parts count their text');
    assert.equal(exampleTokens({ input: { messages: [hi] }, preferred_output: [hello], non_preferred_output: [hello] }, 'preference'), 18);
    assert.equal(promptTokens([hi]), 8);
  });

  it('bills a job trained_tokens = the file\'s tokens x epochs, as ftpipe\'s validator estimates them independently', async () => {
    const client = t.openai('ftpipe-swc');
    const file = await client.files.create({ file: new File([readFileSync(TRAINING)], 'bike-shop-train.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' });
    t.emu.control.advanceClock(60);
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: file.id, seed: 1, hyperparameters: { n_epochs: 3 } });
    await advanceUntil(t, 600, async () => (await client.fineTuning.jobs.retrieve(job.id)).status === 'succeeded');
    const done = await client.fineTuning.jobs.retrieve(job.id);
    const report = await validateDataset({ trainingFile: TRAINING, model: 'gpt-4.1-mini', nEpochs: 3 });
    assert.equal(done.trained_tokens, report.billedTokensEstimate);
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 50 });
    assert.ok(events.data.some((e) => e.message === `Training tokens billed: ${done.trained_tokens}`), 'the billed event says the same');
  });
});
