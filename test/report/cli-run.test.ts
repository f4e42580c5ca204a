/** `ftpipe report <run>` on the real Temporal dev server: the report comes from the run's result. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { defaultWorkflowId } from '../../src/client';
import { renderReport } from '../../src/report/html';
import { runCli } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';
import { sampleReport } from './fixture';
import { finish, reportResult } from './workflows/report-result';

describe('ftpipe report <run>', () => {
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  // Registered before useTemporal's own `after`, so the worker stops before the connection closes (hooks run in order).
  after(async () => {
    worker?.shutdown();
    await running;
  });
  const temporal = useTemporal();
  const taskQueue = `report-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-report-run-'));
  const flags = (): string[] => ['--address', temporal.server.address, '--namespace', temporal.server.namespace];
  const start = (runName: string, report: unknown, waitForFinish = false) =>
    temporal.client.workflow.start(reportResult, { taskQueue, workflowId: defaultWorkflowId(runName), args: [{ report, waitForFinish }] });

  before(async () => {
    worker = await Worker.create({ connection: temporal.nativeConnection, namespace: temporal.server.namespace, taskQueue, workflowsPath: require.resolve('./workflows/report-result') });
    running = worker.run();
  });

  it('renders the report in a finished run\'s result, found by run name or workflow id', async () => {
    const report = sampleReport({ runName: `weekly-${randomUUID().slice(0, 6)}` });
    const handle = await start(report.runName, report);
    await handle.result();
    const byName = join(dir, 'by-name.html');
    const named = await runCli(['report', report.runName, '--out', byName, ...flags()]);
    assert.equal(named.code, 0, named.output);
    assert.equal(named.output.trim(), byName);
    assert.equal(readFileSync(byName, 'utf8'), renderReport(report));
    const byId = join(dir, 'by-id.html');
    const identified = await runCli(['report', handle.workflowId, '--out', byId, ...flags()]);
    assert.equal(identified.code, 0, identified.output);
    assert.equal(readFileSync(byId, 'utf8'), renderReport(report));
  });

  it('writes a partial report, saying so, when neither the result nor the status query gives one; names an unknown run', async () => {
    // The stand-in workflow answers no `status` query: what is known comes from Temporal alone.
    const open = await start(`open-${randomUUID().slice(0, 6)}`, sampleReport(), true);
    const partialPath = join(dir, 'partial.html');
    const stillRunning = await runCli(['report', open.workflowId, '--out', partialPath, ...flags()]);
    assert.equal(stillRunning.code, 0, stillRunning.output);
    const partial = readFileSync(partialPath, 'utf8');
    assert.match(partial, /class="badge running">in progress<\/span> Running \(stage preflight\): .* Partial: the run&#39;s status query was not answered \(.*status.*\), so this report holds only what Temporal&#39;s search attributes say/);
    assert.ok(partial.includes(`<code>${open.workflowId}</code>`), 'named by its workflow id');
    await open.signal(finish, {});

    const bare = await start(`bare-${randomUUID().slice(0, 6)}`, null);
    await bare.result();
    const barePath = join(dir, 'bare.html');
    const noReport = await runCli(['report', bare.workflowId, '--out', barePath, ...flags()]);
    assert.equal(noReport.code, 0, noReport.output);
    assert.match(readFileSync(barePath, 'utf8'), /Final: the run completed \(succeeded\)\. Partial: /);

    const unknown = await runCli(['report', 'never-ran', ...flags()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /no run with workflow id or run name "never-ran"/);
  });
});
