/** The bytes the upload step sends: the file as it is, with a UTF-8 BOM in front when it lacks one. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { UTF8_BOM } from './limits';

export async function startsWithBom(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(UTF8_BOM.length);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return bytesRead === UTF8_BOM.length && head.equals(UTF8_BOM);
  } finally {
    await file.close();
  }
}

/** A stream of the upload bytes, read in chunks (constant memory whatever the file size). */
export async function openUploadStream(path: string): Promise<Readable> {
  const hasBom = await startsWithBom(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (hasBom) return file;
  async function* withBom(): AsyncGenerator<Buffer> {
    yield UTF8_BOM;
    for await (const chunk of file) yield chunk as Buffer;
  }
  return Readable.from(withBom(), { objectMode: false });
}
