/** Records the histories of SCENARIOS (all, or those named as arguments) on a fresh dev server. */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { DevServer } from '../../src/devserver/dev-server';
import { temporalCliPath } from '../../src/devserver/temporal-cli';
import { createLogger } from '../../src/logging';
import { createFtpipeWorker } from '../../workers/worker';
import { SCENARIOS } from './scenarios';

async function record(names: string[]): Promise<void> {
  const server = await DevServer.start({ uiPort: false });
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  try {
    const client = new Client({ connection, namespace: server.namespace });
    for (const scenario of SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name))) {
      const workflowId = await scenario.run({
        client,
        taskQueue: `record-${randomUUID()}`,
        createWorker: (taskQueue) =>
          createFtpipeWorker({
            connection: nativeConnection,
            namespace: server.namespace,
            taskQueue,
            deps: { config: { profiles: [] }, logger: createLogger({ level: 'silent' }), version: 'recording' },
            workflowSource: { workflowsPath: require.resolve('../../workflows') },
          }),
      });
      // The CLI writes the canonical JSON form that historyFromJSON reads back.
      const json = execFileSync(temporalCliPath(), ['workflow', 'show', '--address', server.address, '--namespace', server.namespace, '--workflow-id', workflowId, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const out = join(__dirname, `${scenario.name}.json`);
      writeFileSync(out, json);
      console.log(`recorded ${scenario.name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events -> ${out}`);
    }
  } finally {
    await connection.close();
    await nativeConnection.close();
    await server.stop();
  }
}

record(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
