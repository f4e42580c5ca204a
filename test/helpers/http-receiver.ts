/**
 * A local HTTP endpoint that keeps every request it receives, for tests of what ftpipe sends out (webhooks, OTLP
 * exporters): on a free port of 127.0.0.1, each request kept with its JSON body, in the order they arrived. What ftpipe
 * sends is JSON: a body that is not is answered 400 and kept in `notJson`, so the sender records a failure the test sees.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest<Body> {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent (what a signature is computed over). */
  text: string;
  /** The body parsed as JSON. */
  body: Body;
}

export interface HttpReceiver<Body> {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  received: ReceivedRequest<Body>[];
  /** The bodies that were not JSON. */
  notJson: string[];
  close(): Promise<void>;
}

export interface HttpReceiverOptions {
  /** The status to answer a request with (200 unless given). */
  status?: (path: string) => number;
}

export async function startHttpReceiver<Body = unknown>(options: HttpReceiverOptions = {}): Promise<HttpReceiver<Body>> {
  const received: ReceivedRequest<Body>[] = [];
  const notJson: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Body;
      try {
        body = JSON.parse(text) as Body;
      } catch {
        notJson.push(text);
        res.writeHead(400).end('not JSON');
        return;
      }
      const path = req.url ?? '';
      received.push({ method: req.method ?? '', path, headers: req.headers, text, body });
      res.writeHead(options.status?.(path) ?? 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    notJson,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
