/** Sends one notification: a JSON POST signed with HMAC-SHA256 over `<timestamp>.<body>` (header X-Ftpipe-Signature). */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-ftpipe-signature';
export const DELIVERY_HEADER = 'x-ftpipe-delivery';

/** `t=<unix seconds>,v1=<hex>`: the receiver recomputes HMAC-SHA256(secret, `${t}.${body}`) and checks t is recent. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export async function postNotice(url: string, body: unknown, options: { secret?: string; deliveryId: string; timeoutMs: number }): Promise<void> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ftpipe', [DELIVERY_HEADER]: options.deliveryId };
  if (options.secret) headers[SIGNATURE_HEADER] = signature(options.secret, Math.floor(Date.now() / 1000), text);
  const res = await fetch(url, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(options.timeoutMs) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}
