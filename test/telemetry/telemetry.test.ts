/**
 * Tracing and metrics, read from where operators read them: spans arrive at an OTLP/HTTP receiver (a small HTTP
 * server here, configured through the standard OTEL_EXPORTER_OTLP_ENDPOINT), ftpipe's figures on the worker's
 * Prometheus endpoint, for one pipeline run on the dev server and the emulator (one Azure call fails once).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { DevServer } from '../../src/devserver/dev-server';
import { freePort } from '../../src/devserver/free-port';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { createLogger } from '../../src/logging';
import { emulatorProfiles, EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import { azureOperation } from '../../src/telemetry/azure-calls';
import { clientInterceptors } from '../../src/telemetry/client';
import { setupTracing, type Tracing } from '../../src/telemetry/tracing';
import { createFtpipeWorker, type FtpipeWorker } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import type { fineTunePipeline } from '../../workflows';
import { ROOT } from '../helpers/cli';
import { FAST_POLLING, SAMPLE_VALIDATION, uniqueTrainingFile } from '../helpers/pipeline';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver';
import { testWorkflowSource } from '../helpers/temporal';
import { ADMISSION_WORKFLOW_TYPE, PIPELINE_WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';

interface OtlpValue { stringValue?: string; intValue?: string | number; arrayValue?: { values: OtlpValue[] } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: { key: string; value: OtlpValue }[] }
interface ReceivedSpan { name: string; traceId: string; spanId: string; parentSpanId: string; service: string; attributes: Record<string, unknown> }

function plain(value: OtlpValue): unknown {
  if (value.arrayValue) return value.arrayValue.values.map(plain);
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : value);
}

interface OtlpTraces { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

/** The spans an OTLP/HTTP traces endpoint received (the exporter sends JSON to /v1/traces). */
function receivedSpans(receiver: HttpReceiver<OtlpTraces>): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const request of receiver.received) {
    assert.equal(request.path, '/v1/traces');
    for (const rs of request.body.resourceSpans) {
      const service = String(plain(rs.resource.attributes.find((a) => a.key === 'service.name')!.value));
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          spans.push({ name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', service, attributes: Object.fromEntries(s.attributes.map((a) => [a.key, plain(a.value)])) });
        }
      }
    }
  }
  return spans;
}

describe('tracing and metrics', () => {
  let receiver: HttpReceiver<OtlpTraces>;
  let tracing: Tracing;
  let metricsAddress: string;
  let server: DevServer;
  let emulator: RunningEmulator;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let worker: FtpipeWorker;
  let running: Promise<void>;

  before(async () => {
    receiver = await startHttpReceiver<OtlpTraces>();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    tracing = setupTracing({ serviceName: 'ftpipe-telemetry-test' });
    assert.equal(tracing.enabled, true);
    metricsAddress = `127.0.0.1:${await freePort()}`;
    installRuntime({ logger: createLogger({ level: 'silent' }), metricsAddress });
    server = await DevServer.start({ uiPort: false });
    emulator = await startEmulator({ clockScale: 1000 });
    const { profiles, env } = emulatorProfiles(emulator);
    nativeConnection = await NativeConnection.connect({ address: server.address });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace, interceptors: clientInterceptors() });
    worker = await createFtpipeWorker({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue: `telemetry-${randomUUID()}`,
      deps: { config: { profiles, dataRoots: [ROOT, tmpdir()] }, logger: createLogger({ level: 'silent' }), version: 'test', env: { ...process.env, ...env } },
      workflowSource: testWorkflowSource(),
      shutdownGraceTime: '1s',
      tracing,
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await tracing?.shutdown();
    await connection?.close();
    await nativeConnection?.close();
    await server?.stop();
    await emulator?.stop();
    await receiver?.close();
  });

  it('exports client, workflow, activity and Azure spans with the run name and Azure ids, and serves ftpipe figures on the Prometheus endpoint', async () => {
    emulator.control.addFault({ route: 'jobs.get', action: 'error', status: 503, times: 1 });
    const runName = `traced-${randomUUID().slice(0, 8)}`;
    const workflowId = `ftpipe-${runName}`;
    const handle = await client.workflow.start<typeof fineTunePipeline>(PIPELINE_WORKFLOW_TYPE, {
      taskQueue: worker.main.options.taskQueue,
      workflowId,
      args: [{ runName, profile: EMULATOR_PROFILE, baseModel: 'gpt-4.1-mini', training: { path: uniqueTrainingFile() }, validation: { path: SAMPLE_VALIDATION }, seed: 3, polling: FAST_POLLING }],
    });
    assert.equal((await handle.query(statusQuery)).runName, runName);
    const result = await handle.result();
    assert.equal(result.outcome, 'succeeded');
    const jobId = result.jobId!;
    const training = result.files.find((f) => f.role === 'training')!.fileId;

    // Workflow spans leave through the sink when the workflow task completes; the batch exporter sends them on flush.
    const find = (name: string) => receivedSpans(receiver).find((s) => s.name === name);
    for (;;) {
      await tracing.spanProcessor.forceFlush();
      if (find('RunWorkflow:fineTunePipeline') && find('RunActivity:collectJobResults')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const spans = receivedSpans(receiver);
    const start = find('StartWorkflow:fineTunePipeline')!;
    const run = find('RunWorkflow:fineTunePipeline')!;
    assert.ok(start, 'the client span');
    assert.equal(run.traceId, start.traceId, 'the workflow span continues the client\'s trace');
    assert.equal(run.attributes['ftpipe.run_name'], runName);
    assert.equal(run.attributes['ftpipe.profile'], EMULATOR_PROFILE);

    const create = find('RunActivity:createFineTuningJob')!;
    assert.equal(create.traceId, start.traceId);
    assert.equal(create.attributes['ftpipe.run_name'], runName);
    assert.equal(create.attributes['azure.job_id'], jobId);
    assert.equal(create.attributes.temporalWorkflowId, workflowId);
    const upload = spans.find((s) => s.name === 'RunActivity:uploadFile' && s.attributes['ftpipe.file_role'] === 'training')!;
    assert.equal(upload.attributes['azure.file_id'], training);
    const poll = find('RunActivity:pollFineTuningJob')!;
    assert.equal(poll.attributes['azure.job_id'], jobId);
    // Spans per step, not per poll or look (ftpipe-lean-spans): an activity has its StartActivity span, a local
    // activity (the poll) none, its RunActivity span is the workflow span's child; a query has its client span only.
    assert.equal(create.parentSpanId, find('StartActivity:createFineTuningJob')?.spanId, 'an activity\'s span is a child of its StartActivity span');
    assert.equal(poll.traceId, start.traceId, 'the poll is in the run\'s trace');
    assert.equal(poll.parentSpanId, run.spanId, 'the poll is a child of the workflow span');
    assert.equal(find('StartActivity:pollFineTuningJob'), undefined, 'no workflow span per poll');
    assert.ok(find('QueryWorkflow:status'), 'the query\'s client span');
    assert.equal(spans.find((s) => s.name.startsWith('HandleQuery')), undefined, 'no workflow span per query');

    const azureCreate = spans.find((s) => s.name === 'azure POST fine_tuning/jobs')!;
    assert.ok(azureCreate, `an Azure span for the job create; got ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
    assert.equal(azureCreate.parentSpanId, create.spanId, 'the Azure request is a child of the activity span');
    assert.equal(azureCreate.attributes['http.response.status_code'], 200, 'v1 answers a job create with 200 (the dated family with 201)');
    assert.ok(spans.some((s) => s.name === 'azure GET fine_tuning/jobs/{id}' && s.attributes['http.response.status_code'] === 503), 'the injected 503 is on a span');

    // Names and ids only: no payload (the dataset's text, the request body, the input object) in any attribute.
    assert.equal(run.attributes.workflowId, workflowId);
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    assert.doesNotMatch(everything, /Ticket |is my bike|messages|api-key|Bearer|memo|searchAttributes|lastResult/i);

    const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    const sample = (name: string, labels: Record<string, string>): number => {
      const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      assert.ok(line, `no ${name} with ${JSON.stringify(labels)} in:\n${metrics.split('\n').filter((l) => l.startsWith('ftpipe_')).join('\n')}`);
      return Number(line.split(' ').pop());
    };
    assert.ok(sample('ftpipe_azure_calls', { api: 'openai', operation: 'POST fine_tuning/jobs' }) >= 1);
    assert.ok(sample('ftpipe_azure_calls', { api: 'openai', operation: 'GET fine_tuning/jobs/{id}' }) >= 2);
    assert.ok(sample('ftpipe_azure_calls', { api: 'openai', operation: 'POST files' }) >= 1);
    assert.equal(sample('ftpipe_azure_call_errors', { api: 'openai', operation: 'GET fine_tuning/jobs/{id}', status: '503' }), 1);
    assert.ok(sample('ftpipe_azure_call_duration_count', { api: 'openai', operation: 'POST fine_tuning/jobs' }) >= 1);
    for (const stage of ['preflight', 'validate', 'upload', 'create_job', 'train', 'collect', 'evaluate', 'cleanup', 'completed']) {
      assert.ok(sample('ftpipe_run_stage_entered', { stage, workflowType: PIPELINE_WORKFLOW_TYPE }) >= 1, stage);
    }
    // Admission: the run's wait for its slots (recorded by the run) and the queue's length (by the resource's queue).
    assert.ok(sample('ftpipe_admission_wait_count', { workflowType: PIPELINE_WORKFLOW_TYPE }) >= 1, 'the run\'s admission wait');
    assert.equal(sample('ftpipe_admission_queue_length', { workflowType: ADMISSION_WORKFLOW_TYPE }), 0, 'nobody waits once the run is through');
  });
});

describe('Azure operation names', () => {
  it('replace ids and names, so the label set stays small', () => {
    const arm = 'https://management.azure.com/subscriptions/s1/resourceGroups/rg/providers/Microsoft.CognitiveServices';
    assert.equal(azureOperation('arm', 'put', new URL(`${arm}/accounts/acct/deployments/bike-v2?api-version=2025-06-01`)), 'PUT accounts/{name}/deployments/{name}');
    assert.equal(azureOperation('arm', 'GET', new URL(`https://m/subscriptions/s1/providers/Microsoft.CognitiveServices/locations/swedencentral/operationResults/op-1?api-version=x`)), 'GET locations/{name}/operationResults/{name}');
    assert.equal(azureOperation('openai', 'POST', new URL('https://a.openai.azure.com/openai/v1/fine_tuning/jobs/ftjob-1/checkpoints/ftchkpt-2/copy')), 'POST fine_tuning/jobs/{id}/checkpoints/{id}/copy');
    assert.equal(azureOperation('openai', 'POST', new URL('https://a.openai.azure.com/openai/files/import?api-version=2025-04-01-preview')), 'POST files/import');
    assert.equal(azureOperation('openai', 'POST', new URL('https://a.openai.azure.com/openai/deployments/bike-v1/chat/completions')), 'POST deployments/{id}/chat/completions');
  });
});
