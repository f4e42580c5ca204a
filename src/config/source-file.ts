/**
 * A YAML or JSON file read with the positions of its keys, so that a schema error names the file, the line and the
 * field at fault (`ftpipe.config.yaml:7: profiles.0.endpoint: Invalid URL`): the worker configuration and pipeline files.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { issueFields } from './schema-keys';

export interface SourceFile {
  path: string;
  /** The file's content as plain data (what `yaml.parse` returns). */
  value: unknown;
  /** The line (1-based) of the key at `field`, else of its nearest ancestor that the file has; undefined at the top. */
  lineOf(field: readonly PropertyKey[]): number | undefined;
}

/** Reads and parses a YAML or JSON file; `what` names it in errors ("pipeline file", "ftpipe configuration"). */
export function readSourceFile(path: string, what: string): SourceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read the ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`);
  }
  return parseSourceText(text, path);
}

export function parseSourceText(text: string, path: string): SourceFile {
  const lines = new LineCounter();
  // No pretty errors: they quote the lines around the fault, and a configuration may hold a webhook URL.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fault = doc.errors[0];
  if (fault) {
    const at = lines.linePos(fault.pos[0]);
    throw new Error(`${path}:${at.line}:${at.col}: not valid YAML/JSON: ${fault.message.split('\n')[0]!}`);
  }
  const lineOfNode = (node: unknown): number | undefined => {
    const range = (node as Node | null)?.range;
    return range ? lines.linePos(range[0]).line : undefined;
  };
  return {
    path,
    value: doc.toJS(),
    lineOf(field) {
      let node: unknown = doc.contents;
      let line: number | undefined;
      for (const segment of field) {
        if (isMap(node)) {
          const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
          if (!pair) break;
          line = lineOfNode(pair.key) ?? line;
          node = pair.value;
        } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
          node = node.items[segment];
          line = lineOfNode(node) ?? line;
        } else {
          break;
        }
      }
      return line;
    },
  };
}

/** `file:line: field: message` for each issue (`file: field: message` where the file has no line for it). */
export function describeSourceIssues(source: SourceFile, issues: readonly z.core.$ZodIssue[], knownKeys?: (path: readonly PropertyKey[]) => string[]): string[] {
  return issues.flatMap((issue) => issueFields(issue, knownKeys)).map(({ field, message }) => {
    const line = source.lineOf(field);
    return `${source.path}${line !== undefined ? `:${line}` : ''}: ${field.length ? field.map(String).join('.') : '(top level)'}: ${message}`;
  });
}
