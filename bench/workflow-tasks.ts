/**
 * What one demo run costs Temporal (examples/demo-pipeline.yaml on the local stack of `ftpipe demo`), counted from
 * its history (every execution of it) by stage: workflow tasks, activity tasks (each attempt), local activities,
 * events, search-attribute upserts (ftpipe's, and the SDK's TemporalChangeVersion per patch), timers, signals. At
 * hundreds of concurrent runs each task costs server and worker CPU, so the part before training (issue 13's floor:
 * one poll interval, file processing, about ten round trips) is summed on its own, and so is the chain after it
 * (collect, evaluate, deploy, cleanup, completed with its notification). Then, stage by stage, what ran: each
 * activity (scheduled x attempts: an ARM wait is one activity called again by Temporal), each local activity, and
 * the signals in (admission grants, eval progress notices) and out (slot releases).
 * `--pipeline FILE` counts another pipeline file (e.g. one shaped like bench/pipelines.ts's runs: training only).
 *
 *   npx tsx bench/workflow-tasks.ts [--clock-scale 200] [--repeat 1] [--pipeline examples/demo-pipeline.yaml]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { FtpipeClient } from '../src/client';
import { readPipelineFile } from '../src/cli/commands/runs';
import { packageRoot } from '../src/paths';
import { startLocalStack } from '../src/stack/local-stack';
import { historyCostAroundTraining, historyCostByStage, historyStepsByStage, type HistoryCost, type HistoryEvent, type StageSteps } from '../src/telemetry/history-cost';

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

function stepsLine({ stage, activities, local, signalsIn, signalsOut }: StageSteps): string {
  const counted = (counts: Record<string, number>): string => Object.entries(counts).map(([name, n]) => `${name}${n > 1 ? ` x${n}` : ''}`).join(', ');
  const parts = [
    Object.keys(activities).length ? `activities ${Object.entries(activities).map(([name, a]) => `${name}${a.scheduled > 1 ? ` x${a.scheduled}` : ''}${a.attempts > a.scheduled ? ` (${a.attempts} attempts)` : ''}`).join(', ')}` : '',
    Object.keys(local).length ? `local ${counted(local)}` : '',
    Object.keys(signalsIn).length ? `signals in ${counted(signalsIn)}` : '',
    Object.keys(signalsOut).length ? `out ${counted(signalsOut)}` : '',
  ];
  return `  ${stage.padEnd(20)} ${parts.filter(Boolean).join('; ')}`;
}

async function oneDemo(clockScale: number, pipelineFile: string): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'ftpipe-workflow-tasks-'));
  try {
    const stack = await startLocalStack({ home, config: { profiles: [] }, persistent: false, emulator: { clockScale } });
    const input = readPipelineFile(pipelineFile);
    const load = loadavg()[0]!.toFixed(1);
    const { events, outcome } = await stack.runWith(async () => {
      const run = await new FtpipeClient(stack.client).startPipeline(input, { workflowId: `workflow-tasks-${Date.now()}` });
      const result = await run.result();
      const described = await run.workflow.describe();
      const firstRunId = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
      return { events: await runEvents(stack.client, run.workflowId, firstRunId), outcome: result.outcome };
    });
    if (outcome !== 'succeeded') throw new Error(`the run ended ${outcome}`);
    const byStage = historyCostByStage(events);
    const { beforeTraining, training, afterTraining } = historyCostAroundTraining(byStage);
    console.log(`${pipelineFile}, load ${load}: workflow tasks completed, activity tasks (attempts)/scheduled, local activities, events, upserts (ftpipe's + TemporalChangeVersion), timers, signals in/out`);
    console.log(['stage'.padEnd(22), 'WFTs'.padEnd(16), 'ATs/sched'.padEnd(10), 'local'.padEnd(7), 'events'.padEnd(8), 'upserts'.padEnd(9), 'timers'.padEnd(7), 'sig in/out'].join(' '));
    for (const { stage, cost } of byStage) console.log(row(`  ${stage}`, cost));
    console.log(row('before training', beforeTraining));
    console.log(row('training', training));
    console.log(row('after training', afterTraining));
    console.log('what each stage ran:');
    for (const steps of historyStepsByStage(events)) console.log(stepsLine(steps));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const clockScale = Number(argument('--clock-scale', '200'));
  const repeat = Number(argument('--repeat', '1'));
  const pipelineFile = argument('--pipeline', join(packageRoot(), 'examples', 'demo-pipeline.yaml'));
  for (let i = 0; i < repeat; i++) await oneDemo(clockScale, pipelineFile);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
