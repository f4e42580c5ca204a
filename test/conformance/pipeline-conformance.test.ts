/**
 * Conformance test A on the pipeline itself: the demo run (preflight, validate, upload, create the job, train,
 * collect, clean up) on the real Temporal dev server and the strict emulator, with every HTTP exchange ftpipe's own
 * request code makes validated against the vendored spec of its family. (The other scenarios - DPO, RFT, import,
 * pause/resume, copy + destination deploy, cancel - are driven with ftpipe's request shapes in spec-conformance.)
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Exchange } from '../../src/emulator';
import { usePipelineStack } from '../helpers/pipeline';
import { validateExchanges } from './validate';

describe('conformance A: ftpipe demo run, every exchange against its family spec', () => {
  const env = usePipelineStack();
  const exchanges: Exchange[] = [];
  before(() => {
    env.emulator.control.tapExchanges((e) => exchanges.push(e));
  });

  it('sends and receives only what the specs define', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const result = await worker.runUntil(async () => (await env.start(taskQueue, env.input({ suffix: 'conformance' }))).result());
    assert.equal(result.outcome, 'succeeded');
    const routes = new Set(exchanges.map((e) => e.route));
    for (const route of ['files.upload', 'jobs.create', 'jobs.get', 'jobs.checkpoints']) assert.ok(routes.has(route), `the run used ${route}`);
    const violations = validateExchanges(exchanges);
    assert.deepEqual(violations, [], `${violations.length} spec violations:\n${violations.join('\n')}`);
  });
});
