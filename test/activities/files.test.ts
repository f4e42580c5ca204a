import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileActivities } from '../../activities/files';
import { backoffMs, MAX_CHECK_INTERVAL_MS, WAIT_LIMIT_MS } from '../../activities/waiting';
import { retryAfterMs } from '../../src/azure/errors';
import { activityEnvironment, failure, runActivity, runUntilDone, startActivityTestEnv, startJob, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';
// Emulated seconds; at clock scale 2000 Azure processes a file in 1 s (real).
const TIMINGS = { fileProcessingSeconds: 2000 };

describe('waiting for Azure to process a file (emulator)', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof fileActivities>;

  const upload = async (name: string, content: string): Promise<string> =>
    (await t.azure.openaiV1(SWC).files.create({ file: new File([content], name, { type: 'application/jsonl' }), purpose: 'fine-tune' })).id;

  before(async () => {
    t = await startActivityTestEnv({ timings: TIMINGS });
    acts = fileActivities(t.azure);
  });
  after(() => t.emu.stop());

  it('checks once per attempt: "not yet" (retryable, with the next check\'s delay) until processed', async () => {
    // The emulated clock stands still until the first check has seen the file pending: at clock scale 2000 a loaded
    // machine could otherwise let Azure process it (1 s real) before that check.
    const scale = t.emu.control.clockScale();
    t.emu.control.setClockScale(0);
    const fileId = await upload('ok.jsonl', `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`);
    t.emu.control.clearRequests();
    let checks = 0;
    const done = await runUntilDone(() => {
      if (checks++ === 1) t.emu.control.setClockScale(scale);
      return acts.awaitFileProcessed({ profile: SWC, role: 'training', fileId, intervalSeconds: 0.1 });
    }).finally(() => t.emu.control.setClockScale(scale));
    assert.equal(done.result.status, 'processed');
    assert.equal(done.result.fileId, fileId);
    assert.ok(done.notYet.length >= 1, 'it was pending at first');
    for (const e of done.notYet) assert.match(e.message, new RegExp(`^training file ${fileId} \\(ok\\.jsonl\\): status pending; checking again in [\\d.]+ s$`));
    assert.deepEqual(done.notYet.map((e) => e.nextRetryDelay as number), done.notYet.map((_, i) => backoffMs(0.1, i + 1)), 'backing off from the interval');
    assert.equal(t.emu.control.requests({ route: 'files.get' }).length, done.notYet.length + 1, 'one file GET per check');
  });

  it('with the upload\'s answer (knownStatus pending), the first attempt only waits; the checks come after', async () => {
    const fileId = await upload('known.jsonl', `${JSON.stringify({ messages: [{ role: 'user', content: 'yo' }, { role: 'assistant', content: 'hey' }] })}\n`);
    t.emu.control.clearRequests();
    const done = await runUntilDone(() => acts.awaitFileProcessed({ profile: SWC, role: 'training', fileId, intervalSeconds: 0.1, knownStatus: 'pending' }));
    assert.equal(done.result.status, 'processed');
    assert.match(done.notYet[0]?.message ?? '', new RegExp(`^training file ${fileId}: status pending; checking again in 0\\.1 s$`));
    assert.equal(t.emu.control.requests({ route: 'files.get' }).length, done.notYet.length, 'no GET on the first attempt, one per check after');
  });

  it('fails for good with Azure\'s reason when the file cannot be processed', async () => {
    const fileId = await upload('bad.jsonl', 'this is not JSON\n');
    await assert.rejects(
      runUntilDone(() => acts.awaitFileProcessed({ profile: SWC, role: 'validation', fileId, intervalSeconds: 0.1 })),
      failure('FileProcessingFailed', true, new RegExp(`could not process the validation file ${fileId} \\(bad\\.jsonl\\): status error: .+`)),
    );
  });

  it('checks a run\'s files in one wait: a file found processed is not read again, the result in the input\'s order', async () => {
    const line = (tag: string) => `${JSON.stringify({ messages: [{ role: 'user', content: tag }, { role: 'assistant', content: `${tag}!` }] })}\n`;
    const early = await upload('early.jsonl', line('early'));
    for (let i = 0; i < 50 && (await t.azure.openaiV1(SWC).files.retrieve(early)).status !== 'processed'; i++) t.emu.control.advanceClock(60);
    const late = await upload('late.jsonl', line('late'));
    t.emu.control.clearRequests();
    const files = [{ role: 'training' as const, fileId: late, knownStatus: 'pending' }, { role: 'validation' as const, fileId: early }];
    const done = await runUntilDone(() => acts.awaitFilesProcessed({ profile: SWC, intervalSeconds: 0.1, files }));
    assert.deepEqual(done.result.map((f) => [f.role, f.fileId, f.status]), [['training', late, 'processed'], ['validation', early, 'processed']]);
    assert.ok(done.notYet.length >= 1, 'the late file was pending at first');
    assert.match(done.notYet[0]?.message ?? '', new RegExp(`^training file ${late}: status pending; checking again in 0\\.1 s$`), 'the first check names only the file not processed');
    const gets = t.emu.control.requests({ route: 'files.get' });
    assert.equal(gets.filter((r) => r.path.includes(early)).length, 1, 'the processed file is read once');
    assert.equal(gets.filter((r) => r.path.includes(late)).length, done.notYet.length + 1, 'the late file once per check');
  });

  it('fails the run\'s one wait for good with Azure\'s reason when one of its files cannot be processed', async () => {
    const bad = await upload('bad-pair.jsonl', 'not JSON either\n');
    const good = await upload('good-pair.jsonl', `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })}\n`);
    await assert.rejects(
      runUntilDone(() => acts.awaitFilesProcessed({ profile: SWC, intervalSeconds: 0.1, files: [{ role: 'training', fileId: good }, { role: 'validation', fileId: bad }] })),
      failure('FileProcessingFailed', true, new RegExp(`could not process the validation file ${bad} \\(bad-pair\\.jsonl\\): status error: .+`)),
    );
  });

  it('gives up after the wait limit since its first attempt, naming the last state', async () => {
    const fileId = await upload('slow.jsonl', `${JSON.stringify({ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] })}\n`);
    const env = activityEnvironment({ attempt: 40, scheduledTimestampMs: Date.now() - WAIT_LIMIT_MS });
    await assert.rejects(
      runActivity(() => acts.awaitFileProcessed({ profile: SWC, role: 'training', fileId, intervalSeconds: 0.1 }), [], env),
      failure('FileProcessingTimedOut', true, /training file .* \(slow\.jsonl\): still status pending after 360 min; giving up/),
    );
  });
});

describe('an upload or import retried after its answer was lost (emulator)', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof fileActivities>;
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-files-'));
  const dataset = (name: string): { path: string; uploadSha256: string; uploadBytes: number } => {
    const text = `${JSON.stringify({ messages: [{ role: 'user', content: name }, { role: 'assistant', content: `${name}!` }] })}\n`;
    const path = join(dir, `${name}.jsonl`);
    writeFileSync(path, text);
    return { path, uploadSha256: createHash('sha256').update(`${name}-upload`).digest('hex'), uploadBytes: Buffer.byteLength(text) + 3 };
  };
  const filesNamed = (filename: string) => (t.emu.control.dumpState().files as { id: string; filename: string; status: string }[]).filter((f) => f.filename === filename && f.status !== 'deleted');

  before(async () => {
    t = await startActivityTestEnv({ timings: TIMINGS });
    acts = fileActivities(t.azure);
  });
  after(() => t.emu.stop());

  /** The first attempt, whose answer Azure loses after storing the file; then the retry with the heartbeat it left. */
  const lostThenRetried = async <O>(route: string, call: () => Promise<O>): Promise<O> => {
    t.emu.control.addFault({ route, action: 'lostResponse', status: 500, times: 1 });
    const heartbeats: unknown[] = [];
    await assert.rejects(runActivity(call, heartbeats));
    return runActivity(call, [], activityEnvironment({ attempt: 2, heartbeatDetails: heartbeats.at(-1) }));
  };

  it('the upload the retry finds is this run\'s own (origin uploaded, so cleanup deletes it); a later run reuses it', async () => {
    const input = { profile: SWC, role: 'training' as const, ...dataset('lost-upload') };
    const retried = await lostThenRetried('files.upload', () => acts.uploadFile(input));
    assert.equal(retried.origin, 'uploaded');
    assert.deepEqual(filesNamed(retried.filename).map((f) => f.id), [retried.fileId], 'one file of that name on the account');
    const later = await runActivity(() => acts.uploadFile(input));
    assert.deepEqual([later.fileId, later.origin], [retried.fileId, 'reused']);
  });

  it('the import the retry finds is this run\'s own (origin imported)', async () => {
    const url = t.emu.control.putBlob('lost-import.jsonl', `${JSON.stringify({ messages: [{ role: 'user', content: 'i' }, { role: 'assistant', content: 'j' }] })}\n`);
    const input = { profile: SWC, role: 'validation' as const, url };
    const retried = await lostThenRetried('files.import', () => acts.importFile(input));
    assert.equal(retried.origin, 'imported');
    assert.deepEqual(filesNamed(retried.filename).map((f) => f.id), [retried.fileId]);
    assert.equal((await runActivity(() => acts.importFile(input))).origin, 'reused');
  });

  it('a retry whose first attempt found the file already there (no heartbeat of its own) reuses it', async () => {
    const input = { profile: SWC, role: 'training' as const, ...dataset('already-there') };
    const first = await runActivity(() => acts.uploadFile(input));
    const heartbeats: unknown[] = [];
    const again = await runActivity(() => acts.uploadFile(input), heartbeats, activityEnvironment({ attempt: 2 }));
    assert.deepEqual([first.origin, again.origin, again.fileId], ['uploaded', 'reused', first.fileId]);
    assert.deepEqual(heartbeats, [], 'nothing sent, nothing heartbeated');
  });
});

describe('deleting files a job not yet ended reads (emulator)', () => {
  let t: ActivityTestEnv;
  let acts: ReturnType<typeof fileActivities>;
  before(async () => {
    t = await startActivityTestEnv({ timings: TIMINGS });
    acts = fileActivities(t.azure);
  });
  after(() => t.emu.stop());

  it('keeps the file another job trains on, naming the job, and deletes the rest; the deleting run\'s own job does not count', async () => {
    const client = t.azure.openaiV1(SWC);
    const jobId = await startJob(t, SWC, 'in-use');
    // The job stays where it is (not ended) while the files are deleted.
    const scale = t.emu.control.clockScale();
    t.emu.control.setClockScale(0);
    try {
      const job = await client.fineTuning.jobs.retrieve(jobId);
      assert.ok(!['succeeded', 'failed', 'cancelled'].includes(job.status), job.status);
      const unused = (await client.files.create({ file: new File(['{}\n'], 'unused.jsonl', { type: 'application/jsonl' }), purpose: 'fine-tune' })).id;
      const answer = await runActivity(() => acts.deleteFiles({ profile: SWC, fileIds: [job.training_file, unused], withKept: true }));
      assert.deepEqual(answer, { deleted: [unused], kept: [{ fileId: job.training_file, jobId }] });
      assert.equal((await client.files.retrieve(job.training_file)).id, job.training_file, 'still on the account');
      assert.deepEqual(await runActivity(() => acts.deleteFiles({ profile: SWC, fileIds: [job.training_file] })), [], 'runs from before get the ids alone');
      assert.deepEqual(await runActivity(() => acts.deleteFiles({ profile: SWC, fileIds: [job.training_file], exceptJob: jobId, withKept: true })), { deleted: [job.training_file], kept: [] });
    } finally {
      t.emu.control.setClockScale(scale);
    }
  });
});

describe('backoff between checks', () => {
  it('starts at the interval, doubles with every attempt, stops at the cap, and yields to Retry-After', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffMs(0.5, a)), [500, 1000, 2000, 4000, 8000, 16000]);
    assert.equal(backoffMs(10, 40), MAX_CHECK_INTERVAL_MS);
    assert.equal(backoffMs(120, 40), 120_000, 'an interval above the cap stays the interval');
    assert.equal(backoffMs(0.5, 1, 7000), 7000);
  });

  it('reads Retry-After as retry-after-ms, delta-seconds or an HTTP date', () => {
    const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] });
    assert.equal(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(retryAfterMs(headers({ 'retry-after': '3' })), 3000);
    const inTwoMinutes = retryAfterMs(headers({ 'retry-after': new Date(Date.now() + 120_000).toUTCString() }))!;
    assert.ok(inTwoMinutes > 110_000 && inTwoMinutes <= 120_000, String(inTwoMinutes));
    assert.equal(retryAfterMs(headers({})), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
