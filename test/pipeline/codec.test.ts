/**
 * No secret and no training text in history, whoever starts the run: the raw history on the server (read without the
 * codec) holds neither, for runs started from the client, from the CLI, and the Web UI's way (payloads encrypted by the
 * codec server, started with no ftpipe client code).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { stringify } from 'yaml';
import { FtpipeClient } from '../../src/client';
import { AesGcmCodec, ftpipeDataConverter, parseKeyList } from '../../src/codec';
import { startCodecServer, type RunningCodecServer } from '../../src/codec/server';
import { PipelineInputError } from '../../src/pipeline/input';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { runCli } from '../helpers/cli';
import { SAMPLE_TRAINING, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { PIPELINE_WORKFLOW_TYPE } from '../../workflows/messages';

describe('encrypted payloads: no secret or training text in raw history', () => {
  const env = usePipelineStack({}, ownServer('`ftpipe run` starts runs on the default task queue'));
  const keys = `old:${randomBytes(32).toString('base64')}`;
  const rotated = `new:${randomBytes(32).toString('base64')},${keys}`;
  const codec = new AesGcmCodec(parseKeyList(rotated));
  const codecEnv = { FTPIPE_CODEC_KEYS: rotated };

  /** The history as the server stores it (protobuf bytes), read by a client without the codec. */
  async function rawHistory(workflowId: string): Promise<Buffer> {
    const { server } = env.temporal;
    const parts: Uint8Array[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await env.temporal.connection.workflowService.getWorkflowExecutionHistory({ namespace: server.namespace, execution: { workflowId }, ...(nextPageToken ? { nextPageToken } : {}) });
      parts.push(temporal.api.history.v1.History.encode(page.history ?? {}).finish());
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return Buffer.concat(parts);
  }

  /** A dataset with a line of its own that must never reach history. */
  function plantedDataset(): { path: string; text: string } {
    const text = `planted-training-${randomUUID()}`;
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-codec-'));
    const line = JSON.stringify({ messages: [{ role: 'user', content: `${text}: is my bike ready?` }, { role: 'assistant', content: 'Yes.' }] });
    writeFileSync(join(dir, 'train.jsonl'), `${readFileSync(SAMPLE_TRAINING, 'utf8')}${line}\n`);
    return { path: join(dir, 'train.jsonl'), text };
  }

  it('client and CLI: a credential URL is refused before any history; what is started is ciphertext in history', async () => {
    const client = new FtpipeClient(new Client({ connection: env.temporal.connection, namespace: env.temporal.server.namespace, dataConverter: ftpipeDataConverter(codec) }));
    const worker = await env.temporal.createWorker({ taskQueue: TASK_QUEUE, config: env.config, env: env.workerEnv, payloadCodec: codec });
    await worker.runUntil(async () => {
      // A SAS signature, percent-encoded: refused by the client, so no run (and no history) exists.
      const sas = `sasvalue${randomUUID().slice(0, 8)}`;
      const refusedId = `codec-refused-${randomUUID().slice(0, 8)}`;
      await assert.rejects(
        client.startPipeline(env.input({ training: { url: `https://acct.blob.core.windows.net/c/train.jsonl?sv=2024&%53ig=${sas}` } }), { workflowId: refusedId }),
        (err: Error) => err instanceof PipelineInputError && err.issues.some((i) => /^training\.url: the URL carries a SAS signature/.test(i)) && !err.message.includes(sas),
      );
      await assert.rejects(client.getPipeline(refusedId).workflow.describe(), WorkflowNotFoundError);

      // A value in the input that could be a secret (free-form metadata), and training text: neither in raw history.
      const secret = `secret-${randomUUID()}`;
      const fromClient = plantedDataset();
      const run = await client.startPipeline(env.input({ training: { path: fromClient.path }, metadata: { note: secret } }));
      assert.equal((await run.result()).outcome, 'succeeded');
      const history = await rawHistory(run.workflowId);
      assert.ok(history.includes('binary/encrypted'), 'payloads are encrypted');
      assert.ok(!history.includes(secret), 'the input\'s value is not in raw history');
      assert.ok(!history.includes(fromClient.text), 'no training text in raw history');
      assert.ok(!history.includes(fromClient.path), 'not even the dataset path in raw history');

      const fromCli = plantedDataset();
      const dir = mkdtempSync(join(tmpdir(), 'ftpipe-codec-cli-'));
      const runName = `codec-cli-${randomUUID().slice(0, 8)}`;
      writeFileSync(join(dir, 'pipeline.yaml'), stringify({ ...env.input({ runName, training: { path: fromCli.path }, metadata: { note: secret } }) }));
      const cli = await runCli(['run', join(dir, 'pipeline.yaml'), '--wait', '--address', env.temporal.server.address], codecEnv);
      assert.equal(cli.code, 0, cli.output);
      const cliHistory = await rawHistory(`ftpipe-${runName}`);
      assert.ok(cliHistory.includes('binary/encrypted'));
      assert.ok(!cliHistory.includes(secret) && !cliHistory.includes(fromCli.text));

      const refusedCli = mkdtempSync(join(tmpdir(), 'ftpipe-codec-cli-'));
      const refusedName = `codec-cli-sas-${randomUUID().slice(0, 8)}`;
      writeFileSync(join(refusedCli, 'pipeline.yaml'), stringify({ ...env.input({ runName: refusedName, training: { url: `https://user:${sas}@acct.blob.core.windows.net/c/t.jsonl` } }) }));
      const refused = await runCli(['run', join(refusedCli, 'pipeline.yaml'), '--address', env.temporal.server.address], codecEnv);
      assert.notEqual(refused.code, 0, refused.output);
      assert.match(refused.output, /training\.url: the URL carries a user name or password/);
      await assert.rejects(client.getPipeline(`ftpipe-${refusedName}`).workflow.describe(), WorkflowNotFoundError);
    });
  });

  it('failures: their messages and stack traces are encrypted too (a path or Azure\'s message may quote a secret or the data)', async () => {
    const client = new FtpipeClient(new Client({ connection: env.temporal.connection, namespace: env.temporal.server.namespace, dataConverter: ftpipeDataConverter(codec) }));
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.temporal.createWorker({ taskQueue, config: env.config, env: env.workerEnv, payloadCodec: codec });
    const secret = `secret-${randomUUID()}`;
    const training = plantedDataset();
    const failureOf = async (run: { workflowId: string; result(): Promise<unknown> }): Promise<ApplicationFailure> => {
      const err = await run.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
      return err.cause;
    };
    await worker.runUntil(async () => {
      // An activity's failure: the missing dataset's path (which holds the secret) is in its message.
      const missing = await client.startPipeline(env.input({ training: { path: join(tmpdir(), secret, 'train.jsonl') } }), { taskQueue });
      const unreadable = await failureOf(missing);
      assert.equal(unreadable.type, 'DatasetUnreadable');
      assert.ok(unreadable.message.includes(secret), 'a client with the codec reads the message');
      const missingHistory = await rawHistory(missing.workflowId);
      assert.ok(missingHistory.includes('Encoded failure'), 'failures carry their message encoded');
      assert.ok(!missingHistory.includes(secret), 'the path is not in raw history, not even in a failure');

      // The workflow's own failure: Azure's error message quotes a training line (and the secret).
      const failing = await client.startPipeline(env.input({ training: { path: training.path } }), { taskQueue });
      const running = await env.waitForStatus(failing.workflow, (st) => st.job?.status === 'running');
      env.emulator.control.failJob(running.job!.id, { code: 'invalid_training_file', message: `Example 13 could not be parsed: "${training.text}" (${secret})` });
      const jobFailed = await failureOf(failing);
      assert.equal(jobFailed.type, 'AzureJobFailed');
      assert.ok(jobFailed.message.includes(training.text) && jobFailed.stack !== undefined);
      const failedHistory = await rawHistory(failing.workflowId);
      assert.ok(failedHistory.includes('Encoded failure'));
      assert.ok(!failedHistory.includes(training.text), 'no training text in raw history, not even in a failure');
      assert.ok(!failedHistory.includes(secret));
    });
  });

  it('the Web UI\'s way: the codec server encrypts the typed input and decrypts history; a raw start keeps the secret out of history', async () => {
    const token = randomUUID();
    const origin = 'http://127.0.0.1:8233';
    const server: RunningCodecServer = await startCodecServer({ codec, origins: [origin], authToken: token });
    try {
      const preflight = await fetch(`${server.url}/encode`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);
      const call = (op: string, body: unknown, auth = `Bearer ${token}`) =>
        fetch(`${server.url}/${op}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: origin, Authorization: auth }, body: JSON.stringify(body) });
      assert.equal((await call('encode', { payloads: [] }, 'Bearer wrong')).status, 401);

      const sas = `sasvalue${randomUUID().slice(0, 8)}`;
      const typed = { ...env.input(), training: { url: `https://acct.blob.core.windows.net/c/train.jsonl?se=2030-01-01&sp=r&sig=${sas}` } };
      const json = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(typed)).toString('base64') };
      const encoded = (await (await call('encode', { payloads: [json] })).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');

      const taskQueue = env.temporal.taskQueue();
      const workflowId = `codec-ui-${taskQueue}`;
      const worker = await env.temporal.createWorker({ taskQueue, config: env.config, env: env.workerEnv, payloadCodec: codec });
      await worker.runUntil(async () => {
        await env.temporal.connection.workflowService.startWorkflowExecution({
          namespace: env.temporal.server.namespace,
          workflowId,
          workflowType: { name: PIPELINE_WORKFLOW_TYPE },
          taskQueue: { name: taskQueue },
          requestId: randomUUID(),
          input: { payloads: encoded.payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(p.data, 'base64') })) },
        });
        const decoding = new Client({ connection: env.temporal.connection, namespace: env.temporal.server.namespace, dataConverter: ftpipeDataConverter(codec) });
        const err = await decoding.workflow.getHandle(workflowId).result().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidPipelineInput', String(err));
        assert.match(err.cause.message, /training\.url: the URL carries a SAS signature/);
      });
      const history = await rawHistory(workflowId);
      assert.ok(!history.includes(sas), 'the signature is not in raw history');

      // What the UI shows: the codec server decrypts the input from history.
      const started = temporal.api.history.v1.History.decode(history).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.ok(started);
      const asJson = { metadata: Object.fromEntries(Object.entries(started.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(started.data ?? []).toString('base64') };
      const decoded = (await (await call('decode', { payloads: [asJson] })).json()) as { payloads: { data: string }[] };
      assert.ok(Buffer.from(decoded.payloads[0]!.data, 'base64').toString().includes(sas), 'the UI, through the codec server, shows what was typed');
    } finally {
      await server.close();
    }
  });
});
