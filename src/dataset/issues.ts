/**
 * What the validator reports. Messages name lines, key paths and limits, never training content: reports travel
 * through Temporal history and logs.
 */

export const ERROR_CODES = [
  'FILE_TOO_LARGE',
  'LINE_TOO_LONG',
  'INVALID_UTF8',
  'BLANK_LINE',
  'INVALID_JSON',
  'NOT_AN_OBJECT',
  'TOO_DEEPLY_NESTED',
  'MISSING_KEY',
  'UNKNOWN_KEY',
  'WRONG_TYPE',
  'EMPTY_MESSAGES',
  'INVALID_ROLE',
  'KEY_NOT_ALLOWED_FOR_ROLE',
  'INVALID_WEIGHT',
  'INVALID_CONTENT_PART',
  'IMAGE_NOT_SUPPORTED',
  'NO_TRAINABLE_ASSISTANT',
  'UNKNOWN_TOOL_CALL_ID',
  'DUPLICATE_TOOL_CALL_ID',
  'MISSING_TOOL_RESPONSE',
  'LAST_MESSAGE_NOT_USER',
  'EXAMPLE_TOO_LONG',
  'EMPTY_FILE',
  'TOO_FEW_EXAMPLES',
  'VALIDATION_FILE_REQUIRED',
] as const;

export const WARNING_CODES = [
  'BOM_MISSING',
  'FEW_EXAMPLES',
  'APPROXIMATE_TOKEN_COUNT',
  'EMPTY_CONTENT',
  'INVALID_TOOL_ARGUMENTS',
  'TOOL_NOT_DECLARED',
  'DUPLICATE_EXAMPLE',
  'IN_TRAINING_AND_VALIDATION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type WarningCode = (typeof WARNING_CODES)[number];
export type IssueCode = ErrorCode | WarningCode;
export type Severity = 'error' | 'warning';

const WARNINGS: ReadonlySet<string> = new Set(WARNING_CODES);

export function severityOf(code: IssueCode): Severity {
  return WARNINGS.has(code) ? 'warning' : 'error';
}

export interface Issue {
  /** The file as the caller named it. */
  file: string;
  /** 1-based line, or null for a whole-file issue. */
  line: number | null;
  /** Key path inside the example, e.g. `messages[2].tool_calls[0].id`; null when the issue is about the line or file. */
  path: string | null;
  code: IssueCode;
  message: string;
}

/** An issue found inside one line, before the file name and absolute line number are attached. */
export interface LineIssue {
  path: string | null;
  code: IssueCode;
  message: string;
}

const IDENTIFIER = /^[A-Za-z0-9_:-]{1,40}$/;

/** Quotes a key from the data only when it is a short identifier, never free text. Values from the data are never quoted (issue 11: no content beyond the line and key path). */
export function quoteIdentifier(value: unknown): string {
  return typeof value === 'string' && IDENTIFIER.test(value) ? `'${value}'` : 'this value';
}

/** A key as it appears in an issue path: itself when a short identifier, else its position (`<key 3>`), never free text. */
export function keyInPath(key: string, position: number): string {
  return IDENTIFIER.test(key) ? key : `<key ${position}>`;
}
