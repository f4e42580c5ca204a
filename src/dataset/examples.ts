/**
 * Checks one parsed JSONL example against the format of its fine-tuning method and counts its tokens in the same
 * walk. Formats: supervised chat (`messages`, optional `tools`/`functions`), DPO (`input.messages`,
 * `preferred_output`, `non_preferred_output`), reinforcement (`messages` ending with a user message, plus any
 * reference fields the grader reads).
 */
import type { FineTuningMethod } from '../catalog';
import { keyInPath, quoteIdentifier, severityOf, type IssueCode, type LineIssue } from './issues';
import { REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, type TokenCounter } from './tokens';

export interface ExampleOptions {
  method: FineTuningMethod;
  /** Model id for messages, e.g. "gpt-4.1-mini". */
  model: string;
  /** The model takes image input (catalogue modality `text+vision`). */
  allowImages: boolean;
  tokens: TokenCounter;
}

export interface ExampleResult {
  issues: LineIssue[];
  /** True when the example has no error (warnings allowed). */
  wellFormed: boolean;
  /** Tokens the service reads (and bills) for this example. */
  tokens: number;
  /** Longest single sequence trained on: `tokens` except for DPO, where each output is trained with the input separately. */
  contextTokens: number;
  /** Tokens of the messages the model learns to produce (assistant messages with weight 1; DPO outputs). */
  trainableTokens: number;
  imageParts: number;
}

type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

/** Keys each role may carry. `weight` is added for supervised assistant messages only. */
const ROLE_KEYS: Record<Role, readonly string[]> = {
  system: ['role', 'content', 'name'],
  developer: ['role', 'content', 'name'],
  user: ['role', 'content', 'name'],
  assistant: ['role', 'content', 'name', 'tool_calls', 'function_call'],
  tool: ['role', 'content', 'tool_call_id'],
  function: ['role', 'content', 'name'],
};
const MESSAGE_KEYS = new Set(['weight', ...Object.values(ROLE_KEYS).flat()]);
const ALL_ROLES = Object.keys(ROLE_KEYS) as Role[];
const RFT_ROLES: Role[] = ['system', 'developer', 'user', 'assistant', 'tool'];
const IMAGE_DETAILS = new Set(['auto', 'low', 'high']);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** "a user", "an assistant": for messages. */
function aRole(role: Role): string {
  return role === 'assistant' ? `an ${role}` : `a ${role}`;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Where a list of messages sits and what it may contain. */
interface MessageListRules {
  path: string;
  roles: readonly Role[];
  /** `weight` allowed on assistant messages (supervised only). */
  weights: boolean;
  /** Assistant messages in this list are what the model learns. */
  trainable: boolean;
}

interface MessageListTotals {
  tokens: number;
  trainableTokens: number;
  trainableMessages: number;
  /** Messages that are not objects or have no valid role: they might have been meant as assistant messages. */
  unrecognizedMessages: number;
  lastRole: Role | undefined;
}

class ExampleChecker {
  readonly issues: LineIssue[] = [];
  private errors = 0;
  imageParts = 0;
  /** Tool names the example declares (`tools`, `functions`); undefined when it declares none. */
  private declaredTools: Set<string> | undefined;
  private readonly issuedCallIds = new Set<string>();

  constructor(private readonly options: ExampleOptions) {}

  get wellFormed(): boolean {
    return this.errors === 0;
  }

  report(path: string | null, code: IssueCode, message: string): void {
    if (severityOf(code) === 'error') this.errors++;
    this.issues.push({ path, code, message });
  }

  private count(text: string): number {
    return this.options.tokens.count(text);
  }

  private countRepeated(text: string): number {
    return this.options.tokens.countRepeated(text);
  }

  /** Reports keys outside `allowed` (a handful of names, so a plain array). */
  checkKeys(object: JsonObject, path: string, allowed: readonly string[], where: string): void {
    Object.keys(object).forEach((key, i) => {
      if (!allowed.includes(key)) this.report(join(path, keyInPath(key, i + 1)), 'UNKNOWN_KEY', `unknown key ${quoteIdentifier(key)} in ${where}`);
    });
  }

  requireArray(object: JsonObject, key: string, path: string): unknown[] | undefined {
    const value = object[key];
    const at = join(path, key);
    if (value === undefined) {
      this.report(at, 'MISSING_KEY', `'${key}' is required`);
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.report(at, 'WRONG_TYPE', `'${key}' must be an array, got ${typeName(value)}`);
      return undefined;
    }
    return value as unknown[];
  }

  requireString(object: JsonObject, key: string, path: string): string | undefined {
    const value = object[key];
    const at = join(path, key);
    if (value === undefined) {
      this.report(at, 'MISSING_KEY', `'${key}' is required`);
      return undefined;
    }
    if (typeof value !== 'string') {
      this.report(at, 'WRONG_TYPE', `'${key}' must be a string, got ${typeName(value)}`);
      return undefined;
    }
    return value;
  }

  /** `tools` (and legacy `functions`): checked for structure, counted as their compact JSON. */
  checkToolDefinitions(example: JsonObject, path: string): number {
    let tokens = 0;
    const tools = example.tools;
    if (tools !== undefined) {
      const at = join(path, 'tools');
      if (!Array.isArray(tools)) this.report(at, 'WRONG_TYPE', `'tools' must be an array, got ${typeName(tools)}`);
      else {
        this.declaredTools ??= new Set();
        tools.forEach((tool, i) => {
          const toolPath = join(at, i);
          if (!isObject(tool)) return this.report(toolPath, 'WRONG_TYPE', `a tool must be an object, got ${typeName(tool)}`);
          this.checkKeys(tool, toolPath, ['type', 'function'], 'a tool');
          if (tool.type !== 'function') this.report(join(toolPath, 'type'), tool.type === undefined ? 'MISSING_KEY' : 'WRONG_TYPE', `a tool's 'type' must be 'function'`);
          const fn = tool.function;
          if (!isObject(fn)) return this.report(join(toolPath, 'function'), fn === undefined ? 'MISSING_KEY' : 'WRONG_TYPE', `'function' must be an object with a 'name'`);
          this.checkFunctionDefinition(fn, join(toolPath, 'function'));
        });
        tokens += this.countRepeated(JSON.stringify(tools));
      }
    }
    const functions = example.functions;
    if (functions !== undefined) {
      const at = join(path, 'functions');
      if (!Array.isArray(functions)) this.report(at, 'WRONG_TYPE', `'functions' must be an array, got ${typeName(functions)}`);
      else {
        this.declaredTools ??= new Set();
        functions.forEach((fn, i) => {
          if (!isObject(fn)) return this.report(join(at, i), 'WRONG_TYPE', `a function must be an object, got ${typeName(fn)}`);
          this.checkFunctionDefinition(fn, join(at, i));
        });
        tokens += this.countRepeated(JSON.stringify(functions));
      }
    }
    const parallel = example.parallel_tool_calls;
    if (parallel !== undefined && typeof parallel !== 'boolean') {
      this.report(join(path, 'parallel_tool_calls'), 'WRONG_TYPE', `'parallel_tool_calls' must be a boolean, got ${typeName(parallel)}`);
    }
    return tokens;
  }

  private checkFunctionDefinition(fn: JsonObject, path: string): void {
    this.checkKeys(fn, path, ['name', 'description', 'parameters', 'strict'], 'a function definition');
    const name = this.requireString(fn, 'name', path);
    if (name !== undefined) this.declaredTools?.add(name);
    if (fn.description !== undefined && typeof fn.description !== 'string') this.report(join(path, 'description'), 'WRONG_TYPE', `'description' must be a string, got ${typeName(fn.description)}`);
    if (fn.parameters !== undefined && !isObject(fn.parameters)) this.report(join(path, 'parameters'), 'WRONG_TYPE', `'parameters' must be a JSON Schema object, got ${typeName(fn.parameters)}`);
    if (fn.strict !== undefined && typeof fn.strict !== 'boolean') this.report(join(path, 'strict'), 'WRONG_TYPE', `'strict' must be a boolean, got ${typeName(fn.strict)}`);
  }

  checkMessages(messages: unknown[], rules: MessageListRules): MessageListTotals {
    const totals: MessageListTotals = { tokens: 0, trainableTokens: 0, trainableMessages: 0, unrecognizedMessages: 0, lastRole: undefined };
    if (messages.length === 0) {
      this.report(rules.path, 'EMPTY_MESSAGES', `'${rules.path.split('.').pop()}' must contain at least one message`);
      return totals;
    }
    /** Tool calls of the latest assistant message still waiting for their tool messages: id -> path of the call. */
    const pendingCalls = new Map<string, string>();
    messages.forEach((message, i) => {
      const path = join(rules.path, i);
      if (!isObject(message)) {
        totals.lastRole = undefined;
        totals.unrecognizedMessages++;
        return this.report(path, 'WRONG_TYPE', `a message must be an object, got ${typeName(message)}`);
      }
      const role = this.checkRole(message, path, rules);
      totals.lastRole = role;
      if (role === undefined) {
        totals.unrecognizedMessages++;
        return;
      }
      if (role !== 'tool' && pendingCalls.size > 0) {
        for (const callPath of pendingCalls.values()) {
          this.report(callPath, 'MISSING_TOOL_RESPONSE', `a tool call has no tool message before ${path}`);
        }
        pendingCalls.clear();
      }
      const { tokens, bodyTokens, trainable } = this.checkMessage(message, role, path, rules, pendingCalls);
      totals.tokens += tokens;
      if (trainable) {
        totals.trainableTokens += bodyTokens;
        totals.trainableMessages++;
      }
    });
    return totals;
  }

  private checkRole(message: JsonObject, path: string, rules: MessageListRules): Role | undefined {
    const role = message.role;
    const at = join(path, 'role');
    if (role === undefined) {
      this.report(at, 'MISSING_KEY', `'role' is required`);
      return undefined;
    }
    if (typeof role !== 'string' || !(rules.roles as readonly string[]).includes(role)) {
      this.report(at, 'INVALID_ROLE', `this role is not allowed here; expected one of ${rules.roles.join(', ')}`);
      return undefined;
    }
    return role as Role;
  }

  /** Checks one message with a known role; returns its tokens with framing, its body tokens, and whether it is trained on. */
  private checkMessage(message: JsonObject, role: Role, path: string, rules: MessageListRules, pendingCalls: Map<string, string>): { tokens: number; bodyTokens: number; trainable: boolean } {
    const allowed = ROLE_KEYS[role];
    Object.keys(message).forEach((key, i) => {
      if (allowed.includes(key)) return;
      if (key === 'weight' && role === 'assistant') {
        if (!rules.weights) this.report(join(path, key), 'UNKNOWN_KEY', `'weight' applies to supervised fine-tuning only`);
        return;
      }
      if (MESSAGE_KEYS.has(key)) this.report(join(path, key), 'KEY_NOT_ALLOWED_FOR_ROLE', `'${key}' is not allowed on ${aRole(role)} message`);
      else this.report(join(path, keyInPath(key, i + 1)), 'UNKNOWN_KEY', `unknown key ${quoteIdentifier(key)} in ${aRole(role)} message`);
    });

    let bodyTokens = 0;
    const calls = role === 'assistant' ? message.tool_calls : undefined;
    const functionCall = role === 'assistant' ? message.function_call : undefined;
    if (calls !== undefined) bodyTokens += this.checkToolCalls(calls, join(path, 'tool_calls'), pendingCalls);
    if (functionCall !== undefined) bodyTokens += this.checkFunctionCall(functionCall, join(path, 'function_call'));
    const contentOptional = calls !== undefined || functionCall !== undefined;
    bodyTokens += this.checkContent(message, role, path, contentOptional);

    let frameTokens = TOKENS_PER_MESSAGE + this.countRepeated(role);
    if (message.name !== undefined && allowed.includes('name')) {
      if (typeof message.name !== 'string') this.report(join(path, 'name'), 'WRONG_TYPE', `'name' must be a string, got ${typeName(message.name)}`);
      else frameTokens += this.countRepeated(message.name) + TOKENS_PER_NAME;
    } else if (role === 'function') {
      this.report(join(path, 'name'), 'MISSING_KEY', `'name' is required on a function message`);
    }
    if (role === 'tool') {
      const id = this.requireString(message, 'tool_call_id', path);
      if (id !== undefined) {
        frameTokens += this.count(id);
        if (pendingCalls.has(id)) pendingCalls.delete(id);
        else if (!this.issuedCallIds.has(id)) this.report(join(path, 'tool_call_id'), 'UNKNOWN_TOOL_CALL_ID', `this tool_call_id matches no earlier assistant tool call in this example`);
      }
    }

    let trainable = false;
    if (role === 'assistant' && rules.trainable) {
      const weight = message.weight;
      if (weight !== undefined && rules.weights && weight !== 0 && weight !== 1) {
        this.report(join(path, 'weight'), 'INVALID_WEIGHT', `'weight' must be 0 or 1, got ${typeof weight === 'number' ? String(weight) : typeName(weight)}`);
      }
      trainable = weight !== 0;
    }
    return { tokens: frameTokens + bodyTokens, bodyTokens, trainable };
  }

  private checkContent(message: JsonObject, role: Role, path: string, optional: boolean): number {
    const content = message.content;
    const at = join(path, 'content');
    if (content === undefined || (content === null && optional)) {
      if (!optional) this.report(at, 'MISSING_KEY', `'content' is required on ${aRole(role)} message`);
      return 0;
    }
    if (typeof content === 'string') {
      if (content.length === 0 && !optional) this.report(at, 'EMPTY_CONTENT', `'content' is empty`);
      return role === 'system' || role === 'developer' ? this.countRepeated(content) : this.count(content);
    }
    if (!Array.isArray(content)) {
      this.report(at, 'WRONG_TYPE', `'content' must be a string or an array of content parts, got ${typeName(content)}`);
      return 0;
    }
    if (content.length === 0 && !optional) this.report(at, 'EMPTY_CONTENT', `'content' has no parts`);
    let tokens = 0;
    content.forEach((part, i) => {
      const partPath = join(at, i);
      if (!isObject(part)) return this.report(partPath, 'WRONG_TYPE', `a content part must be an object, got ${typeName(part)}`);
      if (part.type === 'text') {
        this.checkKeys(part, partPath, ['type', 'text'], 'a text part');
        const text = this.requireString(part, 'text', partPath);
        if (text !== undefined) tokens += this.count(text);
      } else if (part.type === 'image_url') {
        this.checkImagePart(part, partPath, role);
      } else if (part.type === undefined) {
        this.report(join(partPath, 'type'), 'MISSING_KEY', `'type' is required on a content part`);
      } else {
        this.report(join(partPath, 'type'), 'INVALID_CONTENT_PART', `this content part type is not supported; expected 'text'${this.options.allowImages ? " or 'image_url'" : ''}`);
      }
    });
    return tokens;
  }

  private checkImagePart(part: JsonObject, path: string, role: Role): void {
    this.imageParts++;
    if (!this.options.allowImages) {
      this.report(join(path, 'type'), 'IMAGE_NOT_SUPPORTED', `${this.options.model} takes text only; image parts need a vision model`);
      return;
    }
    if (role !== 'user') {
      this.report(join(path, 'type'), 'IMAGE_NOT_SUPPORTED', `images are allowed in user messages only, not in ${aRole(role)} message`);
      return;
    }
    this.checkKeys(part, path, ['type', 'image_url'], 'an image part');
    const image = part.image_url;
    const at = join(path, 'image_url');
    if (!isObject(image)) {
      this.report(at, image === undefined ? 'MISSING_KEY' : 'WRONG_TYPE', `'image_url' must be an object with a 'url'`);
      return;
    }
    this.checkKeys(image, at, ['url', 'detail'], 'image_url');
    this.requireString(image, 'url', at);
    if (image.detail !== undefined && (typeof image.detail !== 'string' || !IMAGE_DETAILS.has(image.detail))) {
      this.report(join(at, 'detail'), 'WRONG_TYPE', `'detail' must be 'auto', 'low' or 'high'`);
    }
  }

  private checkToolCalls(calls: unknown, path: string, pendingCalls: Map<string, string>): number {
    if (!Array.isArray(calls)) {
      this.report(path, 'WRONG_TYPE', `'tool_calls' must be an array, got ${typeName(calls)}`);
      return 0;
    }
    if (calls.length === 0) this.report(path, 'WRONG_TYPE', `'tool_calls' must contain at least one call`);
    calls.forEach((call, i) => {
      const callPath = join(path, i);
      if (!isObject(call)) return this.report(callPath, 'WRONG_TYPE', `a tool call must be an object, got ${typeName(call)}`);
      this.checkKeys(call, callPath, ['id', 'type', 'function'], 'a tool call');
      const id = this.requireString(call, 'id', callPath);
      if (id !== undefined) {
        if (this.issuedCallIds.has(id)) this.report(join(callPath, 'id'), 'DUPLICATE_TOOL_CALL_ID', `this tool call id is used twice in this example`);
        this.issuedCallIds.add(id);
        pendingCalls.set(id, join(callPath, 'id'));
      }
      if (call.type !== 'function') this.report(join(callPath, 'type'), call.type === undefined ? 'MISSING_KEY' : 'WRONG_TYPE', `a tool call's 'type' must be 'function'`);
      const fn = call.function;
      if (!isObject(fn)) return this.report(join(callPath, 'function'), fn === undefined ? 'MISSING_KEY' : 'WRONG_TYPE', `'function' must be an object with 'name' and 'arguments'`);
      this.checkCalledFunction(fn, join(callPath, 'function'));
    });
    return this.count(JSON.stringify(calls));
  }

  private checkFunctionCall(call: unknown, path: string): number {
    if (!isObject(call)) {
      this.report(path, 'WRONG_TYPE', `'function_call' must be an object with 'name' and 'arguments'`);
      return 0;
    }
    this.checkCalledFunction(call, path);
    return this.count(JSON.stringify(call));
  }

  private checkCalledFunction(fn: JsonObject, path: string): void {
    this.checkKeys(fn, path, ['name', 'arguments'], 'a function call');
    const name = this.requireString(fn, 'name', path);
    if (name !== undefined && !this.declaredTools?.has(name)) {
      const declared = this.declaredTools ? 'is not declared in the example\'s tools' : 'is called but the example declares no tools';
      this.report(join(path, 'name'), 'TOOL_NOT_DECLARED', `the function ${declared}`);
    }
    const args = this.requireString(fn, 'arguments', path);
    if (args !== undefined) {
      try {
        JSON.parse(args);
      } catch {
        this.report(join(path, 'arguments'), 'INVALID_TOOL_ARGUMENTS', `'arguments' is not valid JSON`);
      }
    }
  }
}

function result(checker: ExampleChecker, tokens: number, trainableTokens: number, contextTokens = tokens): ExampleResult {
  return { issues: checker.issues, wellFormed: checker.wellFormed, tokens, contextTokens, trainableTokens, imageParts: checker.imageParts };
}

function checkSupervised(example: JsonObject, checker: ExampleChecker): ExampleResult {
  checker.checkKeys(example, '', ['messages', 'tools', 'functions', 'parallel_tool_calls'], 'a supervised example');
  const toolTokens = checker.checkToolDefinitions(example, '');
  const messages = checker.requireArray(example, 'messages', '');
  if (!messages) return result(checker, 0, 0);
  const totals = checker.checkMessages(messages, { path: 'messages', roles: ALL_ROLES, weights: true, trainable: true });
  // Only when every message was understood: a message with a bad role already has its own error.
  if (messages.length > 0 && totals.trainableMessages === 0 && totals.unrecognizedMessages === 0) {
    checker.report('messages', 'NO_TRAINABLE_ASSISTANT', 'the example has no assistant message to learn from (none, or all have weight 0)');
  }
  return result(checker, toolTokens + totals.tokens + REPLY_PRIMING_TOKENS, totals.trainableTokens);
}

function checkDpo(example: JsonObject, checker: ExampleChecker): ExampleResult {
  checker.checkKeys(example, '', ['input', 'preferred_output', 'non_preferred_output'], 'a DPO example');
  let inputTokens = 0;
  const input = example.input;
  if (input === undefined) checker.report('input', 'MISSING_KEY', `'input' is required`);
  else if (!isObject(input)) checker.report('input', 'WRONG_TYPE', `'input' must be an object with 'messages', got ${typeName(input)}`);
  else {
    checker.checkKeys(input, 'input', ['messages', 'tools', 'functions', 'parallel_tool_calls'], 'input');
    inputTokens += checker.checkToolDefinitions(input, 'input');
    const messages = checker.requireArray(input, 'messages', 'input');
    if (messages) inputTokens += checker.checkMessages(messages, { path: 'input.messages', roles: ALL_ROLES, weights: false, trainable: false }).tokens;
  }
  const outputTokens = (['preferred_output', 'non_preferred_output'] as const).map((key) => {
    const output = checker.requireArray(example, key, '');
    return output ? checker.checkMessages(output, { path: key, roles: ['assistant'], weights: false, trainable: true }).tokens : 0;
  });
  const [preferred = 0, nonPreferred = 0] = outputTokens;
  const primedInput = inputTokens + REPLY_PRIMING_TOKENS;
  return result(checker, primedInput + preferred + nonPreferred, preferred + nonPreferred, primedInput + Math.max(preferred, nonPreferred));
}

function checkReinforcement(example: JsonObject, checker: ExampleChecker): ExampleResult {
  // Keys beside `messages` and `tools` are reference data for the grader (e.g. `reference_answer`), so any are allowed.
  const toolTokens = checker.checkToolDefinitions(example, '');
  const messages = checker.requireArray(example, 'messages', '');
  if (!messages) return result(checker, 0, 0);
  const totals = checker.checkMessages(messages, { path: 'messages', roles: RFT_ROLES, weights: false, trainable: false });
  if (messages.length > 0 && totals.lastRole !== 'user' && isObject(messages[messages.length - 1])) {
    checker.report(join('messages', messages.length - 1), 'LAST_MESSAGE_NOT_USER', 'reinforcement fine-tuning needs the last message to be from the user');
  }
  return result(checker, toolTokens + totals.tokens + REPLY_PRIMING_TOKENS, 0);
}

export function checkExample(example: unknown, options: ExampleOptions): ExampleResult {
  const checker = new ExampleChecker(options);
  if (!isObject(example)) {
    checker.report(null, 'NOT_AN_OBJECT', `each line must be a JSON object, got ${typeName(example)}`);
    return result(checker, 0, 0);
  }
  switch (options.method) {
    case 'supervised':
      return checkSupervised(example, checker);
    case 'dpo':
      return checkDpo(example, checker);
    case 'reinforcement':
      return checkReinforcement(example, checker);
  }
}
