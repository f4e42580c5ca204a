/**
 * tiktoken's pre-tokenizers (the `pat_str` regular expressions of o200k_base and cl100k_base) as hand-written
 * scanners: splitting with V8's regular expression was about a third of counting's CPU, and a scanner that reads each
 * character's class from a table does the same work several times faster. Each scanner follows its pattern's
 * alternatives in order, with the backtracking of its greedy quantifiers spelled out, so it ends every piece exactly
 * where the pattern's leftmost match ends (test/dataset/pretokenize.test.ts compares them on every character class
 * and on random text). A pattern that is neither is refused (pieceSplitter).
 */
import { join } from 'node:path';
import { readTableFile, tokenTablesDir, writeTableFile } from './table-file';

/** Piece splitter: where the piece starting at `start` of `text` ends (always after `start`). */
export type PieceEnd = (text: string, start: number) => number;

// Character classes of the patterns, one bit each.
/** `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`: o200k's "upper" letters. */
const UPPER = 1;
/** `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`: o200k's "lower" letters. */
const LOWER = 2;
const LETTER = 4;
const NUMBER = 8;
/** `\s` as Rust's regex reads it: exactly Unicode White_Space (JavaScript's `\s` adds U+FEFF). */
const SPACE = 16;
/** `\r` or `\n`. */
const NEWLINE = 32;
/** `[^\r\n\p{L}\p{N}]`, the optional character before a word. */
const NOT_WORD_OR_NEWLINE = NEWLINE | LETTER | NUMBER;
/** `[^\s\p{L}\p{N}]`, punctuation and symbols. */
const NOT_PUNCTUATION = SPACE | LETTER | NUMBER;

const CLASS_TESTS: Array<[RegExp, number]> = [
  [/[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]/u, UPPER],
  [/[\p{Ll}\p{Lm}\p{Lo}\p{M}]/u, LOWER],
  [/\p{L}/u, LETTER],
  [/\p{N}/u, NUMBER],
  [/\p{White_Space}/u, SPACE],
  [/[\r\n]/u, NEWLINE],
];

/** The class bits of the 256 code points of `block` (code points block << 8 to block << 8 | 255), by the regular expressions. */
export function classifyBlock(block: number): Uint8Array {
  const classes = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const point = (block << 8) | i;
    // A lone surrogate is no letter, number or space, as in the patterns run with the `u` flag.
    if (point >= 0xd800 && point <= 0xdfff) continue;
    const char = String.fromCodePoint(point);
    for (const [test, bit] of CLASS_TESTS) if (test.test(char)) classes[i]! |= bit;
  }
  return classes;
}

const BLOCKS = 0x110000 >> 8;
const CLASS_TABLE = 'pretokenizer-classes.bin';
/** The classes depend on the Unicode version of the regular expressions that computed them. */
const classSource = (): { unicode: string | undefined } => ({ unicode: process.versions.unicode });

/**
 * The prebuilt classes (see table-file.ts): each block's index among the distinct blocks (139 of 4,352 in Unicode 15),
 * and those blocks. Classifying a block with the regular expressions takes about 0.5 ms, and text in Chinese or
 * Japanese touches dozens of blocks.
 */
interface ClassTable {
  index: Uint16Array;
  blocks: Uint8Array;
}

/** Writes the prebuilt classes into `dir` (the build does). */
export function writeClassTable(dir = tokenTablesDir()): void {
  const distinct = new Map<string, number>();
  const index = new Uint16Array(BLOCKS);
  const blocks: Uint8Array[] = [];
  for (let block = 0; block < BLOCKS; block++) {
    const classes = classifyBlock(block);
    const key = Buffer.from(classes).toString('latin1');
    let at = distinct.get(key);
    if (at === undefined) {
      at = blocks.push(classes) - 1;
      distinct.set(key, at);
    }
    index[block] = at;
  }
  writeTableFile(join(dir, CLASS_TABLE), classSource(), { index, blocks: Buffer.concat(blocks) });
}

/** The prebuilt classes in `dir`, or undefined when there are none computed with this process's Unicode version. */
export function readClassTable(dir = tokenTablesDir()): ClassTable | undefined {
  const file = readTableFile(join(dir, CLASS_TABLE), classSource());
  if (!file) return undefined;
  const index = file.section('index');
  return { index: new Uint16Array(index.buffer, index.byteOffset, index.byteLength / 2), blocks: file.section('blocks') };
}

/** The classes of a block, from a class table. */
export function tableBlock(table: ClassTable, block: number): Uint8Array {
  const at = table.index[block]! * 256;
  return table.blocks.subarray(at, at + 256);
}

/** Classes by code point, in blocks of 256 found on first use (most text touches a handful of blocks). */
const blocks: Array<Uint8Array | undefined> = [];
let prebuilt: ClassTable | null | undefined;

function fillBlock(block: number): Uint8Array {
  if (prebuilt === undefined) prebuilt = readClassTable() ?? null;
  const classes = prebuilt ? tableBlock(prebuilt, block) : classifyBlock(block);
  blocks[block] = classes;
  return classes;
}

const ASCII = fillBlock(0);

/** UTF-16 units of the code point read by the last `classAt`. */
let width = 1;

/** Class bits of the code point at `i` (a surrogate pair is one code point); sets `width`. */
function classAt(text: string, i: number): number {
  let point = text.charCodeAt(i);
  width = 1;
  if (point < 0x100) return ASCII[point]!;
  if ((point & 0xfc00) === 0xd800 && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if ((low & 0xfc00) === 0xdc00) {
      point = 0x10000 + ((point - 0xd800) << 10) + (low - 0xdc00);
      width = 2;
    }
  }
  return (blocks[point >> 8] ?? fillBlock(point >> 8))[point & 0xff]!;
}

/**
 * `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `at`: where it ends, or `at`. Case-insensitive as the JavaScript translation of
 * the pattern reads it (ASCII letters; `c | 0x20` lowers exactly the two cases of each letter tested).
 */
function contractionEnd(text: string, at: number): number {
  if (at + 1 >= text.length || text.charCodeAt(at) !== 0x27) return at;
  const first = text.charCodeAt(at + 1) | 0x20;
  if (first === 0x73 || first === 0x74 || first === 0x6d || first === 0x64) return at + 2;
  if (at + 2 < text.length) {
    const second = text.charCodeAt(at + 2) | 0x20;
    if ((first === 0x72 || first === 0x76) && second === 0x65) return at + 3;
    if (first === 0x6c && second === 0x6c) return at + 3;
  }
  return at;
}

/**
 * o200k's `[UPPER]*[LOWER]+` at `at`: its end, or -1. The greedy `[UPPER]*` gives back characters until `[LOWER]+`
 * can start: so either a LOWER-only character follows the UPPER run (and `[LOWER]+` runs on from it), or the match
 * ends after the run's last character that is also LOWER (`\p{Lm}`, `\p{Lo}`, `\p{M}`).
 */
function upperLowerEnd(text: string, at: number): number {
  const n = text.length;
  let end = at;
  let lastLower = -1;
  while (end < n) {
    const bits = classAt(text, end);
    if (bits & UPPER) {
      end += width;
      if (bits & LOWER) lastLower = end;
    } else if (bits & LOWER) {
      end += width;
      while (end < n && classAt(text, end) & LOWER) end += width;
      return end;
    } else break;
  }
  return lastLower;
}

/** o200k's `[UPPER]+[LOWER]*` at `at`: its end, or -1. */
function upperThenLowerEnd(text: string, at: number): number {
  const n = text.length;
  let end = at;
  while (end < n && classAt(text, end) & UPPER) end += width;
  if (end === at) return -1;
  while (end < n && classAt(text, end) & LOWER) end += width;
  return end;
}

function letterRunEnd(text: string, at: number): number {
  let end = at;
  while (end < text.length && classAt(text, end) & LETTER) end += width;
  return end;
}

/** `\p{N}{1,3}` at `at`, whose first character is a number. */
function numberEnd(text: string, at: number, firstWidth: number): number {
  let end = at + firstWidth;
  for (let more = 0; more < 2 && end < text.length && classAt(text, end) & NUMBER; more++) end += width;
  return end;
}

/**
 * ` ?[^\s\p{L}\p{N}]+` then the trailing `[\r\n]*` (o200k: `[\r\n/]*`) at `at`, or -1. The optional space is taken
 * only when punctuation follows it.
 */
function punctuationEnd(text: string, at: number, bits: number, slash: boolean): number {
  const n = text.length;
  let end = at;
  if (text.charCodeAt(at) === 0x20 && at + 1 < n && (classAt(text, at + 1) & NOT_PUNCTUATION) === 0) end = at + 1;
  else if (bits & NOT_PUNCTUATION) return -1;
  while (end < n && (classAt(text, end) & NOT_PUNCTUATION) === 0) end += width;
  for (; end < n; end++) {
    const c = text.charCodeAt(end);
    if (c !== 0x0a && c !== 0x0d && !(slash && c === 0x2f)) break;
  }
  return end;
}

/**
 * `\s*[\r\n]+|\s+(?!\S)|\s+` at `at`, a white-space character (all of them are single UTF-16 units): up to the last
 * newline of the white-space run when it holds one; else the run, less its last character when a non-space follows
 * (that one starts the next piece, as ` word`).
 */
function spaceEnd(text: string, at: number): number {
  const n = text.length;
  let end = at;
  let lastNewline = -1;
  while (end < n && classAt(text, end) & SPACE) {
    const c = text.charCodeAt(end);
    if (c === 0x0a || c === 0x0d) lastNewline = end;
    end++;
  }
  if (lastNewline >= 0) return lastNewline + 1;
  if (end === n || end - at === 1) return end;
  return end - 1;
}

/** ASCII characters by what o200k's word alternatives make of them (0: a digit, `\r` or `\n`, which no word takes). */
const ASCII_UPPER = 1;
const ASCII_LOWER = 2;
/** `[^\r\n\p{L}\p{N}]`: may lead a word. */
const ASCII_LEAD = 3;
const ASCII_KINDS = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++) {
  const bits = ASCII[c]!;
  ASCII_KINDS[c] = bits & UPPER ? ASCII_UPPER : bits & LOWER ? ASCII_LOWER : bits & NOT_WORD_OR_NEWLINE ? 0 : ASCII_LEAD;
}

/**
 * o200k's two word alternatives for a word of ASCII letters (with its optional lead character, such as a space),
 * the commonest piece, without the general path's class lookups: where it ends, or -1 when it is not such a word or a
 * non-ASCII character follows it (which may continue it: the general path decides). In ASCII no letter is both UPPER
 * and LOWER, so the greedy `[UPPER]*[LOWER]+` (else `[UPPER]+[LOWER]*`) is an upper-case run, then a lower-case run.
 */
function asciiWordEnd(text: string, start: number): number {
  const n = text.length;
  let at = start;
  let c = text.charCodeAt(at);
  if (c >= 0x80) return -1;
  let kind = ASCII_KINDS[c]!;
  if (kind === ASCII_LEAD) {
    if (++at === n) return -1;
    c = text.charCodeAt(at);
    if (c >= 0x80) return -1;
    kind = ASCII_KINDS[c]!;
  }
  if (kind !== ASCII_UPPER && kind !== ASCII_LOWER) return -1;
  while (kind === ASCII_UPPER) {
    if (++at === n) return at;
    c = text.charCodeAt(at);
    if (c >= 0x80) return -1;
    kind = ASCII_KINDS[c]!;
  }
  while (kind === ASCII_LOWER) {
    if (++at === n) return at;
    c = text.charCodeAt(at);
    if (c >= 0x80) return -1;
    kind = ASCII_KINDS[c]!;
  }
  return c === 0x27 ? contractionEnd(text, at) : at;
}

/**
 * o200k_base: `[^\r\n\p{L}\p{N}]?[UPPER]*[LOWER]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?` `|[^\r\n\p{L}\p{N}]?[UPPER]+[LOWER]*(contractions)?`
 * `|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
 */
export function o200kPieceEnd(text: string, start: number): number {
  const word = asciiWordEnd(text, start);
  if (word >= 0) return word;
  const bits = classAt(text, start);
  const first = width;
  const mayLead = (bits & NOT_WORD_OR_NEWLINE) === 0;
  let end = -1;
  if (mayLead) end = upperLowerEnd(text, start + first);
  if (end < 0 && bits & (UPPER | LOWER)) end = upperLowerEnd(text, start);
  if (end < 0 && mayLead) end = upperThenLowerEnd(text, start + first);
  if (end < 0 && bits & UPPER) end = upperThenLowerEnd(text, start);
  if (end >= 0) return contractionEnd(text, end);
  if (bits & NUMBER) return numberEnd(text, start, first);
  end = punctuationEnd(text, start, bits, true);
  return end >= 0 ? end : spaceEnd(text, start);
}

/**
 * cl100k_base: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*`
 * `|\s*[\r\n]+|\s+(?!\S)|\s+`
 */
export function cl100kPieceEnd(text: string, start: number): number {
  const contraction = contractionEnd(text, start);
  if (contraction > start) return contraction;
  const bits = classAt(text, start);
  const first = width;
  if ((bits & NOT_WORD_OR_NEWLINE) === 0) {
    const end = letterRunEnd(text, start + first);
    if (end > start + first) return end;
  }
  if (bits & LETTER) return letterRunEnd(text, start);
  if (bits & NUMBER) return numberEnd(text, start, first);
  const end = punctuationEnd(text, start, bits, false);
  return end >= 0 ? end : spaceEnd(text, start);
}

/** tiktoken's `pat_str` of each encoding these scanners implement, as its npm data files spell it. */
const SCANNERS = new Map<string, PieceEnd>([
  ["[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", o200kPieceEnd],
  ["(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", cl100kPieceEnd],
]);

/**
 * The scanner of an encoding's pattern. A pattern it does not know (a newer tiktoken data file) is refused rather
 * than split approximately: counts must stay exact.
 */
export function pieceSplitter(patStr: string): PieceEnd {
  const scanner = SCANNERS.get(patStr);
  if (!scanner) throw new Error(`no pre-tokenizer for tiktoken pattern ${JSON.stringify(patStr)}`);
  return scanner;
}
