/**
 * Starts and stops the real Temporal dev server (`temporal server start-dev`), with ftpipe's search attributes
 * registered. Used by `ftpipe dev`, `ftpipe demo` and the integration tests; the same binary as Temporal's own
 * `@temporalio/testing` would start with `existing-path`, but with control over the database file and restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { DEFAULT_NAMESPACE } from '../temporal/constants';
import { searchAttributeFlags } from '../temporal/search-attributes';
import { freePort } from './free-port';
import { temporalCliPath } from './temporal-cli';

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; `false` for headless. A free one when omitted. */
  uiPort?: number | false;
  /** The HTTP API's and the `/metrics` ports; the CLI picks free ones when omitted. */
  httpPort?: number;
  metricsPort?: number;
  /** SQLite file that keeps state across restarts; in-memory when omitted. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own output goes (a file); discarded when omitted. */
  logFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
  /** The Web UI's remote codec (ftpipe's codec server), so that it shows and sends encrypted payloads. */
  uiCodecEndpoint?: string;
  /** Extra dynamic config (`--dynamic-config-value KEY=VALUE`), e.g. `limit.historyCount.suggestContinueAsNew`. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class DevServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly host: string,
    readonly port: number,
    readonly uiPort: number | undefined,
    readonly namespace: string,
    private readonly options: DevServerOptions,
  ) {}

  static async start(options: DevServerOptions = {}): Promise<DevServer> {
    const port = options.port ?? (await freePort());
    const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? (await freePort()));
    const server = new DevServer('127.0.0.1', port, uiPort, options.namespace ?? DEFAULT_NAMESPACE, options);
    await server.launch();
    return server;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get uiUrl(): string | undefined {
    return this.uiPort === undefined ? undefined : `http://${this.host}:${this.uiPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const { dbFile, logFile, logLevel = 'warn', startTimeoutMs = 30_000 } = this.options;
    const args = ['server', 'start-dev', '--ip', this.host, '--port', String(this.port), '--namespace', this.namespace, '--log-level', logLevel];
    args.push(...(this.uiPort === undefined ? ['--headless'] : ['--ui-port', String(this.uiPort)]));
    if (this.uiPort !== undefined && this.options.uiCodecEndpoint) args.push('--ui-codec-endpoint', this.options.uiCodecEndpoint);
    if (this.options.httpPort !== undefined) args.push('--http-port', String(this.options.httpPort));
    if (this.options.metricsPort !== undefined) args.push('--metrics-port', String(this.options.metricsPort));
    if (dbFile) {
      mkdirSync(dirname(dbFile), { recursive: true });
      args.push('--db-filename', dbFile);
    }
    // No `system.forceSearchAttributesCacheRefreshOnRead`: the CLI writes the --search-attribute flags into the
    // namespace before the server starts, so the server's first read of them (into its cache) already has them. Forcing
    // a refresh made every read of the namespace's search attributes (each start, upsert and visibility write) a read
    // of the database.
    for (const [key, value] of Object.entries(this.options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
    args.push(...searchAttributeFlags());

    const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    if (logFile) {
      mkdirSync(dirname(logFile), { recursive: true });
      const log = createWriteStream(logFile, { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    } else {
      child.stdout?.resume();
      child.stderr?.resume();
    }
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      running.delete(child);
      exited = `exited with ${signal ?? code}`;
    });
    await this.waitUntilServing(startTimeoutMs, () => exited);
  }

  private async waitUntilServing(timeoutMs: number, exited: () => string | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const why = exited();
      if (why) throw new Error(`temporal dev server ${why} before serving on ${this.address}${this.options.logFile ? ` (log: ${this.options.logFile})` : ''}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: this.namespace });
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        lastError = err;
        await sleep(200);
      }
    }
    await this.stop();
    throw new Error(`temporal dev server did not serve on ${this.address} within ${timeoutMs} ms: ${String(lastError)}`);
  }

  /** Stops the server: SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills the server at once, as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops and starts the server again on the same ports and database file. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}
