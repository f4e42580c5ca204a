/**
 * A `fetch` for the openai client that trusts an extra CA for https, per client: Node's global fetch cannot take
 * a CA without a process-wide setting (NODE_EXTRA_CA_CERTS) or the undici package, so https requests go through
 * node:https with an agent that trusts the system roots plus the given PEM. Plain http uses the global fetch.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';

export function fetchTrustingCa(caPem: string): typeof fetch {
  const agent = new Agent({ keepAlive: true, ca: [...rootCertificates, caPem] });
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== 'https:') return fetch(req);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((value, name) => (headers[name] = value));
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpsRequest(url, { method: req.method, headers, agent, signal: req.signal }, (res) => {
        const responseHeaders = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304 || req.method === 'HEAD';
        if (noBody) res.resume();
        resolve(
          new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }),
        );
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };
}
