/** Records the histories of SCENARIOS (all, or those named as arguments) on a fresh dev server and emulator. */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DevServer } from '../../src/devserver/dev-server';
import { temporalCliPath } from '../../src/devserver/temporal-cli';
import { startEmulator } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import { emulatorProfiles } from '../../src/stack/emulator-profiles';
import { createFtpipeWorker } from '../../workers/worker';
import { SCENARIOS } from './scenarios';

async function record(names: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await DevServer.start({ uiPort: false });
  const emulator = await startEmulator({ clockScale: 1000 });
  const { profiles, env } = emulatorProfiles(emulator);
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  try {
    const client = new Client({ connection, namespace: server.namespace });
    for (const scenario of SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name))) {
      const { workflowId, runId } = await scenario.run({
        client,
        emulator,
        taskQueue: `record-${randomUUID()}`,
        createWorker: (taskQueue) =>
          createFtpipeWorker({
            connection: nativeConnection,
            namespace: server.namespace,
            taskQueue,
            deps: { config: { profiles }, logger: createLogger({ level: 'silent' }), version: 'recording', env: { ...process.env, ...env } },
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
    await connection.close();
    await nativeConnection.close();
    await emulator.stop();
    await server.stop();
  }
}

record(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
