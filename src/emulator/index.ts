/**
 * The Azure emulator: Azure OpenAI data plane (files, fine-tuning, checkpoint copy, chat completions; both URL
 * families) over http, Azure Resource Manager deployments over https, for the real `openai` and
 * `@azure/arm-cognitiveservices` clients. Standalone: it imports nothing from the pipeline but the catalogue.
 */
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createControl, registerAdminRoutes, type EmulatorControl } from './admin';
import { CapacityService, type CapacityControl } from './capacity';
import { loadOrCreateCertificate } from './certs';
import { EmulatedClock } from './clock';
import { resolveOptions, type AccountConfig, type EmulatorOptions } from './config';
import { DeploymentService } from './deployments';
import { FaultInjector } from './faults';
import { FileService } from './files';
import { InferenceService } from './inference';
import { JobService } from './jobs';
import { Dispatcher } from './server';
import { EmulatorState, readStateFile, StateFileWriter, type Account } from './state';

export type { EmulatorOptions, AccountConfig } from './config';
export { DEFAULT_ACCOUNTS, DEFAULT_API_KEYS, DEFAULT_TOKEN, loadEmulatorConfig } from './config';
export type { EmulatorControl, RequestLogFilter, StateDump } from './admin';
export type { FaultRule, ActiveFault } from './faults';
export type { Exchange, ExchangeListener, RequestLogEntry } from './server';
export { ARM_API_VERSIONS, DATED_API_VERSIONS, SERVICE_MODELS, UPLOAD_PURPOSES, V1_API_VERSIONS } from './service';

export interface EmulatedAccount extends AccountConfig {
  /** ARM id: `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}`. */
  armId: string;
  /** Data-plane endpoint to give `AzureOpenAI` (`endpoint`), e.g. `http://127.0.0.1:PORT/<name>`. */
  endpoint: string;
}

export interface RunningEmulator {
  /** Base URL of the data-plane server (accounts live under `/<account>`, the control API under `/admin`). */
  dataPlaneUrl: string;
  /** ARM endpoint (https), to give the ARM client as `endpoint`. */
  armEndpoint: string;
  /** PEM of the certificate ARM is served with; clients must trust it. Without `certDir` it is removed by `stop()`. */
  caCertPath: string;
  adminUrl: string;
  accounts: EmulatedAccount[];
  /** Bearer tokens accepted by ARM and the data plane. */
  acceptedTokens: string[];
  endpointFor(account: string): string;
  account(name: string): EmulatedAccount;
  control: EmulatorControl;
  /** What ARM's Models_List and Usages_List report (SKU capacity ranges, quotas); see ./capacity. */
  capacity: CapacityControl;
  /** Flushes the state file (if any) and closes both servers. */
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const o = resolveOptions(options);
  const accounts = new Map<string, Account>(
    o.accounts.map((a) => [
      a.name.toLowerCase(),
      { ...a, armId: `/subscriptions/${a.subscriptionId}/resourceGroups/${a.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${a.name}` },
    ]),
  );
  const state = new EmulatorState(accounts);
  const saved = o.stateFile ? readStateFile(o.stateFile) : undefined;
  if (saved) state.load(saved);
  const clock = new EmulatedClock(saved?.clockNow ?? Date.now(), o.clockScale);
  const writer = o.stateFile ? new StateFileWriter(o.stateFile, () => state.toJSON(clock.now())) : undefined;
  if (writer) state.onDirty(() => writer.schedule());

  const certificate = await loadOrCreateCertificate(o.certDir);
  const faults = new FaultInjector(o.faultSeed, o.faults);
  const dispatcher = new Dispatcher({ state, clock, faults, acceptedTokens: new Set(o.acceptedTokens), strict: o.strict });
  const files = new FileService(state, clock, o.timings, certificate.cert, o.strict);
  const jobs = new JobService(state, files, o.timings);
  const capacity = new CapacityService(state);
  const deployments = new DeploymentService(state, jobs, capacity, o.timings);
  files.register(dispatcher);
  jobs.register(dispatcher);
  deployments.register(dispatcher);
  new InferenceService(deployments).register(dispatcher);
  capacity.register(dispatcher);
  const blobs = new Map<string, Buffer>();
  let armBaseUrl = '';
  const control = createControl({ state, clock, faults, dispatcher, files, jobs, deployments, blobs, blobBaseUrl: () => `${armBaseUrl}${BLOB_PREFIX}` });
  registerAdminRoutes(dispatcher, control);

  const dataServer = o.dataPlaneHttps
    ? createHttpsServer({ cert: certificate.cert, key: certificate.key, keepAliveTimeout: 30_000 }, dispatcher.handleData)
    : createHttpServer({ keepAliveTimeout: 30_000 }, dispatcher.handleData);
  // The https server also plays Azure Blob Storage for imports (`control.putBlob`): unauthenticated GETs of stored blobs.
  const armServer = createHttpsServer({ cert: certificate.cert, key: certificate.key, keepAliveTimeout: 30_000 }, (req, res) => {
    if (req.method === 'GET' && req.url?.startsWith(`${BLOB_PREFIX}/`)) return serveBlob(blobs, req.url.slice(BLOB_PREFIX.length + 1).split('?')[0]!, res);
    dispatcher.handleArm(req, res);
  });
  let dataPort: number;
  let armPort: number;
  try {
    dataPort = await listen(dataServer, o.port, o.host);
    armPort = await listen(armServer, o.armPort, o.host);
  } catch (err) {
    await Promise.all([close(dataServer), close(armServer)]);
    certificate.dispose();
    throw err;
  }

  const urlHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  armBaseUrl = `https://${urlHost}:${armPort}`;
  const dataPlaneUrl = `${o.dataPlaneHttps ? 'https' : 'http'}://${urlHost}:${dataPort}`;
  const emulated: EmulatedAccount[] = [...accounts.values()].map((a) => ({ ...a, endpoint: `${dataPlaneUrl}/${a.name}` }));
  const account = (name: string): EmulatedAccount => {
    const found = emulated.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new Error(`the emulator has no account "${name}" (accounts: ${emulated.map((a) => a.name).join(', ')})`);
    return found;
  };
  return {
    dataPlaneUrl,
    armEndpoint: `https://${urlHost}:${armPort}`,
    caCertPath: certificate.certPath,
    adminUrl: `${dataPlaneUrl}/admin`,
    accounts: emulated,
    acceptedTokens: [...o.acceptedTokens],
    endpointFor: (name) => account(name).endpoint,
    account,
    control,
    capacity,
    async stop() {
      writer?.flush();
      await Promise.all([close(dataServer), close(armServer)]);
      certificate.dispose();
    },
  };
}

const BLOB_PREFIX = '/ftpipe-emulator-blobs';

function serveBlob(blobs: Map<string, Buffer>, name: string, res: ServerResponse): void {
  const blob = blobs.get(decodeURIComponent(name));
  if (!blob) {
    res.writeHead(404, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length }).end(blob);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
