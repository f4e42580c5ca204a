/** Datasets and eval sets are read only from the worker's dataRoots: paths are resolved (`..`, symlinks) first. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { datasetActivities, type ValidateTrainingDataInput } from '../../activities/dataset';
import { readEvalSet } from '../../activities/evaluation';
import type { ActivityDeps } from '../../activities/deps';
import { createLogger } from '../../src/logging';
import type { ValidationSummary } from '../../src/pipeline/types';
import { SAMPLE_TRAINING } from '../helpers/pipeline';

describe('dataRoots: the worker reads datasets only from its configured directories', () => {
  const base = mkdtempSync(join(tmpdir(), 'ftpipe-roots-'));
  const root = join(base, 'data');
  const outside = join(base, 'elsewhere');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(root, 'train.jsonl'), readFileSync(SAMPLE_TRAINING));
  writeFileSync(join(outside, 'secret.jsonl'), readFileSync(SAMPLE_TRAINING));
  symlinkSync(join(outside, 'secret.jsonl'), join(root, 'link.jsonl'));
  const folder = join(root, 'drop');
  mkdirSync(folder);
  symlinkSync(join(outside, 'secret.jsonl'), join(folder, 'newest.jsonl'));

  const validate = (dataRoots: string[] | undefined, trainingPath: string) => {
    const deps = { config: { profiles: [], ...(dataRoots ? { dataRoots } : {}) }, logger: createLogger({ level: 'silent' }), version: 'test' } as ActivityDeps;
    const input: ValidateTrainingDataInput = { trainingPath, model: 'gpt-4.1-mini', method: 'supervised' };
    return new MockActivityEnvironment().run<[ValidateTrainingDataInput], ValidationSummary, (i: ValidateTrainingDataInput) => Promise<ValidationSummary>>((i) => datasetActivities(deps).validateTrainingData(i), input);
  };
  const refusedOutside = (path: RegExp) => (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'DatasetOutsideDataRoots');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, path);
    assert.match(err.message, /outside the worker's dataRoots .*add its directory to dataRoots/);
    assert.doesNotMatch(err.message, /root:|PATH=|bike/i, 'no file content in the message');
    return true;
  };

  it('validates a file inside a root, and refuses /etc/passwd, /proc/self/environ, a symlink out, .. and a folder whose newest file links out', async () => {
    const summary = await validate([root], join(root, 'train.jsonl'));
    assert.equal(summary.valid, true);
    await assert.rejects(validate([root], '/etc/passwd'), refusedOutside(/\/etc\/passwd/));
    await assert.rejects(validate([root], '/proc/self/environ'), refusedOutside(/\/proc\/self\/environ \(resolves to \/proc\/\d+\/environ\)/));
    await assert.rejects(validate([root], join(root, 'link.jsonl')), refusedOutside(/link\.jsonl \(resolves to .*elsewhere\/secret\.jsonl\)/));
    await assert.rejects(validate([root], join(root, '..', 'elsewhere', 'secret.jsonl')), refusedOutside(/secret\.jsonl/));
    await assert.rejects(validate([root], folder), refusedOutside(/newest\.jsonl \(resolves to .*elsewhere\/secret\.jsonl\)/));
  });

  it('defaults to the working directory only', async () => {
    await assert.rejects(validate(undefined, join(root, 'train.jsonl')), refusedOutside(/train\.jsonl.*outside the worker's dataRoots \(/));
    const summary = await validate(undefined, SAMPLE_TRAINING);
    assert.equal(summary.valid, true, 'the project (the tests\' working directory) is the default root');
  });

  it("validates against the run's profile's catalogue: a model only that profile lists is known there, and only there", async () => {
    const model = {
      id: 'gpt-9-mini', version: '2026-11-01', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384, modality: 'text', methods: ['supervised'],
      source: { document: 'a test', date: '2026-11-01' }, training: { standardRegions: [], global: true, developer: false }, deployment: {},
    };
    const deps = { config: { profiles: [{ name: 'newer', catalog: { date: '2026-11-01', models: [model] } }, { name: 'older' }], dataRoots: [root] }, logger: createLogger({ level: 'silent' }), version: 'test' } as unknown as ActivityDeps;
    const run = (profile: string) => new MockActivityEnvironment().run<[ValidateTrainingDataInput], ValidationSummary, (i: ValidateTrainingDataInput) => Promise<ValidationSummary>>(
      (i) => datasetActivities(deps).validateTrainingData(i),
      { trainingPath: join(root, 'train.jsonl'), model: 'gpt-9-mini', method: 'supervised', profile },
    );
    assert.equal((await run('newer')).valid, true);
    await assert.rejects(run('older'), (err: unknown) => err instanceof ApplicationFailure && err.type === 'DatasetUnreadable' && /unknown model 'gpt-9-mini'/.test(err.message));
  });

  it('confines eval sets the same way', async () => {
    await assert.rejects(readEvalSet('/etc/passwd', [root]), refusedOutside(/eval set \/etc\/passwd/));
    await assert.rejects(readEvalSet(join(root, 'link.jsonl'), [root]), refusedOutside(/eval set .*link\.jsonl/));
  });
});
