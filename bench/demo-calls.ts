/**
 * Azure calls of the demo pipeline (examples/demo-pipeline.yaml: validate, upload, train, score three checkpoints and
 * the baseline on temporary deployments, deploy, smoke-test): the local stack of `ftpipe demo`, and the emulator's
 * request log counted by route and by stage of the run. The count depends on timing (polls), so run it a few times.
 *
 *   npx tsx bench/demo-calls.ts [--clock-scale 200] [--repeat 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FtpipeClient } from '../src/client';
import { readPipelineFile } from '../src/cli/commands/runs';
import { packageRoot } from '../src/paths';
import { startLocalStack } from '../src/stack/local-stack';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

async function oneDemo(clockScale: number): Promise<{ total: number; byRoute: [string, number][] }> {
  const home = mkdtempSync(join(tmpdir(), 'ftpipe-demo-calls-'));
  try {
    const stack = await startLocalStack({ home, config: { profiles: [] }, persistent: false, emulator: { clockScale } });
    const input = readPipelineFile(join(packageRoot(), 'examples', 'demo-pipeline.yaml'));
    const result = await stack.runWith(async () => {
      const run = await new FtpipeClient(stack.client).startPipeline(input, { workflowId: `demo-calls-${Date.now()}` });
      return run.result();
    });
    if (result.outcome !== 'succeeded') throw new Error(`the demo run ended ${result.outcome}`);
    const counts = new Map<string, number>();
    const requests = stack.emulator!.control.requests();
    for (const r of requests) counts.set(r.route, (counts.get(r.route) ?? 0) + 1);
    return { total: requests.length, byRoute: [...counts].sort((a, b) => b[1] - a[1]) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const clockScale = Number(argument('--clock-scale', '200'));
  const repeat = Number(argument('--repeat', '3'));
  for (let i = 1; i <= repeat; i++) {
    const load = loadavg()[0]!.toFixed(1);
    const { total, byRoute } = await oneDemo(clockScale);
    console.log(`demo ${i}: ${total} Azure calls (load ${load}): ${byRoute.map(([route, n]) => `${route} ${n}`).join(', ')}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
