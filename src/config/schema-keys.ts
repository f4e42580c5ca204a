/**
 * The keys a zod object schema accepts at a path, and the one a mistyped key most likely meant, so that an unknown
 * key in a configuration or pipeline file is answered with "did you mean nEpochs?" rather than only refused.
 * Pure (no Node built-ins): the pipeline input's schema module, which the workflow bundle loads, uses it.
 */
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The object and array schemas `schema` stands for once its wrappers (optional, default, pipe, union) are taken off. */
function unwrap(schema: unknown, depth = 0): Def[] {
  const def = defOf(schema);
  if (!def || depth > 20) return [];
  if (def.type === 'object' || def.type === 'array') return [def];
  if (def.options) return def.options.flatMap((o) => unwrap(o, depth + 1));
  const inner = def.innerType ?? def.in;
  return inner ? unwrap(inner, depth + 1) : [];
}

/** The keys accepted at `path` of `schema` (an array index steps into the element), sorted; empty when unknown. */
export function objectKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let current = unwrap(schema);
  for (const segment of path) {
    current = current.flatMap((def) => {
      const next = typeof segment === 'number' ? (def.type === 'array' ? def.element : undefined) : def.shape?.[String(segment)];
      return next === undefined ? [] : unwrap(next);
    });
  }
  return [...new Set(current.flatMap((def) => Object.keys(def.shape ?? {})))].sort();
}

/** Edits from a to b, a swap of two neighbours counting as one (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** What an unknown key is told: the likely intended key (same letters in another case, or 1-2 edits away), else the accepted keys. */
export function unknownKeyHint(key: string, known: readonly string[]): string {
  if (known.length === 0) return 'unknown key';
  const close = known
    .map((k) => ({ k, d: k.toLowerCase() === key.toLowerCase() ? 0 : distance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ d }) => d <= (key.length <= 4 ? 1 : 2))
    .sort((a, b) => a.d - b.d)[0];
  return close ? `unknown key; did you mean "${close.k}"?` : `unknown key; accepted here: ${known.join(', ')}`;
}

/**
 * One schema issue's field (`hyperparameters.nEpochs`) and message; an unknown key is named with its own path and
 * the key it likely meant, from `knownKeys` (the keys the schema accepts beside it).
 */
export function issueFields(issue: z.core.$ZodIssue, knownKeys: (path: readonly PropertyKey[]) => string[] = () => []): { field: PropertyKey[]; message: string }[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: [...issue.path, key], message: unknownKeyHint(key, knownKeys(issue.path)) }));
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return [{ field: issue.path, message: `missing (a ${issue.expected} is required here)` }];
  // YAML reads 0000 or 2024 as a number: say how to write the string.
  if (issue.code === 'invalid_type' && issue.expected === 'string' && /received (number|boolean)$/.test(issue.message)) return [{ field: issue.path, message: `${issue.message}: quote it ("...") to give YAML a string` }];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // "Invalid input" says nothing: name the faults of the alternative that came closest (fewest of them).
    const closest = issue.errors.reduce((best, option) => (option.length < best.length ? option : best));
    if (closest.length > 0) return closest.flatMap((inner) => issueFields({ ...inner, path: [...issue.path, ...inner.path] }, knownKeys));
  }
  return [{ field: issue.path, message: issue.message }];
}
