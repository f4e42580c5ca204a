/**
 * Scoring an answer with the configured graders, each a score in [0, 1]. Pure, except the model grader, which asks a
 * judge through the function it is given. JSON Schema validation is Ajv's.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import { graderNames, type GraderConfig, type ModelGraderConfig } from './graders';

const ajv = new Ajv({ allErrors: false, strict: false });

export class GraderConfigError extends Error {}

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

/** Compiles the graders; a JSON Schema that does not compile is a GraderConfigError naming it. */
export function buildGraders(configs: GraderConfig[], judge: Judge): Grader[] {
  const names = graderNames(configs);
  return configs.map((config, i) => ({ name: names[i]!, config, score: scorer(config, judge, i) }));
}

/** Problems with graders that only compiling them finds (JSON Schemas), as `graders.N.schema: ...`; empty when fine. */
export function checkGraders(configs: GraderConfig[]): string[] {
  try {
    buildGraders(configs, () => Promise.reject(new Error('not asked')));
    return [];
  } catch (err) {
    if (err instanceof GraderConfigError) return [err.message];
    throw err;
  }
}

function scorer(config: GraderConfig, judge: Judge, index: number): (item: GradedItem) => Promise<number> {
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
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(config.schema);
      } catch (err) {
        throw new GraderConfigError(`graders.${index}.schema: not a valid JSON Schema: ${(err as Error).message}`);
      }
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
