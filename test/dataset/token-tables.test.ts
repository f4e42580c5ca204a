/**
 * The prebuilt tokenizer tables (src/dataset/table-file.ts) against their sources: every rank of tiktoken's data
 * files, decoded here independently of bpe.ts, must be found at its rank in a written and re-read table, whose arrays
 * must equal the ones built from the source; the character classes must equal the regular expressions' for every
 * code point; a table built from other data is not read; and the build wrote tables the tokenizer accepts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TOKEN_ENCODINGS } from '../../src/catalog/models';
import { parseEncodingSource, readEncodingTable, writeEncodingTable } from '../../src/dataset/bpe';
import { classifyBlock, readClassTable, tableBlock, writeClassTable } from '../../src/dataset/pretokenize';
import { readTableFile, writeTableFile } from '../../src/dataset/table-file';

const dir = mkdtempSync(join(tmpdir(), 'ftpipe-token-tables-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** tiktoken's ranks as its npm data file spells them: `! <first rank> <base64 token> ...` groups. */
function sourceTokens(encoding: string): { patStr: string; tokens: Buffer[] } {
  const json = JSON.parse(readFileSync(require.resolve(`tiktoken/encoders/${encoding}.json`), 'utf8')) as { pat_str: string; bpe_ranks: string };
  const tokens: Buffer[] = [];
  for (const group of json.bpe_ranks.split('!')) {
    const [first, ...encoded] = group.trim().split(/\s+/);
    if (!first) continue;
    assert.equal(Number(first), tokens.length, 'ranks are contiguous');
    for (const token of encoded) tokens.push(Buffer.from(token, 'base64'));
  }
  return { patStr: json.pat_str, tokens };
}

for (const encoding of TOKEN_ENCODINGS) {
  describe(`${encoding} rank table`, () => {
    it('holds every token of tiktoken data at its rank, with the same arrays as decoding the data', () => {
      writeEncodingTable(encoding, dir);
      const table = readEncodingTable(encoding, dir);
      assert.ok(table, 'the table just written is read');
      const { patStr, tokens } = sourceTokens(encoding);
      assert.equal(table.patStr, patStr);
      const piece = new Uint8Array(256);
      tokens.forEach((token, rank) => {
        piece.set(token);
        assert.equal(table.ranks.rank(piece, 0, token.length), rank, `token ${rank}`);
      });
      const parsed = parseEncodingSource(encoding).ranks.sections();
      const read = table.ranks.sections();
      for (const name of Object.keys(parsed)) assert.deepEqual(Buffer.from(read[name]!.buffer, read[name]!.byteOffset, read[name]!.byteLength), Buffer.from(parsed[name]!.buffer, parsed[name]!.byteOffset, parsed[name]!.byteLength), name);
    });

    it('is not read when it was built from other tiktoken data', () => {
      const path = join(dir, `${encoding}.bin`);
      writeTableFile(path, { encoding, tiktoken: '0.0.0', bytes: 1 }, { pattern: Buffer.from('x') });
      assert.equal(readEncodingTable(encoding, dir), undefined);
      assert.equal(readTableFile(path, { encoding, tiktoken: '0.0.0', bytes: 1 })?.section('pattern').length, 1);
    });
  });
}

describe('pre-tokenizer class table', () => {
  it('gives every code point the classes of the regular expressions', () => {
    writeClassTable(dir);
    const table = readClassTable(dir);
    assert.ok(table, 'the table just written is read');
    for (let block = 0; block < 0x110000 >> 8; block++) assert.deepEqual(tableBlock(table, block), classifyBlock(block), `block ${block.toString(16)}`);
  });
});

describe('the build', () => {
  it('wrote tables of the installed tiktoken data and this Unicode version (else `npm run build`)', () => {
    for (const encoding of TOKEN_ENCODINGS) assert.ok(readEncodingTable(encoding), `dist/token-tables/${encoding}.bin`);
    assert.ok(readClassTable(), 'dist/token-tables/pretokenizer-classes.bin');
  });
});
