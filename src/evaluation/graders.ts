/**
 * Graders: how an eval item's answer is scored against its reference, each a score in [0, 1]. The config schema is
 * part of the pipeline input; the scoring functions are pure, except the model grader, which asks a judge through
 * the function it is given.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { z } from 'zod';

const ajv = new Ajv({ allErrors: false, strict: false });

const nameField = z.string().min(1).max(64).optional().describe('label in the score table; defaults to the type (numbered when repeated)');

export const ExactMatchGraderSchema = z
  .object({
    type: z.literal('exact_match'),
    name: nameField,
    caseSensitive: z.boolean().default(true),
    /** Trim surrounding whitespace on both sides before comparing. */
    trim: z.boolean().default(true),
  })
  .strict();

export const ContainsGraderSchema = z
  .object({ type: z.literal('contains'), name: nameField, caseSensitive: z.boolean().default(false) })
  .strict()
  .describe('the answer contains the reference');

export const RegexGraderSchema = z
  .object({
    type: z.literal('regex'),
    name: nameField,
    pattern: z.string().min(1),
    flags: z.string().regex(/^[imsu]*$/, 'flags may be i, m, s, u').default(''),
  })
  .strict()
  .superRefine((g, ctx) => {
    try {
      new RegExp(g.pattern, g.flags);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(err as Error).message}` });
    }
  })
  .describe('the answer matches the pattern');

export const JsonSchemaGraderSchema = z
  .object({ type: z.literal('json_schema'), name: nameField, schema: z.record(z.string(), z.unknown()) })
  .strict()
  .superRefine((g, ctx) => {
    try {
      ajv.compile(g.schema);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['schema'], message: `not a valid JSON Schema: ${(err as Error).message}` });
    }
  })
  .describe('the answer parses as JSON and matches the schema');

export const ModelGraderSchema = z
  .object({
    type: z.literal('model'),
    name: nameField,
    /** The judge's deployment name. */
    deployment: z.string().min(1),
    /** The judge's Azure profile; the evaluated deployment's when omitted. */
    profile: z.string().min(1).optional(),
    rubric: z.string().min(1),
  })
  .strict()
  .describe('a judge deployment scores the answer 0-10 by the rubric');

export const GraderSchema = z.discriminatedUnion('type', [ExactMatchGraderSchema, ContainsGraderSchema, RegexGraderSchema, JsonSchemaGraderSchema, ModelGraderSchema]);

/** For the pipeline input: the graders of an eval set. Default: exact match with the reference. */
export const GradersSchema = z.array(GraderSchema).min(1).default([{ type: 'exact_match', caseSensitive: true, trim: true }]);

export type GraderConfig = z.infer<typeof GraderSchema>;
export type GraderInput = z.input<typeof GraderSchema>;
export type ModelGraderConfig = z.infer<typeof ModelGraderSchema>;

/** The labels of the score table: each grader's name, or its type, numbered when a type repeats without names. */
export function graderNames(graders: GraderConfig[]): string[] {
  const seen = new Map<string, number>();
  return graders.map((g) => {
    const base = g.name ?? g.type;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}#${count}`;
  });
}

export interface GradedItem {
  messages: { role: string; content: string }[];
  reference: string;
  answer: string;
}

/** Asks the judge; returns its answer text. */
export type Judge = (grader: ModelGraderConfig, messages: { role: 'system' | 'user'; content: string }[]) => Promise<string>;

export class JudgeAnswerError extends Error {}

const fold = (text: string, caseSensitive: boolean): string => (caseSensitive ? text : text.toLowerCase());

/** The judge is told to end with `SCORE: n` (0-10); the last such mark counts, else a lone number. */
export function parseJudgeScore(answer: string): number | null {
  const marks = [...answer.matchAll(/score\s*[:=]\s*(\d+(?:\.\d+)?)(?:\s*\/\s*(\d+(?:\.\d+)?))?/gi)];
  const mark = marks[marks.length - 1];
  const lone = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(answer);
  const found = mark ?? lone;
  if (!found) return null;
  const value = Number(found[1]);
  const outOf = found[2] ? Number(found[2]) : 10;
  if (!(outOf > 0) || value < 0 || value > outOf) return null;
  return value / outOf;
}

export function judgeMessages(grader: ModelGraderConfig, item: GradedItem): { role: 'system' | 'user'; content: string }[] {
  const question = [...item.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return [
    {
      role: 'system',
      content: `You grade answers to questions. Rubric:\n${grader.rubric}\nEnd your reply with a line "SCORE: n" where n is an integer from 0 (worst) to 10 (best).`,
    },
    { role: 'user', content: `Question:\n${question}\n\nReference answer:\n${item.reference}\n\nAnswer to grade:\n${item.answer}` },
  ];
}

/** A grader ready to score: its config with compiled parts. */
export interface Grader {
  name: string;
  config: GraderConfig;
  score(item: GradedItem): Promise<number>;
}

export function buildGraders(configs: GraderConfig[], judge: Judge): Grader[] {
  const names = graderNames(configs);
  return configs.map((config, i) => ({ name: names[i]!, config, score: scorer(config, judge) }));
}

function scorer(config: GraderConfig, judge: Judge): (item: GradedItem) => Promise<number> {
  switch (config.type) {
    case 'exact_match': {
      const prepare = (text: string): string => fold(config.trim ? text.trim() : text, config.caseSensitive);
      return async (item) => (prepare(item.answer) === prepare(item.reference) ? 1 : 0);
    }
    case 'contains':
      return async (item) => (fold(item.answer, config.caseSensitive).includes(fold(item.reference.trim(), config.caseSensitive)) ? 1 : 0);
    case 'regex': {
      const pattern = new RegExp(config.pattern, config.flags);
      return async (item) => (pattern.test(item.answer) ? 1 : 0);
    }
    case 'json_schema': {
      const validate: ValidateFunction = ajv.compile(config.schema);
      return async (item) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(stripCodeFence(item.answer));
        } catch {
          return 0;
        }
        return validate(parsed) ? 1 : 0;
      };
    }
    case 'model':
      return async (item) => {
        const answer = await judge(config, judgeMessages(config, item));
        const score = parseJudgeScore(answer);
        if (score === null) throw new JudgeAnswerError(`judge ${config.deployment} gave no "SCORE: n" (0-10) in its answer (${answer.length} characters)`);
        return score;
      };
  }
}

/** Models often wrap JSON in a Markdown code fence; the content inside is what is graded. */
function stripCodeFence(text: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text);
  return fenced ? fenced[1]! : text;
}
