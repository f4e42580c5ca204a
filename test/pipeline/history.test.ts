import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { PipelineStatus } from '../../src/pipeline/types';
import { statusQuery } from '../../workflows/messages';
import { usePipelineStack } from '../helpers/pipeline';

const FAST = { queuedIntervalSeconds: 0.1, runningIntervalSeconds: 0.1, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1 };

/** Events in this execution's history, and how many of them lie between one training poll and the next. */
async function historyOf(handle: WorkflowHandle): Promise<{ events: number; perPoll: number[] }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const polls = events.flatMap((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === 'pollFineTuningJob' ? [i] : []));
  return { events: events.length, perPoll: polls.slice(1).map((at, k) => at - polls[k]!) };
}

// Runs stay steerable: a run continues as new only when Temporal suggests it or past a budget in the thousands, so
// the Web UI page a user acts on stays open; tests that want a continue-as-new say so in the input.
describe('history: continue-as-new only when history is long', () => {
  const env = usePipelineStack({ clockScale: 100 });

  it('keeps a run of a few dozen polls in one execution, at 11 events per poll', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ polling: FAST, hyperparameters: { nEpochs: 1 } }));
      assert.equal((await handle.result()).outcome, 'succeeded');
      const status = await handle.query(statusQuery);
      assert.equal(status.continuations, 0, 'no continue-as-new');
      const { events, perPoll } = await historyOf(handle);
      assert.ok(events > 150, `past the old budget of 150 events (${events})`);
      // A poll is its activity (3 events), the workflow task it completes (3), the timer (2) and the task it fires (3).
      // (A workflow task that times out under load adds events to its poll: most polls, and the smallest, show the design.)
      assert.ok(perPoll.length > 5 && Math.min(...perPoll) === 11 && perPoll.filter((n) => n === 11).length >= perPoll.length * 0.8, `events per poll: ${perPoll.join(',')}`);
    });
  });

  it('continues as new at the input\'s continueAsNewAfterEvents, carrying the run on', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ polling: { ...FAST, continueAsNewAfterEvents: 100 }, hyperparameters: { nEpochs: 1 } }));
      assert.equal((await handle.result()).outcome, 'succeeded');
      const status: PipelineStatus = await handle.query(statusQuery);
      assert.ok(status.continuations >= 1, `continued as new (${status.continuations})`);
      const first = env.temporal.client.workflow.getHandle(handle.workflowId, (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined);
      const { events } = await historyOf(first);
      // The budget is checked between polls: the execution ends within one poll (11 events) and its continue-as-new after it.
      assert.ok(events >= 100 && events <= 100 + 15, `first execution: ${events} events`);
    });
  });
});
