/** `ftpipe validate` as a user runs it: exit codes, the human summary and the JSON report. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ValidationReport } from '../../src/dataset';

const root = join(__dirname, '..', '..');
const fixture = (name: string): string => join('test', 'dataset', 'fixtures', name);

function ftpipe(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', ...args], { cwd: root, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('ftpipe validate', () => {
  it('exits 0 on a valid file and prints one JSON report with --json', () => {
    const run = ftpipe(fixture('supervised/valid-chat.jsonl'), '--model', 'gpt-4.1-mini', '--json');
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as ValidationReport;
    assert.equal(report.valid, true);
    assert.equal(report.model, 'gpt-4.1-mini-2025-04-14');
    assert.equal(report.files[0]!.examples, 122);
    assert.deepEqual(report.epochs, { count: 3, source: 'auto' });
    assert.equal(report.billedTokensEstimate, report.files[0]!.tokens.totalTokens * 3);
  });

  it('exits 1 on invalid data and prints file:line: path: reason, then the count of the rest', () => {
    const file = fixture('supervised/combination.jsonl');
    const run = ftpipe(file, '--model', 'gpt-4.1-mini', '--max-issues', '3');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^INVALID: supervised fine-tuning of gpt-4\.1-mini-2025-04-14/);
    assert.ok(run.stdout.includes(`${file}:5: messages[0].weight: 'weight' is not allowed on a user message [KEY_NOT_ALLOWED_FOR_ROLE]`), run.stdout);
    assert.ok(run.stdout.includes('errors (5):'), run.stdout);
    assert.ok(run.stdout.includes('... and 2 more'), run.stdout);
  });

  it('honours --n-epochs and --validation', () => {
    const run = ftpipe(fixture('supervised/few-examples.jsonl'), '--validation', fixture('supervised/validation-overlap.jsonl'), '--model', 'gpt-4o', '--n-epochs', '2', '--json');
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as ValidationReport;
    assert.deepEqual(report.epochs, { count: 2, source: 'explicit' });
    assert.deepEqual(report.files.map((f) => f.role), ['training', 'validation']);
    assert.equal(report.warnings.find((w) => w.code === 'IN_TRAINING_AND_VALIDATION')?.line, 1);
  });

  it('prints the same report with --threads 2 (checked on a worker thread and its own) as on its own thread', () => {
    const args = [fixture('supervised/combination.jsonl'), '--model', 'gpt-4.1-mini', '--json'];
    const alone = ftpipe(...args);
    const threaded = ftpipe(...args, '--threads', '2');
    assert.equal(threaded.status, 1, threaded.stderr);
    assert.equal(threaded.stdout, alone.stdout);
  });

  it('exits 2 on bad usage: unknown model, unsupported method, missing file, bad option', () => {
    const cases: Array<[string[], RegExp]> = [
      [[fixture('supervised/few-examples.jsonl'), '--model', 'gpt-9'], /unknown model 'gpt-9'/],
      [[fixture('dpo/valid.jsonl'), '--model', 'gpt-4.1-nano', '--method', 'dpo'], /gpt-4\.1-nano does not support dpo fine-tuning/],
      [['no/such/file.jsonl', '--model', 'gpt-4.1-mini'], /training file not found: no\/such\/file\.jsonl/],
      [[fixture('supervised/few-examples.jsonl'), '--model', 'gpt-4.1-mini', '--n-epochs', '0'], /--n-epochs <n>' argument '0' is invalid\. not a positive integer: 0/],
      [[fixture('supervised/few-examples.jsonl'), '--model', 'gpt-4.1-mini', '--threads', '0'], /--threads <n>' argument '0' is invalid\. not a positive integer: 0/],
      [[fixture('supervised/few-examples.jsonl'), '--model', 'gpt-4.1-mini', '--method', 'rlhf'], /Allowed choices are supervised, dpo, reinforcement/],
      [[fixture('supervised/few-examples.jsonl')], /required option '--model <id>' not specified/],
    ];
    for (const [args, message] of cases) {
      const run = ftpipe(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });

  it('reads extra models from the file FTPIPE_CATALOG names', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', fixture('supervised/few-examples.jsonl'), '--model', 'my-model', '--json'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, FTPIPE_CATALOG: join(__dirname, 'fixtures', 'catalog', 'extra-models.yaml') },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as ValidationReport).model, 'my-model-2026-01-01');
  });
});
