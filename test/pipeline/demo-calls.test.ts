import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readPipelineFile } from '../../src/cli/commands/runs';
import { packageRoot } from '../../src/paths';
import { EVENTS_EVERY_POLLS } from '../../src/pipeline/progress';
import { usePipelineStack } from '../helpers/pipeline';

/** The demo's clock (`ftpipe demo`, bench/demo-calls.ts), so the demo's intervals meet Azure's emulated durations as in the demo. */
const CLOCK_SCALE = 200;
/**
 * The calls outside the training monitor's polls: 79 measured on 2026-12-01 (preflight 4, upload 6, create 1,
 * automatic evaluations 1, collect 1, evaluation 61, deploy 5; 83 before an evaluation deployment's first answer
 * became its smoke test), with room for a few retries under load. Waiting for ARM can only take fewer checks on a
 * loaded machine (each check comes later), never more.
 */
const CALLS_BESIDE_POLLS = 84;
/** Chat completions answered: 10 eval items on each of the 3 checkpoints and the baseline, and the new version's smoke test. */
const ANSWERS = 4 * 10 + 1;
/** The demo job's status as the polls see it move: its first sight, then queued, running, succeeded (each lists events). */
const STATUS_SIGHTS = 4;

// Issue 13: the demo pipeline made 168-172 Azure calls (ARM operation URLs and deployments polled every 0.5 s, a
// look-up before every write); the target is at most 100. Counted from the emulator's request log, not from time.
describe('Azure calls of the demo pipeline', () => {
  const env = usePipelineStack({ clockScale: CLOCK_SCALE });

  it('runs the demo with each write once, no ARM operation-status read, and at most the stated calls beside the polls', async (t) => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const input = readPipelineFile(join(packageRoot(), 'examples', 'demo-pipeline.yaml'));
    const result = await worker.runUntil(async () => (await env.start(taskQueue, input)).result());
    assert.equal(result.outcome, 'succeeded');

    const requests = env.emulator.control.requests();
    const count = (route: string, status?: number): number => requests.filter((r) => r.route === route && (status === undefined || r.status === status)).length;
    // Exactly once each: the job, the two files, four evaluation deployments and the new version, the four deleted.
    assert.deepEqual(
      [count('jobs.create'), count('files.upload'), count('arm.deployments.put', 201), count('arm.deployments.put'), count('arm.deployments.delete', 202), count('arm.deployments.delete')],
      [1, 2, 5, 5, 4, 4],
    );
    assert.equal(count('arm.operationResults.get'), 0, 'deployments are followed by their own state, not by the operation URL');
    // A look before a write only on a retry: each 404 is the check that a deleted deployment is gone.
    assert.equal(count('arm.deployments.get', 404), 4, 'no look-up before the PUTs');

    // An evaluation deployment is not smoke-tested apart: its first eval answer is the smoke test.
    assert.equal(count('chat.completions', 200), ANSWERS, 'each eval item answered once, and one smoke test (the new version\'s)');

    const polls = count('jobs.get');
    const monitor = polls + count('jobs.events');
    const beside = requests.length - monitor;
    t.diagnostic(`demo: ${requests.length} Azure calls: ${monitor} by the training monitor (${polls} job GETs), ${beside} beside it`);
    assert.ok(beside <= CALLS_BESIDE_POLLS, `${beside} calls beside the training monitor's (bound ${CALLS_BESIDE_POLLS})`);
    // Events are listed only when they can have changed (the rule test/pipeline/history.test.ts checks on a long run).
    assert.ok(count('jobs.events') <= Math.ceil(polls / EVENTS_EVERY_POLLS) + STATUS_SIGHTS, `${count('jobs.events')} event listings over ${polls} polls`);
  });
});
