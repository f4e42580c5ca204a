/**
 * The hand-written pre-tokenizers against the patterns they replace: tiktoken's own `pat_str` of each encoding, run
 * as a JavaScript regular expression (Rust's syntax translated: `(?i:...)` spelled out, `\s` as Unicode White_Space),
 * must split every text into the same pieces. Texts: every code point of the Basic Multilingual Plane and a sample of
 * the others in several contexts, random strings over an alphabet of every character class the patterns tell apart,
 * and the token tests' varied text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { get_encoding } from 'tiktoken';
import { pieceSplitter, type PieceEnd } from '../../src/dataset/pretokenize';
import { createTokenCounter } from '../../src/dataset/tokens';

function patStr(encoding: string): string {
  return (JSON.parse(readFileSync(require.resolve(`tiktoken/encoders/${encoding}.json`), 'utf8')) as { pat_str: string }).pat_str;
}

/** The reference: the pattern as a JavaScript regular expression, exactly as tiktoken's Rust regex reads it. */
function referencePattern(pattern: string): RegExp {
  const caseless = pattern.replace(/\(\?i:([^()]*)\)/g, (_group, body: string) =>
    `(?:${body.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`);
  return new RegExp(caseless.replace(/\\s/g, '\\p{White_Space}').replace(/\\S/g, '\\P{White_Space}'), 'gu');
}

function referencePieces(pattern: RegExp, text: string): string[] {
  return text.match(pattern) ?? [];
}

function scannedPieces(end: PieceEnd, text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; ) {
    const next = end(text, start);
    assert.ok(next > start, `no progress at ${start} of ${JSON.stringify(text)}`);
    pieces.push(text.slice(start, next));
    start = next;
  }
  return pieces;
}

/**
 * One character per class the patterns distinguish, and the characters they name: letters of each case (Lu, Ll, Lt,
 * Lm, Lo) in and beyond the BMP, marks, numbers (Nd, Nl, No), white space (including U+0085, and U+FEFF, which is
 * none), newlines, the contraction letters, the apostrophe and slash, punctuation, symbols, emoji, lone surrogates.
 */
const ALPHABET = [
  'a', 'z', 'A', 'Z', 's', 'S', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'V', 'm', 'M', 'l', 'L', 'd', 'D', 'x', '\u017F', '\u212A',
  'é', 'É', 'ǅ', 'ʰ', '々', '中', 'あ', 'ﾟ', 'ก', 'ا', '\u0301', '\u0903', '\u20DD', '𝐀', '𝐚', '𠀀', '𝆥',
  '0', '9', '٣', 'Ⅻ', '½', '²', '𝟎', '𐍁',
  ' ', ' ', ' ', '\t', '\u000B', '\u000C', '\r', '\n', '\r', '\n', '\u0085', '\u00A0', '\u1680', '\u2003', '\u2028', '\u2029', '\u3000', '\uFEFF', '\u200B',
  "'", "'", "'", '/', '/', '!', '"', '#', '.', ',', '-', '_', '(', '@', '€', '+', '©', '\u00AD', '\u0000', '😀', '👍🏽', '🇳🇴', '\uD800', '\uDC00',
];

function randomTexts(count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  return Array.from({ length: count }, () => {
    let text = '';
    for (let length = 1 + next(14); length > 0; length--) text += ALPHABET[next(ALPHABET.length)];
    return text;
  });
}

/** Every BMP code point, and every 61st beyond it, alone and among letters, spaces, apostrophes and numbers. */
function everyCodePointTexts(): string[] {
  const texts: string[] = [];
  for (let point = 0; point <= 0x10ffff; point += point < 0x10000 ? 1 : 61) {
    const c = String.fromCodePoint(point);
    texts.push(`${c}${c}x ${c}a'${c}s A${c}${c}1 ${c}  ${c}\n`);
  }
  return texts;
}

const VARIED = [
  "I'LL SEE YOU'RE THERE, he'd said; we've, they'll, it's. DON'T! Mc'Donald's O'NEIL'S",
  'HTTPRequest parseJSONValue iPhone eBay XMLHttpRequest ÉCOLE élève Straße ǅemal',
  'Привет, мир! 你好，世界。こんにちは。안녕하세요 مرحبا नमस्ते สวัสดี',
  'e\u0301 Z\u0351\u0352a\u0353l\u0354g\u0355o \u0301\u0301a  \u0301',
  'tabs\tand\r\nwindows\r\n\r\n   trailing   \n\n  \n x  \u00A0 y\u3000z \u0085\u0085 end  ',
  'a/b//c ///\n/x !!!\r\n/ ?? \n\n/',
  'call_1 {"city":"Oslo","n":[1,22,333,4444,55555]} 3.14159 1,000,000 ٣٤٥٦ Ⅻ½²',
  '👩‍👩‍👧 family 🇳🇴 flag 👍🏽🎉🎉 😀x x😀 a\uD800b \uDC00 \uD800',
];

for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
  describe(`${encoding} pre-tokenizer`, () => {
    const pattern = referencePattern(patStr(encoding));
    const scanner = pieceSplitter(patStr(encoding));
    const same = (texts: string[]): void => {
      for (const text of texts) assert.deepEqual(scannedPieces(scanner, text), referencePieces(pattern, text), JSON.stringify(text));
    };

    it('splits varied text as the pattern does', () => same(VARIED));
    it('splits every code point in several contexts as the pattern does', () => same(everyCodePointTexts()));
    it('splits 30,000 random strings over every character class as the pattern does', () => same(randomTexts(30_000, encoding.length)));
  });
}

describe('pre-tokenizer patterns', () => {
  it('refuses a pattern it has no scanner for, rather than splitting approximately', () => {
    assert.throws(() => pieceSplitter('\\p{L}+|\\s+'), /no pre-tokenizer/);
  });

  it('counts the random strings as tiktoken does', () => {
    const reference = get_encoding('o200k_base');
    const counter = createTokenCounter('o200k_base');
    for (const text of randomTexts(3_000, 7)) {
      // tiktoken reads a lone surrogate as U+FFFD, as ftpipe's counter does.
      assert.equal(counter.count(text), reference.encode_ordinary(text).length, JSON.stringify(text));
    }
  });
});
