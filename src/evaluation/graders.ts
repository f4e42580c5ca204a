/**
 * Grader configs: how an eval item's answer is scored against its reference. Part of the pipeline input, so this
 * module is zod only (workflow code may import it); the scoring itself, with Ajv for JSON Schema, is in ./scoring.
 */
import { z } from 'zod';

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
  .describe('the answer parses as JSON and matches the schema (compiled, and so checked, by the eval activity: see checkGraders)');

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
