/**
 * Token counts against the reference: tiktoken's own `encode_ordinary` (OpenAI's Rust BPE), on varied text and on
 * random strings, plus counts hard-coded from it; and the chat framing formula on whole examples.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { get_encoding } from 'tiktoken';
import { checkExample, type ExampleOptions } from '../../src/dataset/examples';
import { PieceCache } from '../../src/dataset/piece-cache';
import { createTokenCounter, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, type TokenCounter } from '../../src/dataset/tokens';

const reference = get_encoding('o200k_base');
const referenceCount = (text: string): number => reference.encode_ordinary(text).length;
let counter: TokenCounter;
before(() => {
  counter = createTokenCounter('o200k_base');
});

const VARIED_TEXT = [
  'hello world',
  'The quick brown fox jumps over the lazy dog. 1234567890 3.14159',
  "I'LL SEE YOU'RE THERE, he'd said; we've, they'll, it's",
  'Привет, мир! Как дела? Ёжик в тумане.',
  '你好，世界。我们今天学习机器学习和自然语言处理。',
  'こんにちは世界、カタカナとひらがなと漢字。',
  '안녕하세요 세계',
  'مرحبا بالعالم، كيف حالك؟',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'สวัสดีชาวโลก',
  'Ελληνικά: καλημέρα κόσμε',
  '👩‍👩‍👧 family 🇳🇴 flag, 👍🏽 thumbs, 🎉🎉🎉',
  'e\u0301 combining acute, Zalgo: Z\u0351\u0352a\u0353l\u0354g\u0355o',
  '<|endoftext|> <|im_start|>user<|im_sep|> <|endofprompt|><|fim_prefix|><|fim_middle|><|fim_suffix|>',
  'byte order mark inside: a\uFEFFb, no-break space: c\u00A0d, line separator: e\u2028f, ideographic space: g\u3000h',
  'next line (U+0085, white space to Rust, not to JavaScript\'s \\s): a\u0085  \u0085b',
  'tabs\tand\r\nwindows\r\nnewlines\n\n\n   trailing spaces   ',
  'export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
  'def f(x):\n    return [y ** 2 for y in range(x) if y % 3 == 0]\n',
  'SELECT id, COUNT(*) FROM orders WHERE created_at > \'2024-01-01\' GROUP BY 1;',
  '{"city": "Oslo", "unit": "celsius", "days": [1, 2, 3]}',
  'https://example.com/path?q=1&r=%20x#frag',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '                                                                ',
  '',
];

/** A seeded mix of code points from many scripts and classes (letters, marks, digits, symbols, spaces, emoji). */
function randomText(seed: number, length: number): string {
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff],
    [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x2000, 0x206f], [0x3000, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xad00],
    [0xfeff, 0xfeff], [0x1f300, 0x1f64f], [0x1f1e6, 0x1f1ff], [0x27, 0x27],
  ];
  let text = '';
  for (let i = 0; i < length; i++) {
    const [low, high] = ranges[next(ranges.length)]!;
    text += String.fromCodePoint(low + next(high - low + 1));
  }
  return text;
}

describe('token counting (o200k_base)', () => {
  it('matches tiktoken on varied scripts, emoji, code, whitespace and special-token text', () => {
    for (const text of VARIED_TEXT) assert.equal(counter.count(text), referenceCount(text), JSON.stringify(text));
  });

  it('matches tiktoken on random mixed-script strings', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      assert.equal(counter.count(text), referenceCount(text), JSON.stringify(text));
    }
  });

  it('gives the same counts from the cache of repeated texts as on first sight', () => {
    const fresh = createTokenCounter('o200k_base');
    const first = VARIED_TEXT.map((t) => fresh.count(t));
    assert.deepEqual(VARIED_TEXT.map((t) => fresh.count(t)), first);
    assert.deepEqual(VARIED_TEXT.map((t) => fresh.countRepeated(t)), first);
  });

  it('matches tiktoken on long pieces (text without spaces, merged with a heap rather than a scan)', () => {
    const texts = [
      '我们今天学习机器学习和自然语言处理，明天继续讨论大型语言模型的训练方法与评估指标以及它们在工业界的应用前景。'.repeat(3),
      'これに関するものであるかどうかについてはまだわからないのですが、確認いたします。'.repeat(4),
      'สวัสดีครับวันนี้อากาศดีมากเราจะไปเที่ยวทะเลกันไหม'.repeat(5),
      'नमस्तेदुनियाआपकैसेहैं'.repeat(6),
      ...Array.from({ length: 60 }, (_, i) => randomText(1000 + i, 40 + i * 15).replace(/[\s\p{P}\p{N}]/gu, '')),
      'a'.repeat(999),
      'ab'.repeat(400),
    ];
    for (const text of texts) assert.equal(counter.count(text), referenceCount(text), JSON.stringify(text.slice(0, 40)));
  });

  it('stays exact with a piece cache that is always full, and the cache never holds more than its limit', () => {
    const pieces = new PieceCache(8, 64);
    const tiny = createTokenCounter('o200k_base', pieces);
    for (let seed = 1; seed <= 200; seed++) {
      const text = randomText(seed, 1 + (seed % 97));
      assert.equal(tiny.count(text), referenceCount(text), JSON.stringify(text));
      assert.ok(pieces.size <= 8, `${pieces.size} entries`);
    }
    for (const text of VARIED_TEXT) assert.equal(tiny.count(text), referenceCount(text), JSON.stringify(text));
    assert.ok(pieces.resets > 10, `the cache started empty again ${pieces.resets} times`);
  });

  it('counts special-token text as plain text, as hard-coded from tiktoken', () => {
    assert.equal(counter.count('hello world'), 2);
    assert.equal(counter.count('<|endoftext|>'), 7);
    assert.equal(counter.count('Привет, мир!'), 5);
    assert.equal(counter.count('你好，世界'), 3);
    assert.equal(counter.count('👩‍👩‍👧 family 🇳🇴'), 13);
    // JavaScript's \s matches U+FEFF but Rust's does not: tiktoken's pattern used as is in JavaScript counts 4 here,
    // and gpt-tokenizer counts 7 for the second string.
    assert.equal(counter.count('a \uFEFFb'), 3);
    assert.equal(counter.count('a\uFEFFb \u00A0c'), 6);
  });
});

describe('example token formula', () => {
  const options = (): ExampleOptions => ({ method: 'supervised', model: 'gpt-4.1-mini', allowImages: false, tokens: counter });

  it('adds the chat framing per message, per name and per example', () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Name the capital of Norway.', name: 'kari' },
      { role: 'assistant', content: 'Oslo.', weight: 0 },
      { role: 'user', content: 'Und auf Deutsch?' },
      { role: 'assistant', content: 'Oslo, die Hauptstadt Norwegens.' },
    ];
    const result = checkExample({ messages }, options());
    assert.deepEqual(result.issues, []);
    const expected = messages.reduce(
      (sum, m) => sum + TOKENS_PER_MESSAGE + referenceCount(m.role) + referenceCount(m.content) + (m.name ? referenceCount(m.name) + TOKENS_PER_NAME : 0),
      REPLY_PRIMING_TOKENS,
    );
    assert.equal(result.tokens, expected);
    assert.equal(result.trainableTokens, referenceCount('Oslo, die Hauptstadt Norwegens.'));
  });

  it('counts tool definitions and tool calls as their compact JSON', () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const calls = [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }];
    const example = {
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', tool_calls: calls },
        { role: 'tool', tool_call_id: 'call_1', content: '3°' },
        { role: 'assistant', content: 'It is 3°.' },
      ],
    };
    const result = checkExample(example, options());
    assert.deepEqual(result.issues, []);
    const frame = (role: string): number => TOKENS_PER_MESSAGE + referenceCount(role);
    const expected = referenceCount(JSON.stringify(tools)) + REPLY_PRIMING_TOKENS
      + frame('user') + referenceCount('Weather?')
      + frame('assistant') + referenceCount(JSON.stringify(calls))
      + frame('tool') + referenceCount('call_1') + referenceCount('3°')
      + frame('assistant') + referenceCount('It is 3°.');
    assert.equal(result.tokens, expected);
    assert.equal(result.trainableTokens, referenceCount(JSON.stringify(calls)) + referenceCount('It is 3°.'));
  });

  it('trains DPO on each output with the input: context is the longer pair, billing counts both', () => {
    const example = {
      input: { messages: [{ role: 'user', content: 'Greet me.' }] },
      preferred_output: [{ role: 'assistant', content: 'Hello there, friend!' }],
      non_preferred_output: [{ role: 'assistant', content: 'No.' }],
    };
    const result = checkExample(example, { ...options(), method: 'dpo' });
    assert.deepEqual(result.issues, []);
    const input = TOKENS_PER_MESSAGE + referenceCount('user') + referenceCount('Greet me.') + REPLY_PRIMING_TOKENS;
    const preferred = TOKENS_PER_MESSAGE + referenceCount('assistant') + referenceCount('Hello there, friend!');
    const rejected = TOKENS_PER_MESSAGE + referenceCount('assistant') + referenceCount('No.');
    assert.equal(result.tokens, input + preferred + rejected);
    assert.equal(result.contextTokens, input + preferred);
  });
});
