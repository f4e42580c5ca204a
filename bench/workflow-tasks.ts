/**
 * What one demo run costs Temporal (examples/demo-pipeline.yaml on the local stack of `ftpipe demo`), counted from
 * its history (every execution of it) by stage: workflow tasks, activity tasks (each attempt), local activities,
 * events, search-attribute upserts (ftpipe's, and the SDK's TemporalChangeVersion per patch), timers, signals. At
 * hundreds of concurrent runs each task costs server and worker CPU, so the part before training (issue 13's floor:
 * one poll interval, file processing, about ten round trips) is summed on its own.
 *
 *   npx tsx bench/workflow-tasks.ts [--clock-scale 200] [--repeat 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { FtpipeClient } from '../src/client';
import { readPipelineFile } from '../src/cli/commands/runs';
import { packageRoot } from '../src/paths';
import { startLocalStack } from '../src/stack/local-stack';
import { historyCostAroundTraining, historyCostByStage, type HistoryCost, type HistoryEvent } from '../src/telemetry/history-cost';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** Every execution's events, first to last (a run continued as new is one run). */
async function runEvents(client: Client, workflowId: string, firstRunId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let runId: string | null | undefined = firstRunId;
  while (runId) {
    const own: HistoryEvent[] = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    events.push(...own);
    runId = own[own.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return events;
}

function row(label: string, c: HistoryCost): string {
  const cols = [
    label.padEnd(22),
    `${c.workflowTasks}${c.continuationTasks ? ` (${c.continuationTasks} cont.)` : ''}${c.failedWorkflowTasks ? ` +${c.failedWorkflowTasks} failed` : ''}`.padEnd(16),
    `${c.activityTasks}/${c.activitiesScheduled}`.padEnd(10),
    String(c.localActivities).padEnd(7),
    String(c.events).padEnd(8),
    `${c.searchAttributeUpserts}+${c.changeVersionUpserts}`.padEnd(9),
    String(c.timers).padEnd(7),
    `${c.signalsReceived}/${c.signalsSent}`,
  ];
  return cols.join(' ');
}

async function oneDemo(clockScale: number): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ftpipe-workflow-tasks-'));
  try {
    const stack = await startLocalStack({ home, config: { profiles: [] }, persistent: false, emulator: { clockScale } });
    const input = readPipelineFile(join(packageRoot(), 'examples', 'demo-pipeline.yaml'));
    const load = loadavg()[0]!.toFixed(1);
    const { events, outcome } = await stack.runWith(async () => {
      const run = await new FtpipeClient(stack.client).startPipeline(input, { workflowId: `workflow-tasks-${Date.now()}` });
      const result = await run.result();
      const described = await run.workflow.describe();
      const firstRunId = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
      return { events: await runEvents(stack.client, run.workflowId, firstRunId), outcome: result.outcome };
    });
    if (outcome !== 'succeeded') throw new Error(`the demo run ended ${outcome}`);
    const byStage = historyCostByStage(events);
    const { beforeTraining, training, afterTraining } = historyCostAroundTraining(byStage);
    console.log(`demo run, load ${load}: workflow tasks completed, activity tasks (attempts)/scheduled, local activities, events, upserts (ftpipe's + TemporalChangeVersion), timers, signals in/out`);
    console.log(['stage'.padEnd(22), 'WFTs'.padEnd(16), 'ATs/sched'.padEnd(10), 'local'.padEnd(7), 'events'.padEnd(8), 'upserts'.padEnd(9), 'timers'.padEnd(7), 'sig in/out'].join(' '));
    for (const { stage, cost } of byStage) console.log(row(`  ${stage}`, cost));
    console.log(row('before training', beforeTraining));
    console.log(row('training', training));
    console.log(row('after training', afterTraining));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const clockScale = Number(argument('--clock-scale', '200'));
  const repeat = Number(argument('--repeat', '1'));
  for (let i = 0; i < repeat; i++) await oneDemo(clockScale);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
