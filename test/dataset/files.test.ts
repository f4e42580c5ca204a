/** File-level behaviour: upload bytes and their hash, size and line-length limits, and the statistics helpers. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { limits, openUploadStream, validateDataset, type Issue } from '../../src/dataset';
import { LineHashIndex } from '../../src/dataset/hash-index';
import { sharedLinePool } from '../../src/dataset/pool';
import { readLineBatches, readSmallFileBatches, type FileFacts, type LineBatch } from '../../src/dataset/reader';
import { autoEpochs, CountList } from '../../src/dataset/statistics';

const dir = mkdtempSync(join(tmpdir(), 'ftpipe-dataset-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fixture = (name: string): string => join(__dirname, 'fixtures', name);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const exampleLines = (n: number): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }] })).join('\n') + '\n';
const codes = (issues: Issue[]): Array<[number | null, string]> => issues.map((i) => [i.line, i.code]);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('upload bytes', () => {
  for (const name of ['supervised/bom-missing.jsonl', 'supervised/few-examples.jsonl']) {
    it(`hashes exactly what openUploadStream sends: ${name}`, async () => {
      const original = readFileSync(fixture(name));
      const sent = await readAll(await openUploadStream(fixture(name)));
      const withBom = original.subarray(0, 3).equals(limits.UTF8_BOM) ? original : Buffer.concat([limits.UTF8_BOM, original]);
      assert.ok(sent.equals(withBom), 'the upload is the file with a BOM in front, nothing else changed');
      const report = await validateDataset({ trainingFile: fixture(name), model: 'gpt-4.1-mini' });
      const file = report.files[0]!;
      assert.equal(file.bytes, original.length);
      assert.equal(file.uploadBytes, sent.length);
      assert.equal(file.uploadSha256, sha256(sent));
      assert.ok(readFileSync(fixture(name)).equals(original), 'validation never changes the file');
    });
  }
});

describe('size limits', () => {
  it('reports and skips a line longer than MAX_LINE_BYTES, and carries on with the next', async () => {
    const path = join(dir, 'long-line.jsonl');
    writeFileSync(path, Buffer.concat([limits.UTF8_BOM, Buffer.from(exampleLines(1))]));
    truncateSync(path, 3 + exampleLines(1).length + limits.MAX_LINE_BYTES + 10);
    appendFileSync(path, '\n' + exampleLines(11));
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini' });
    assert.deepEqual(codes(report.errors), [[2, 'LINE_TOO_LONG']]);
    assert.equal(report.files[0]!.lines, 13);
    assert.equal(report.files[0]!.tokens.countedExamples, 12);
  });

  it('rejects a file whose upload would reach 512 MiB', async () => {
    const path = join(dir, 'too-large.jsonl');
    writeFileSync(path, exampleLines(12));
    // Without a BOM the upload gains three bytes: this file is two bytes short of the limit on disk.
    truncateSync(path, limits.MAX_FILE_BYTES - 2);
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini' });
    assert.deepEqual(codes(report.errors), [[13, 'LINE_TOO_LONG'], [null, 'FILE_TOO_LARGE']]);
    assert.equal(report.files[0]!.uploadBytes, limits.MAX_FILE_BYTES + 1);
  });
});

describe('pathological lines', () => {
  it('reports an example nested too deeply to check instead of crashing', async () => {
    const path = join(dir, 'deep.jsonl');
    const deep = '['.repeat(30_000) + ']'.repeat(30_000);
    const tools = `[{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "x": ${deep}}}}]`;
    const lines = exampleLines(12).split('\n');
    lines[3] = `{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "tools": ${tools}}`;
    writeFileSync(path, lines.join('\n'));
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini' });
    assert.deepEqual(codes(report.errors), [[4, 'TOO_DEEPLY_NESTED']]);
  });
});

describe('long runs without a break', () => {
  it('counts a run over MAX_EXACT_PIECE_CHARS in slices, in bounded time, and flags the example', async () => {
    const path = join(dir, 'long-run.jsonl');
    const lines = exampleLines(12).split('\n');
    // 45,000 letters 'a' make 5,625 tokens (eight to a token), exactly as whole or in slices of 1,000.
    lines[4] = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a'.repeat(45_000) }] });
    writeFileSync(path, lines.join('\n'));
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini' });
    assert.deepEqual(codes(report.errors), []);
    assert.deepEqual(codes(report.warnings).filter(([, code]) => code === 'APPROXIMATE_TOKEN_COUNT'), [[5, 'APPROXIMATE_TOKEN_COUNT']]);
    const frame = 3 + 1 + 1 + 3 + 1 + 3; // two messages with their roles, 'q', and the reply priming
    assert.equal(report.files[0]!.tokens.max, frame + 5_625);
  });
});

describe('report size', () => {
  it('stays small however many lines are wrong: the first issues are listed, the rest counted', async () => {
    const path = join(dir, 'all-wrong.jsonl');
    writeFileSync(path, '{"messages": [{"role": "bot", "content": "x"}]}\n'.repeat(20_000));
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini' });
    assert.equal(report.errorCount, 20_000);
    assert.equal(report.errors.length, limits.DEFAULT_MAX_ISSUES);
    assert.deepEqual(report.errors.map((e) => e.line), Array.from({ length: limits.DEFAULT_MAX_ISSUES }, (_, i) => i + 1));
    assert.equal(report.warningCount, 20_000, 'every line after the first is a duplicate, and the BOM is missing');
    assert.ok(JSON.stringify(report).length < 16_000, `${JSON.stringify(report).length} bytes`);
  });
});

describe('progress and cancellation', () => {
  const path = join(dir, 'two-megabytes.jsonl');
  before(() => writeFileSync(path, exampleLines(30_000)));

  it('reports the bytes read until the whole file is read', async () => {
    const seen: number[] = [];
    const report = await validateDataset({ trainingFile: path, model: 'gpt-4.1-mini', onProgress: (p) => seen.push(p.bytesRead) });
    assert.ok(seen.length > 4, `${seen.length} progress calls`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'bytesRead only grows');
    assert.equal(seen.at(-1), report.files[0]!.bytes);
  });

  it('stops when its signal is aborted, with the signal\'s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    await assert.rejects(
      validateDataset({ trainingFile: path, model: 'gpt-4.1-mini', signal: controller.signal, onProgress: () => controller.abort(reason) }),
      (error) => error === reason,
    );
  });
});

describe('threads', () => {
  // About ten batches of 256 KiB, with issues in several of them: line numbers, issue order and the caps must survive the split.
  const path = join(dir, 'threads.jsonl');
  before(() => {
    const lines = exampleLines(36_000).split('\n').slice(0, -1);
    for (let i = 7; i < lines.length; i += 4_001) lines[i] = '{"messages": [{"role": "bot", "content": "x"}]}';
    lines[20_000] = '';
    lines[30_000] = lines[3]!;
    writeFileSync(path, lines.join('\n') + '\n');
  });

  it('gives the same report when the idle calling thread checks batches beside a worker thread', async () => {
    const options = { trainingFile: path, model: 'gpt-4.1-mini', maxIssues: 5 };
    const alone = await validateDataset({ ...options, callerThreadIdle: true, threads: 1 });
    assert.ok(alone.files[0]!.bytes > 7 * 256 * 1024, `${alone.files[0]!.bytes} bytes`);
    assert.ok(alone.errorCount > 5 && alone.warningCount > 1, `${alone.errorCount} errors, ${alone.warningCount} warnings`);
    assert.deepEqual(await validateDataset({ ...options, callerThreadIdle: true, threads: 2 }), alone, 'calling thread and one worker');
    // Whether the worker has room depends on timing; here every other batch goes to it, so the merge sees both sources.
    const pool = sharedLinePool();
    const check = pool.check.bind(pool);
    let asked = 0;
    let toWorkers = 0;
    pool.hasRoom = () => asked++ % 2 === 0;
    pool.check = (...args) => {
      toWorkers++;
      return check(...args);
    };
    try {
      assert.deepEqual(await validateDataset({ ...options, callerThreadIdle: true, threads: 2 }), alone, 'alternate batches on the calling thread');
      assert.ok(asked > 7, `${asked} batches`);
      assert.equal(toWorkers, Math.ceil(asked / 2), 'batches sent to the worker');
    } finally {
      // The methods of the class again.
      Reflect.deleteProperty(pool, 'check');
      Reflect.deleteProperty(pool, 'hasRoom');
    }
    assert.deepEqual(await validateDataset({ ...options, threads: 2 }), alone, 'two worker threads');
  });
});

describe('reading', () => {
  const facts = (): FileFacts => ({ hasBom: false, utf16: false, uploadSha256: '' });
  const batchBytes = (batches: LineBatch[]): Array<string | number> => batches.map((b) => ('lines' in b ? Buffer.from(b.lines).toString('latin1') : b.oversizedLineBytes));
  // Lines that straddle the 256 KiB reads, a BOM or none, CRLF, no final newline, a file shorter than a BOM, empty.
  const line = (n: number, length: number): string => JSON.stringify({ messages: [{ role: 'user', content: `${n} ${'é'.repeat(length)}` }] });
  const files: Record<string, Buffer> = {
    'bom, crlf, straddling lines': Buffer.concat([limits.UTF8_BOM, Buffer.from(Array.from({ length: 9 }, (_, i) => line(i, 70_001 + i * 997)).join('\r\n'))]),
    'no bom, final newline': Buffer.from(Array.from({ length: 300 }, (_, i) => line(i, 2_000 + i)).join('\n') + '\n'),
    'one byte': Buffer.from('{'),
    'two bytes of a bom': limits.UTF8_BOM.subarray(0, 2),
    'empty': Buffer.alloc(0),
  };
  for (const [name, content] of Object.entries(files)) {
    it(`reads a small file at once into the same batches and facts as streaming it: ${name}`, async () => {
      const path = join(dir, 'read.jsonl');
      writeFileSync(path, content);
      const streamedFacts = facts();
      const streamed: LineBatch[] = [];
      for await (const batch of readLineBatches(path, streamedFacts)) streamed.push(batch);
      const wholeFacts = facts();
      const whole = readSmallFileBatches(path, wholeFacts);
      assert.deepEqual(batchBytes(whole), batchBytes(streamed));
      assert.deepEqual(wholeFacts, streamedFacts);
      assert.equal(whole.reduce((sum, b) => sum + ('lines' in b ? b.lines.length : 0), 0), content.length - (streamedFacts.hasBom ? 3 : 0), 'every byte but the BOM, once');
      assert.equal(streamedFacts.uploadSha256, sha256(streamedFacts.hasBom ? content : Buffer.concat([limits.UTF8_BOM, content])));
    });
  }
});

describe('statistics', () => {
  it('follows the automatic n_epochs rule', () => {
    const cases: Array<[number, number]> = [[1, 25], [3, 25], [10, 10], [20, 5], [33, 3], [34, 3], [1000, 3], [8333, 3], [8334, 2], [12_501, 1], [100_000, 1]];
    for (const [examples, epochs] of cases) assert.equal(autoEpochs(examples), epochs, `${examples} examples`);
  });

  it('reports min, median, p90 and max with linear interpolation', () => {
    const list = new CountList();
    for (const n of [5, 1, 3, 2, 4]) list.push(n);
    assert.deepEqual(list.distribution(), { min: 1, median: 3, p90: 4.6, max: 5 });
    assert.equal(new CountList().distribution(), null);
  });

  it('indexes line hashes compactly and returns the first line seen', () => {
    const index = new LineHashIndex(4);
    for (let i = 1; i <= 10_000; i++) assert.equal(index.add(i * 2654435761, i, i), 0);
    assert.equal(index.add(2 * 2654435761, 2, 99), 2);
    assert.equal(index.get(10_000 * 2654435761, 10_000), 10_000);
    assert.equal(index.get(1, 1), 0);
    assert.equal(index.size, 10_000);
  });
});
