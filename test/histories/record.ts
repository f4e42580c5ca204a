/** Records the histories of SCENARIOS (all, or those named as arguments) on a fresh local stack (dev server and emulator). */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporalCliPath } from '../../src/devserver/temporal-cli';
import { createLogger } from '../../src/logging';
import { startLocalServices } from '../../src/stack/local-stack';
import { SCENARIOS } from './scenarios';

async function record(names: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stack = await startLocalServices({ emulator: { clockScale: 1000 } });
  const { server, client } = stack;
  try {
    for (const scenario of SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name))) {
      const { workflowId, runId } = await scenario.run({
        client,
        emulator: stack.emulator!,
        taskQueue: `record-${randomUUID()}`,
        createWorker: (taskQueue) =>
          stack.createWorker({
            taskQueue,
            deps: { config: { profiles: stack.profiles }, logger: createLogger({ level: 'silent' }), version: 'recording', env: { ...process.env, ...stack.credentials } },
            workflowSource: { workflowsPath: require.resolve('../../workflows') },
            shutdownGraceTime: '1s',
          }),
      });
      // The CLI writes the canonical JSON form that historyFromJSON reads back.
      const args = ['workflow', 'show', '--address', server.address, '--namespace', server.namespace, '--workflow-id', workflowId, '--output', 'json', ...(runId ? ['--run-id', runId] : [])];
      const json = execFileSync(temporalCliPath(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const out = join(__dirname, `${scenario.name}.json`);
      writeFileSync(out, json);
      console.log(`recorded ${scenario.name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events -> ${out}`);
    }
  } finally {
    await stack.stop();
  }
}

record(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
