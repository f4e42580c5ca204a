/**
 * Eval sets: JSONL, one item per line, `{"messages": [...], "reference": "..."}`. Without `reference`, a line in the
 * training format (ending with the assistant's answer) also works: that last assistant message is the reference and
 * is not sent. Bad lines are reported together, by line number.
 */
export interface EvalItem {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  reference: string;
}

export class EvalSetError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`eval set ${source}: ${problems.slice(0, MAX_REPORTED).join('; ')}${problems.length > MAX_REPORTED ? `; and ${problems.length - MAX_REPORTED} more` : ''}`);
  }
}

const MAX_REPORTED = 10;
const ROLES = new Set(['system', 'user', 'assistant']);

function parseLine(line: string): EvalItem | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const { messages, reference } = value as { messages?: unknown; reference?: unknown };
  if (!Array.isArray(messages) || messages.length === 0) return '"messages" must be a non-empty array';
  const parsed: EvalItem['messages'] = [];
  for (const [i, m] of messages.entries()) {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) return `messages[${i}].role must be system, user or assistant`;
    if (typeof content !== 'string') return `messages[${i}].content must be a string`;
    parsed.push({ role: role as EvalItem['messages'][number]['role'], content });
  }
  let ref = reference;
  if (ref === undefined && parsed[parsed.length - 1]?.role === 'assistant') ref = parsed.pop()!.content;
  if (typeof ref !== 'string') return '"reference" must be a string (or the last message an assistant answer to use as the reference)';
  if (parsed[parsed.length - 1]?.role !== 'user') return 'the last message sent must be from the user (the expected answer goes in "reference")';
  return { messages: parsed, reference: ref };
}

/** Parses an eval set's text; `source` names it in errors. */
export function parseEvalSet(text: string, source: string): EvalItem[] {
  const items: EvalItem[] = [];
  const problems: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const item = parseLine(line);
      if (typeof item === 'string') problems.push(`line ${index + 1}: ${item}`);
      else items.push(item);
    });
  if (problems.length > 0) throw new EvalSetError(source, problems);
  if (items.length === 0) throw new EvalSetError(source, ['no items (one JSON object per line expected)']);
  return items;
}
