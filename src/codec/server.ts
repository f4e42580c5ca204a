/**
 * The codec server: Temporal's remote-codec HTTP protocol (`POST /encode`, `POST /decode`, bodies
 * `{"payloads": [{"metadata": {k: base64}, "data": base64}]}`), so that the Web UI (`--ui-codec-endpoint`,
 * `TEMPORAL_CODEC_ENDPOINT`) shows decrypted inputs, results and signals, and encrypts what it sends (Start Workflow,
 * signals). CORS for the UI's origins; with an auth token, every request must carry `Authorization: Bearer <token>`
 * (the UI's "pass access token" setting). Key material stays in this process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  port?: number;
  /** Origins allowed to call it from a browser (the Web UI's), e.g. `http://localhost:8233`; `*` for any. */
  origins: string[];
  /** Required bearer token; none when omitted. */
  authToken?: string;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
}

export interface RunningCodecServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(String(v), 'base64'))])),
    data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body over ${limit} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const limit = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin && (options.origins.includes('*') || options.origins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (req.method !== 'POST' || !operation) return send(404, { error: 'POST /encode or /decode' });
    if (options.authToken && !sameToken(req.headers.authorization ?? '', `Bearer ${options.authToken}`)) return send(401, { error: 'missing or wrong bearer token' });
    let payloads: JsonPayload[];
    try {
      const body = JSON.parse(await readBody(req, limit)) as { payloads?: unknown };
      if (!Array.isArray(body.payloads)) throw new Error('expected {"payloads": [...]}');
      payloads = body.payloads as JsonPayload[];
    } catch (err) {
      return send((err as { status?: number }).status ?? 400, { error: (err as Error).message });
    }
    try {
      const out = await options.codec[operation](payloads.map(fromJson));
      send(200, { payloads: out.map(toJson) });
    } catch (err) {
      send(400, { error: `cannot ${operation}: ${(err as Error).message}` });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
