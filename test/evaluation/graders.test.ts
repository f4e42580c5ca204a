import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalItem } from '../../src/evaluation/eval-set';
import { parseEvalSet } from '../../src/evaluation/eval-set';
import { GradersSchema, type GraderInput } from '../../src/evaluation/graders';
import { buildGraders, checkGraders, parseJudgeScore, type Judge } from '../../src/evaluation/scoring';
import { runEval, withBackoff, type EvalProgress } from '../../src/evaluation/runner';

const noJudge: Judge = () => Promise.reject(new Error('no judge in this test'));

async function scoreOne(grader: GraderInput, answer: string, reference = 'Paris', judge: Judge = noJudge): Promise<number> {
  const [g] = buildGraders(GradersSchema.parse([grader]), judge);
  return g!.score({ messages: [{ role: 'user', content: 'Capital of France?' }], reference, answer });
}

describe('graders', () => {
  it('defaults to exact match', () => {
    assert.deepEqual(GradersSchema.parse(undefined), [{ type: 'exact_match', caseSensitive: true, trim: true }]);
  });

  it('exact_match compares trimmed text, case-sensitively unless told otherwise', async () => {
    assert.equal(await scoreOne({ type: 'exact_match' }, '  Paris\n'), 1);
    assert.equal(await scoreOne({ type: 'exact_match' }, 'paris'), 0);
    assert.equal(await scoreOne({ type: 'exact_match', caseSensitive: false }, 'PARIS'), 1);
    assert.equal(await scoreOne({ type: 'exact_match', trim: false }, 'Paris '), 0);
    assert.equal(await scoreOne({ type: 'exact_match' }, 'Paris, France'), 0);
  });

  it('contains looks for the reference inside the answer, ignoring case by default', async () => {
    assert.equal(await scoreOne({ type: 'contains' }, 'It is PARIS, of course.'), 1);
    assert.equal(await scoreOne({ type: 'contains' }, 'It is Lyon.'), 0);
    assert.equal(await scoreOne({ type: 'contains', caseSensitive: true }, 'It is PARIS.'), 0);
  });

  it('regex matches the answer against the pattern, and refuses an invalid pattern at parse time', async () => {
    assert.equal(await scoreOne({ type: 'regex', pattern: '^order #\\d{4}$', flags: 'i' }, 'Order #1234'), 1);
    assert.equal(await scoreOne({ type: 'regex', pattern: '^order #\\d{4}$' }, 'order #12'), 0);
    const bad = GradersSchema.safeParse([{ type: 'regex', pattern: '(' }]);
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /not a valid regular expression/);
  });

  it('json_schema needs JSON that matches the schema (a Markdown code fence is allowed)', async () => {
    const grader: GraderInput = { type: 'json_schema', schema: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, population: { type: 'integer' } }, additionalProperties: false } };
    assert.equal(await scoreOne(grader, '{"city":"Paris","population":2100000}'), 1);
    assert.equal(await scoreOne(grader, '```json\n{"city":"Paris"}\n```'), 1);
    assert.equal(await scoreOne(grader, '{"city":"Paris","population":"many"}'), 0);
    assert.equal(await scoreOne(grader, '{"town":"Paris"}'), 0);
    assert.equal(await scoreOne(grader, 'Paris'), 0);
    const bad = GradersSchema.parse([{ type: 'exact_match' }, { type: 'json_schema', schema: { type: 'no-such-type' } }]);
    assert.deepEqual(checkGraders(bad).length, 1);
    assert.match(checkGraders(bad)[0]!, /^graders\.1\.schema: not a valid JSON Schema: /);
    assert.deepEqual(checkGraders(GradersSchema.parse([grader])), []);
  });

  it('model asks the judge with the rubric, question, reference and answer, and reads its SCORE', async () => {
    const asked: string[] = [];
    const judge: Judge = async (grader, messages) => {
      asked.push(`${grader.deployment}|${messages.map((m) => m.content).join('|')}`);
      return messages[1]!.content.includes('Answer to grade:\nParis') ? 'Correct and concise.\nSCORE: 10' : 'Wrong city. SCORE: 2';
    };
    const grader: GraderInput = { type: 'model', deployment: 'judge-gpt', rubric: 'Is it the right city?' };
    assert.equal(await scoreOne(grader, 'Paris', 'Paris', judge), 1);
    assert.equal(await scoreOne(grader, 'Lyon', 'Paris', judge), 0.2);
    assert.match(asked[0]!, /^judge-gpt\|.*Is it the right city\?.*SCORE: n.*\|Question:\nCapital of France\?\n\nReference answer:\nParis\n\nAnswer to grade:\nParis$/s);
    await assert.rejects(scoreOne(grader, 'Paris', 'Paris', async () => 'I cannot grade this.'), /gave no "SCORE: n"/);
  });

  it('reads judge scores in their usual shapes', () => {
    assert.equal(parseJudgeScore('SCORE: 7'), 0.7);
    assert.equal(parseJudgeScore('score = 3/5'), 0.6);
    assert.equal(parseJudgeScore('First I thought Score: 2, but on reflection\nSCORE: 9'), 0.9);
    assert.equal(parseJudgeScore(' 8 '), 0.8);
    assert.equal(parseJudgeScore('SCORE: 11'), null);
    assert.equal(parseJudgeScore('no idea'), null);
  });

  it('names graders by name or type, numbering repeated types', () => {
    const graders = buildGraders(GradersSchema.parse([{ type: 'contains' }, { type: 'contains', caseSensitive: true }, { type: 'exact_match', name: 'strict' }]), noJudge);
    assert.deepEqual(graders.map((g) => g.name), ['contains', 'contains#2', 'strict']);
  });
});

describe('eval sets', () => {
  it('reads items with a reference, or takes the last assistant message as the reference', () => {
    const items = parseEvalSet(
      '\uFEFF{"messages":[{"role":"user","content":"a?"}],"reference":"A"}\n\n{"messages":[{"role":"system","content":"s"},{"role":"user","content":"b?"},{"role":"assistant","content":"B"}]}\n',
      'eval.jsonl',
    );
    assert.deepEqual(items, [
      { messages: [{ role: 'user', content: 'a?' }], reference: 'A' },
      { messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'b?' }], reference: 'B' },
    ]);
  });

  it('reports every bad line by number', () => {
    const text = ['{"messages":[{"role":"user","content":"ok"}],"reference":"x"}', 'not json', '{"messages":[]}', '{"messages":[{"role":"user","content":"q"}]}', '{"messages":[{"role":"robot","content":"q"}],"reference":"x"}', '[1]'].join('\n');
    assert.throws(() => parseEvalSet(text, 'eval.jsonl'), (err: Error) => {
      assert.match(err.message, /^eval set eval\.jsonl: line 2: not valid JSON; line 3: "messages" must be a non-empty array; line 4: "reference" must be a string.*; line 5: messages\[0\]\.role must be system, user or assistant; line 6: not a JSON object$/);
      return true;
    });
    assert.throws(() => parseEvalSet('\n\n', 'empty.jsonl'), /empty\.jsonl: no items/);
  });
});

describe('eval runner', () => {
  const items: EvalItem[] = Array.from({ length: 40 }, (_, i) => ({ messages: [{ role: 'user', content: `q${i}` }], reference: `a${i}` }));

  it('keeps at most `concurrency` calls in flight, scores every item with every grader and reports progress', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const progress: number[] = [];
    const result = await runEval({
      items,
      graders: buildGraders(GradersSchema.parse([{ type: 'exact_match' }, { type: 'contains' }]), noJudge),
      concurrency: 3,
      complete: async (messages) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        const n = Number(messages[0]!.content.slice(1));
        // Every 4th answer exact, every 2nd at least contains the reference.
        return n % 4 === 0 ? `a${n}` : n % 2 === 0 ? `it is a${n}` : 'no';
      },
      onProgress: (p) => progress.push(p.done),
    });
    assert.equal(maxInFlight, 3);
    assert.deepEqual(result.perGrader, { exact_match: 0.25, contains: 0.5 });
    assert.equal(result.score, 0.375);
    assert.equal(result.items, 40);
    assert.deepEqual(progress, Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('resumes after the scored prefix an earlier attempt heartbeated, asking only for the rest', async () => {
    const graders = buildGraders(GradersSchema.parse([{ type: 'exact_match' }, { type: 'contains' }]), noJudge);
    const answer = async (messages: EvalItem['messages']): Promise<string> => {
      const n = Number(messages[0]!.content.slice(1));
      return n % 3 === 0 ? `a${n}` : n % 2 === 0 ? `about a${n}` : 'no';
    };
    const heartbeats: EvalProgress[] = [];
    const full = await runEval({ items, graders, concurrency: 4, complete: answer, onProgress: (p) => heartbeats.push(p) });
    assert.equal(heartbeats[heartbeats.length - 1]!.prefix, 40);
    const midway = heartbeats.find((p) => p.prefix >= 15)!;
    assert.doesNotMatch(JSON.stringify(heartbeats), /"a\d|q\d/, 'no item text in the heartbeats');

    const asked: string[] = [];
    const resumed = await runEval({
      items, graders, concurrency: 4, resumeFrom: JSON.parse(JSON.stringify(midway)),
      complete: async (messages) => {
        asked.push(messages[0]!.content);
        return answer(messages);
      },
    });
    assert.equal(resumed.resumed, midway.prefix);
    assert.equal(asked.length, 40 - midway.prefix);
    assert.ok(!asked.includes('q0'));
    assert.deepEqual({ ...resumed, resumed: 0 }, { ...full, resumed: 0 });

    // Progress from another set or other graders is ignored.
    for (const other of [{ ...midway, total: 41 }, { ...midway, prefixSums: { ...midway.prefixSums, perGrader: { exact_match: 1 } } }, 'junk', null]) {
      assert.equal((await runEval({ items, graders, concurrency: 4, complete: answer, resumeFrom: other })).resumed, 0);
    }
  });

  it('counts an unscorable judge answer as 0, and fails when the judge never gives a score', async () => {
    const graders = (judge: Judge) => buildGraders(GradersSchema.parse([{ type: 'model', deployment: 'j', rubric: 'r' }]), judge);
    let calls = 0;
    const some = await runEval({ items, graders: graders(async () => (calls++ % 2 === 0 ? 'SCORE: 10' : 'hmm')), concurrency: 1, complete: async () => 'x' });
    assert.equal(some.perGrader.model, 0.5);
    assert.equal(some.unscoredByJudge, 20);
    await assert.rejects(runEval({ items, graders: graders(async () => 'hmm'), concurrency: 2, complete: async () => 'x' }), /no judge answer held a score \(40 asked\)/);
  });

  it('stops taking items once one fails', async () => {
    let asked = 0;
    await assert.rejects(
      runEval({
        items, graders: buildGraders(GradersSchema.parse(undefined), noJudge), concurrency: 4,
        complete: async (messages) => {
          asked++;
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (messages[0]!.content === 'q5') throw new Error('HTTP 400');
          return 'x';
        },
      }),
      /HTTP 400/,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(asked <= 10, `${asked} items asked`);
  });

  it('backs off on retryable errors, waiting at least the Retry-After, and gives up after the attempts', async () => {
    let attempts = 0;
    const started = Date.now();
    const value = await withBackoff(
      async () => {
        if (++attempts < 3) throw new Error('429');
        return 'ok';
      },
      () => ({ retry: true, afterMs: 30 }),
      { attempts: 5, initialMs: 1, maxMs: 1000 },
    );
    assert.equal(value, 'ok');
    assert.equal(attempts, 3);
    assert.ok(Date.now() - started >= 60, 'waited the Retry-After twice');

    attempts = 0;
    await assert.rejects(withBackoff(async () => { attempts++; throw new Error('still 429'); }, () => ({ retry: true }), { attempts: 4, initialMs: 1, maxMs: 5 }), /still 429/);
    assert.equal(attempts, 4);
    attempts = 0;
    await assert.rejects(withBackoff(async () => { attempts++; throw new Error('400'); }, () => ({ retry: false }), { attempts: 4, initialMs: 1, maxMs: 5 }), /400/);
    assert.equal(attempts, 1);
  });
});
