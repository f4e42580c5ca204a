/**
 * The tokenizer's prebuilt tables: `npm run build` (scripts/build-token-tables.ts) writes each encoding's rank table
 * (bpe.ts) and the pre-tokenizer's character classes (pretokenize.ts) to dist/token-tables/, as files that load with
 * one read into typed-array views, with no per-entry work: decoding tiktoken's base64 ranks and building their hash
 * table took 0.15-0.19 s of CPU at every start of the CLI and of each tokenizer thread, and classifying code points
 * with Unicode regular expressions up to 0.05 s more. A file is used only when its `source` (what it was built from)
 * is the one this process would build it from; otherwise the caller builds the table from its source, as the build
 * does: the same table, slower to start.
 *
 * Layout: a little-endian uint32 N, N bytes of JSON header `{format, source, sections: {name: [offset, bytes]}}`,
 * then the sections, each at an offset that is a multiple of 8 so that any typed array can view it in place.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { packageRoot } from '../paths';

/** Changes whenever the layout of a section changes, so that files of an older build are not read. */
const TABLE_FORMAT = 1;
const ALIGN = 8;

/** Where the build writes the tables and the tokenizer reads them. */
export function tokenTablesDir(): string {
  return join(packageRoot(), 'dist', 'token-tables');
}

export type TableSections = Record<string, Uint8Array | Uint16Array | Int32Array | Uint32Array>;

/** Writes `sections` and `source` (JSON: what they were built from) to `path`, atomically. */
export function writeTableFile(path: string, source: unknown, sections: TableSections): void {
  const names = Object.keys(sections);
  const placed: Record<string, [number, number]> = {};
  // The header's length depends on the offsets it lists: lay out after a header with room to spare, then pad.
  const draft = Buffer.byteLength(JSON.stringify({ format: TABLE_FORMAT, endianness: endianness(), source, sections: Object.fromEntries(names.map((n) => [n, [2 ** 40, 2 ** 40]])) }));
  let offset = Math.ceil((4 + draft) / ALIGN) * ALIGN;
  for (const name of names) {
    placed[name] = [offset, sections[name]!.byteLength];
    offset = Math.ceil((offset + sections[name]!.byteLength) / ALIGN) * ALIGN;
  }
  const out = new Uint8Array(offset);
  const header = Buffer.from(JSON.stringify({ format: TABLE_FORMAT, endianness: endianness(), source, sections: placed }));
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  for (const name of names) {
    const section = sections[name]!;
    out.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), placed[name]![0]);
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, out);
  renameSync(temporary, path);
}

export interface TableFile {
  /** The section's bytes, in place (8-byte aligned). */
  section(name: string): Uint8Array;
}

/**
 * The table at `path`, or undefined when there is none or it was built from another source, another format or on a
 * machine of the other byte order.
 */
export function readTableFile(path: string, source: unknown): TableFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  let data: Uint8Array;
  try {
    // A buffer of its own (not Node's pool) starts 8-byte aligned.
    data = new Uint8Array(fstatSync(fd).size);
    for (let read = 0; read < data.length; ) {
      const got = readSync(fd, data, read, data.length - read, read);
      if (got === 0) return undefined;
      read += got;
    }
  } finally {
    closeSync(fd);
  }
  if (data.length < 4) return undefined;
  const headerBytes = new DataView(data.buffer).getUint32(0, true);
  if (4 + headerBytes > data.length) return undefined;
  let header: { format?: unknown; endianness?: unknown; source?: unknown; sections?: Record<string, [number, number]> };
  try {
    header = JSON.parse(Buffer.from(data.buffer, 4, headerBytes).toString('utf8')) as typeof header;
  } catch {
    return undefined;
  }
  if (header.format !== TABLE_FORMAT || header.endianness !== endianness() || !isDeepStrictEqual(header.source, source) || !header.sections) return undefined;
  const sections = header.sections;
  for (const [offset, bytes] of Object.values(sections)) if (offset % ALIGN !== 0 || offset + bytes > data.length) return undefined;
  return {
    section(name) {
      const placed = sections[name];
      if (!placed) throw new Error(`token table ${path} has no section ${name}`);
      return new Uint8Array(data.buffer, placed[0], placed[1]);
    },
  };
}
