/**
 * Reads a JSONL file once, as a stream, cutting it into batches of whole lines for the workers, and hashing on the
 * way exactly the bytes the upload step will send (a UTF-8 BOM in front when the file lacks one, then the file).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { MAX_LINE_BYTES, UTF8_BOM } from './limits';

/** Read size, and so about the size of a batch of lines sent to a worker. */
const READ_CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/** A batch of whole lines (the BOM removed), or one line longer than MAX_LINE_BYTES, skipped unread. */
export type LineBatch = { lines: Uint8Array<ArrayBuffer> } | { oversizedLineBytes: number };

/** What the reader learns about the file; complete once the batches are exhausted. */
export interface FileFacts {
  hasBom: boolean;
  /** Starts with a UTF-16 byte-order mark instead. */
  utf16: boolean;
  /** SHA-256 (hex) of the upload bytes. */
  uploadSha256: string;
}

function concat(parts: Buffer[], bytes: number): Uint8Array<ArrayBuffer> {
  // A fresh buffer (never a slice of Node's pool), so that it can be transferred to a worker.
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export async function* readLineBatches(path: string, facts: FileFacts): AsyncGenerator<LineBatch> {
  const sha256 = createHash('sha256');
  // The first bytes, until there are enough to tell whether the file starts with a BOM.
  let head: Buffer | undefined = Buffer.alloc(0);
  // The start of a line whose end has not been read yet.
  let carry: Buffer[] = [];
  let carryBytes = 0;
  // Length so far of an over-long line being skipped; 0 when not skipping.
  let skippedBytes = 0;

  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const read of stream) {
      let chunk = read as Buffer;
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < UTF8_BOM.length) continue;
        chunk = head;
        head = undefined;
        facts.hasBom = chunk.subarray(0, UTF8_BOM.length).equals(UTF8_BOM);
        facts.utf16 = (chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff);
        if (!facts.hasBom) sha256.update(UTF8_BOM);
        sha256.update(chunk);
        if (facts.hasBom) chunk = chunk.subarray(UTF8_BOM.length);
      } else {
        sha256.update(chunk);
      }

      if (skippedBytes > 0 || carryBytes > 0) {
        const newline = chunk.indexOf(NEWLINE);
        const lineBytes = skippedBytes + carryBytes + (newline === -1 ? chunk.length : newline);
        if (lineBytes > MAX_LINE_BYTES) {
          carry = [];
          carryBytes = 0;
          skippedBytes = lineBytes;
          if (newline === -1) continue;
          skippedBytes = 0;
          yield { oversizedLineBytes: lineBytes };
          chunk = chunk.subarray(newline + 1);
        }
      }

      const lastNewline = chunk.lastIndexOf(NEWLINE);
      if (lastNewline === -1) {
        carry.push(chunk);
        carryBytes += chunk.length;
        continue;
      }
      const lines = concat([...carry, chunk.subarray(0, lastNewline + 1)], carryBytes + lastNewline + 1);
      carry = [chunk.subarray(lastNewline + 1)];
      carryBytes = carry[0]!.length;
      yield { lines };
    }

    if (head) {
      // The file is shorter than a BOM.
      sha256.update(UTF8_BOM);
      sha256.update(head);
      carry = [head];
      carryBytes = head.length;
    }
    if (skippedBytes > 0) yield { oversizedLineBytes: skippedBytes };
    else if (carryBytes > 0) yield { lines: concat(carry, carryBytes) };
    facts.uploadSha256 = sha256.digest('hex');
  } finally {
    stream.destroy();
  }
}
