/**
 * Azure calls of the demo pipeline (examples/demo-pipeline.yaml: validate, upload, train, score three checkpoints and
 * the baseline on temporary deployments, deploy, smoke-test): the local stack of `ftpipe demo`, and the emulator's
 * request log counted by operation (method, route, status) and by stage of the run (the request's time against the
 * run's timeline). The count depends on timing (polls), so run it a few times.
 *
 *   npx tsx bench/demo-calls.ts [--clock-scale 200] [--repeat 3] [--by-stage]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FtpipeClient } from '../src/client';
import { readPipelineFile } from '../src/cli/commands/runs';
import type { RequestLogEntry } from '../src/emulator/server';
import { packageRoot } from '../src/paths';
import type { StageChange } from '../src/pipeline/types';
import { startLocalStack } from '../src/stack/local-stack';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The stage the run was in when the request arrived (the last timeline entry at or before it). */
function stageAt(timeline: StageChange[], time: string): string {
  let stage = 'before the run';
  for (const change of timeline) if (change.at <= time) stage = change.stage;
  return stage;
}

async function oneDemo(clockScale: number): Promise<{ requests: RequestLogEntry[]; timeline: StageChange[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ftpipe-demo-calls-'));
  try {
    const stack = await startLocalStack({ home, config: { profiles: [] }, persistent: false, emulator: { clockScale } });
    const input = readPipelineFile(join(packageRoot(), 'examples', 'demo-pipeline.yaml'));
    const result = await stack.runWith(async () => {
      const run = await new FtpipeClient(stack.client).startPipeline(input, { workflowId: `demo-calls-${Date.now()}` });
      return run.result();
    });
    if (result.outcome !== 'succeeded') throw new Error(`the demo run ended ${result.outcome}`);
    return { requests: stack.emulator!.control.requests(), timeline: result.timeline };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const clockScale = Number(argument('--clock-scale', '200'));
  const repeat = Number(argument('--repeat', '3'));
  const byStage = process.argv.includes('--by-stage');
  for (let i = 1; i <= repeat; i++) {
    const load = loadavg()[0]!.toFixed(1);
    const { requests, timeline } = await oneDemo(clockScale);
    const byRoute = countBy(requests, (r) => r.route);
    console.log(`demo ${i}: ${requests.length} Azure calls (load ${load}): ${byRoute.map(([route, n]) => `${route} ${n}`).join(', ')}`);
    if (byStage) {
      const stages = countBy(requests, (r) => stageAt(timeline, r.time));
      for (const [stage] of stages.sort((a, b) => timeline.findIndex((c) => c.stage === a[0]) - timeline.findIndex((c) => c.stage === b[0]))) {
        const inStage = requests.filter((r) => stageAt(timeline, r.time) === stage);
        console.log(`  ${stage} (${inStage.length}): ${countBy(inStage, (r) => `${r.method} ${r.route} ${r.status}`).map(([op, n]) => `${op} x${n}`).join(', ')}`);
      }
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
