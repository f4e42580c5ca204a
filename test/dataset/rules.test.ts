/**
 * The fixture corpus: one small file per rule (and some combinations); each case asserts every error and warning
 * reported, by line, key path and code. Files hold a BOM unless the case is about the BOM.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILTIN_CATALOG, extendCatalog, type FineTuningMethod } from '../../src/catalog';
import { validateDataset, type Issue, type ValidationReport } from '../../src/dataset';
import { describeJsonError } from '../../src/dataset/lines';

const fixture = (name: string): string => join(__dirname, 'fixtures', name);

type Found = [line: number | null, path: string | null, code: string];

const found = (issues: Issue[]): Found[] => issues.map((i) => [i.line, i.path, i.code]);

/** Fewer than 100 examples: every small fixture also gets this warning, about the whole file. */
const FEW: Found = [null, null, 'FEW_EXAMPLES'];

interface Case {
  file: string;
  errors: Found[];
  warnings?: Found[];
  model?: string;
  method?: FineTuningMethod;
  validation?: string;
}

async function check(c: Case): Promise<ValidationReport> {
  const options = { trainingFile: fixture(c.file), validationFile: c.validation && fixture(c.validation), model: c.model ?? 'gpt-4.1-mini', method: c.method };
  // Small files are checked on the calling thread; the worker threads must report exactly the same.
  const report = await validateDataset(options);
  assert.deepEqual(await validateDataset({ ...options, inlineMaxBytes: 0 }), report, 'the same report from the worker threads');
  assert.deepEqual(found(report.errors), c.errors, 'errors');
  assert.deepEqual(found(report.warnings), c.warnings ?? [FEW], 'warnings');
  assert.equal(report.valid, c.errors.length === 0);
  assert.equal(report.errorCount, c.errors.length);
  return report;
}

const supervised: Case[] = [
  { file: 'supervised/valid-chat.jsonl', errors: [], warnings: [] },
  { file: 'supervised/valid-tools.jsonl', errors: [] },
  { file: 'supervised/valid-vision.jsonl', model: 'gpt-4.1', errors: [] },
  { file: 'supervised/crlf-no-final-newline.jsonl', errors: [] },
  { file: 'supervised/bom-missing.jsonl', errors: [], warnings: [[null, null, 'BOM_MISSING'], FEW] },
  { file: 'supervised/invalid-utf8.jsonl', errors: [[3, null, 'INVALID_UTF8']] },
  {
    file: 'supervised/utf16.jsonl', warnings: [FEW],
    // Line 1 starts with the UTF-16 mark (FF FE); the NUL after the last newline makes a 13th line.
    errors: [[1, null, 'INVALID_UTF8'], ...Array.from({ length: 12 }, (_, i): Found => [i + 2, null, 'INVALID_JSON']), [null, null, 'INVALID_UTF8']],
  },
  { file: 'supervised/blank-line.jsonl', errors: [[5, null, 'BLANK_LINE']] },
  { file: 'supervised/invalid-json.jsonl', errors: [[2, null, 'INVALID_JSON']] },
  { file: 'supervised/not-an-object.jsonl', errors: [[2, null, 'NOT_AN_OBJECT']] },
  { file: 'supervised/unknown-top-level-key.jsonl', errors: [[3, 'metadata', 'UNKNOWN_KEY']] },
  { file: 'supervised/free-text-keys.jsonl', errors: [[2, '<key 2>', 'UNKNOWN_KEY'], [2, 'messages[0].<key 3>', 'UNKNOWN_KEY']] },
  { file: 'supervised/missing-messages.jsonl', errors: [[4, 'prompt', 'UNKNOWN_KEY'], [4, 'completion', 'UNKNOWN_KEY'], [4, 'messages', 'MISSING_KEY']] },
  { file: 'supervised/messages-not-array.jsonl', errors: [[4, 'messages', 'WRONG_TYPE']] },
  { file: 'supervised/empty-messages.jsonl', errors: [[6, 'messages', 'EMPTY_MESSAGES']] },
  { file: 'supervised/invalid-role.jsonl', errors: [[7, 'messages[1].role', 'INVALID_ROLE']] },
  { file: 'supervised/missing-role.jsonl', errors: [[7, 'messages[0].role', 'MISSING_KEY']] },
  { file: 'supervised/unknown-message-key.jsonl', errors: [[8, 'messages[2].score', 'UNKNOWN_KEY']] },
  { file: 'supervised/weight-on-user.jsonl', errors: [[9, 'messages[1].weight', 'KEY_NOT_ALLOWED_FOR_ROLE']] },
  { file: 'supervised/invalid-weight.jsonl', errors: [[10, 'messages[2].weight', 'INVALID_WEIGHT']] },
  { file: 'supervised/no-trainable-assistant.jsonl', errors: [[11, 'messages', 'NO_TRAINABLE_ASSISTANT'], [12, 'messages', 'NO_TRAINABLE_ASSISTANT']] },
  { file: 'supervised/content-wrong-type.jsonl', errors: [[2, 'messages[1].content', 'WRONG_TYPE']] },
  { file: 'supervised/content-missing.jsonl', errors: [[2, 'messages[1].content', 'MISSING_KEY']] },
  { file: 'supervised/empty-content.jsonl', errors: [], warnings: [[2, 'messages[1].content', 'EMPTY_CONTENT'], FEW] },
  { file: 'supervised/image-text-only-model.jsonl', errors: [[3, 'messages[0].content[1].type', 'IMAGE_NOT_SUPPORTED']] },
  { file: 'supervised/image-in-assistant.jsonl', model: 'gpt-4.1', errors: [[3, 'messages[1].content[0].type', 'IMAGE_NOT_SUPPORTED']] },
  { file: 'supervised/unknown-content-part.jsonl', errors: [[3, 'messages[0].content[0].type', 'INVALID_CONTENT_PART']] },
  { file: 'supervised/unknown-tool-call-id.jsonl', errors: [[4, 'messages[2].tool_call_id', 'UNKNOWN_TOOL_CALL_ID'], [4, 'messages[1].tool_calls[0].id', 'MISSING_TOOL_RESPONSE']] },
  { file: 'supervised/tool-call-id-missing.jsonl', errors: [[4, 'messages[2].tool_call_id', 'MISSING_KEY'], [4, 'messages[1].tool_calls[0].id', 'MISSING_TOOL_RESPONSE']] },
  { file: 'supervised/missing-tool-response.jsonl', errors: [[5, 'messages[1].tool_calls[0].id', 'MISSING_TOOL_RESPONSE']] },
  { file: 'supervised/duplicate-tool-call-id.jsonl', errors: [[5, 'messages[1].tool_calls[1].id', 'DUPLICATE_TOOL_CALL_ID']] },
  { file: 'supervised/malformed-tool-call.jsonl', errors: [[6, 'messages[1].tool_calls[0].function.name', 'MISSING_KEY']] },
  { file: 'supervised/malformed-tools.jsonl', errors: [[6, 'tools[0].type', 'MISSING_KEY']] },
  { file: 'supervised/function-without-name.jsonl', errors: [[5, 'messages[2].name', 'MISSING_KEY']] },
  { file: 'supervised/tool-key-on-user.jsonl', errors: [[6, 'messages[0].tool_call_id', 'KEY_NOT_ALLOWED_FOR_ROLE']] },
  {
    file: 'supervised/tool-warnings.jsonl', errors: [],
    warnings: [[7, 'messages[1].tool_calls[0].function.name', 'TOOL_NOT_DECLARED'], [7, 'messages[1].tool_calls[0].function.arguments', 'INVALID_TOOL_ARGUMENTS'], FEW],
  },
  {
    file: 'supervised/combination.jsonl',
    errors: [[2, null, 'INVALID_JSON'], [5, 'messages[0].weight', 'KEY_NOT_ALLOWED_FOR_ROLE'], [5, 'messages[1].extra', 'UNKNOWN_KEY'], [5, 'messages[1].content', 'WRONG_TYPE'], [9, null, 'BLANK_LINE']],
  },
  { file: 'supervised/duplicates.jsonl', errors: [], warnings: [[7, null, 'DUPLICATE_EXAMPLE'], FEW] },
  { file: 'supervised/too-few-examples.jsonl', errors: [[null, null, 'TOO_FEW_EXAMPLES']], warnings: [] },
  { file: 'supervised/few-examples.jsonl', errors: [] },
  { file: 'supervised/empty-file.jsonl', errors: [[null, null, 'EMPTY_FILE']], warnings: [] },
];

const dpo: Case[] = ([
  { file: 'dpo/valid.jsonl', errors: [] },
  { file: 'dpo/missing-preferred.jsonl', errors: [[2, 'preferred_output', 'MISSING_KEY']] },
  { file: 'dpo/wrong-output-role.jsonl', errors: [[3, 'non_preferred_output[0].role', 'INVALID_ROLE']] },
  { file: 'dpo/weight-not-allowed.jsonl', errors: [[4, 'preferred_output[0].weight', 'UNKNOWN_KEY']] },
  { file: 'dpo/input-not-object.jsonl', errors: [[5, 'input', 'WRONG_TYPE']] },
  { file: 'dpo/supervised-line.jsonl', errors: [[6, 'messages', 'UNKNOWN_KEY'], [6, 'input', 'MISSING_KEY'], [6, 'preferred_output', 'MISSING_KEY'], [6, 'non_preferred_output', 'MISSING_KEY']] },
] satisfies Case[]).map((c): Case => ({ ...c, method: 'dpo' }));

const reinforcement: Case[] = ([
  { file: 'reinforcement/train.jsonl', validation: 'reinforcement/valid.jsonl', errors: [] },
  { file: 'reinforcement/train.jsonl', errors: [[null, null, 'VALIDATION_FILE_REQUIRED']] },
  { file: 'reinforcement/last-not-user.jsonl', validation: 'reinforcement/valid.jsonl', errors: [[3, 'messages[1]', 'LAST_MESSAGE_NOT_USER']] },
  {
    file: 'reinforcement/weight-not-allowed.jsonl', validation: 'reinforcement/valid.jsonl',
    errors: [[4, 'messages[0].weight', 'UNKNOWN_KEY']],
  },
] satisfies Case[]).map((c): Case => ({ ...c, method: 'reinforcement', model: 'o4-mini' }));

describe('dataset rules: supervised', () => {
  for (const c of supervised) it(c.file, async () => {
    await check(c);
  });
});

describe('dataset rules: DPO', () => {
  for (const c of dpo) it(c.file, async () => {
    await check(c);
  });
});

describe('dataset rules: reinforcement', () => {
  for (const c of reinforcement) it(`${c.file}${c.validation ? ` + ${c.validation}` : ''}`, async () => {
    await check(c);
  });
});

describe('dataset rules: across files and limits', () => {
  it('warns about examples in both training and validation files, naming the training line', async () => {
    const report = await check({
      file: 'supervised/few-examples.jsonl', validation: 'supervised/validation-overlap.jsonl', errors: [],
      warnings: [FEW, [1, null, 'IN_TRAINING_AND_VALIDATION']],
    });
    assert.match(report.warnings[1]!.message, /line 3 of the training file/);
    assert.equal(report.warnings[1]!.file, fixture('supervised/validation-overlap.jsonl'));
  });

  it('rejects an empty validation file', async () => {
    const report = await check({ file: 'supervised/few-examples.jsonl', validation: 'supervised/empty-validation.jsonl', errors: [[null, null, 'EMPTY_FILE']] });
    assert.equal(report.errors[0]!.file, fixture('supervised/empty-validation.jsonl'));
  });

  it('names the first occurrence of a duplicate', async () => {
    const report = await check({ file: 'supervised/duplicates.jsonl', errors: [], warnings: [[7, null, 'DUPLICATE_EXAMPLE'], FEW] });
    assert.match(report.warnings[0]!.message, /same example as line 2/);
    assert.equal(report.files[0]!.duplicateExamples, 1);
  });

  it('rejects an example over the model\'s training context, with its line and token count', async () => {
    const catalog = extendCatalog(BUILTIN_CATALOG, { models: [{ id: 'gpt-4.1-mini', trainingContextTokens: 100 }] }, 'test');
    const report = await validateDataset({ trainingFile: fixture('supervised/too-long.jsonl'), model: 'gpt-4.1-mini', catalog });
    assert.deepEqual(found(report.errors), [[3, null, 'EXAMPLE_TOO_LONG']]);
    const tokens = report.files[0]!.tokens.max!;
    assert.ok(tokens > 100);
    assert.equal(report.errors[0]!.message, `example has ${tokens} tokens; gpt-4.1-mini trains on at most 100 per example`);
  });

  it('keeps the first maxIssues of each kind and counts the rest', async () => {
    const report = await validateDataset({ trainingFile: fixture('supervised/combination.jsonl'), model: 'gpt-4.1-mini', maxIssues: 2 });
    assert.equal(report.errorCount, 5);
    assert.deepEqual(found(report.errors), [[2, null, 'INVALID_JSON'], [5, 'messages[0].weight', 'KEY_NOT_ALLOWED_FOR_ROLE']]);
    assert.equal(report.files[0]!.errorCount, 5);
  });

  it('gives the byte of an invalid UTF-8 sequence within its line', async () => {
    const report = await check({ file: 'supervised/invalid-utf8.jsonl', errors: [[3, null, 'INVALID_UTF8']] });
    assert.equal(report.errors[0]!.message, 'invalid UTF-8 byte sequence at byte 109 of the line; save the file as UTF-8');
  });

  it('never puts training content in messages', async () => {
    const report = await check({
      file: 'supervised/invalid-role.jsonl', errors: [[7, 'messages[1].role', 'INVALID_ROLE']],
    });
    assert.equal(report.errors[0]!.message, "this role is not allowed here; expected one of system, developer, user, assistant, tool, function");
    const invalidJson = await check({ file: 'supervised/invalid-json.jsonl', errors: [[2, null, 'INVALID_JSON']] });
    assert.doesNotMatch(invalidJson.errors[0]!.message, /messages/);
    const keys = await check({ file: 'supervised/free-text-keys.jsonl', errors: [[2, '<key 2>', 'UNKNOWN_KEY'], [2, 'messages[0].<key 3>', 'UNKNOWN_KEY']] });
    assert.doesNotMatch(JSON.stringify(keys), /secret|private/);
    // Unquoted text, unterminated string, trailing text, single quotes, a raw control character, an open array.
    const malformed = ['{"secret": tokenXYZ}', '{"secret": "tokenXYZ"', '{"secret": "tokenXYZ"} tokenXYZ', "{'secret': 'tokenXYZ'}", '{"secret": "tokenXYZ\u0001"}', '[tokenXYZ'];
    for (const line of malformed) {
      let message = '';
      try {
        JSON.parse(line);
      } catch (error) {
        message = describeJsonError(error);
      }
      assert.ok(message.length > 0, line);
      assert.doesNotMatch(message, /tokenXYZ|secret/, message);
    }
  });
});
