/**
 * Exact token counts for what the emulated service bills and reports (a job's `trained_tokens` and its `Training tokens
 * billed` event, the step durations, chat completions' `usage`), with the `tiktoken` package's own encoder: every model
 * the service accepts (./service SERVICE_MODELS: gpt-4o, gpt-4.1, o4-mini families) uses `o200k_base`. Deliberately
 * not ftpipe's tokenizer (src/dataset): the emulator plays Azure, so that a test compares ftpipe's count with an
 * independent one instead of with itself.
 *
 * A chat example counts as the OpenAI cookbook counts messages ("How to count tokens with tiktoken",
 * num_tokens_from_messages; the fine-tuning data-prep notebook bills the same count per example times the epochs): 3
 * per message, plus the tokens of each of its string values (role included), plus 1 for a `name`, plus 3 priming the
 * reply. Azure does not publish its exact per-message overhead; these are the cookbook's. The emulator's own readings,
 * where the cookbook is silent: content given as parts counts the text of its text parts; `tool_calls` and
 * `function_call` count the tokens of their JSON text, and so do an example's `tools` and `functions`; numbers
 * (`weight`) count nothing; a preference (DPO) example counts its input's messages with the priming plus the messages
 * of both outputs; a reinforcement example counts its messages with the priming.
 *
 * The encoding is built on first use, once per process: about 0.4 s of CPU (measured at a machine load of 26), which
 * only a process that validates a fine-tuning file or answers a chat completion pays.
 */
import type * as TiktokenModule from 'tiktoken';

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;

let encoding: TiktokenModule.Tiktoken | undefined;

function encoder(): TiktokenModule.Tiktoken {
  if (!encoding) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- built on first use, see above
    const { get_encoding } = require('tiktoken') as typeof TiktokenModule;
    encoding = get_encoding('o200k_base');
  }
  return encoding;
}

/** The tokens of `text`, as `encode_ordinary` counts them (special-token text is ordinary text). */
export function textTokens(text: string): number {
  return text.length === 0 ? 0 : encoder().encode_ordinary(text).length;
}

function valueTokens(key: string, value: unknown): number {
  if (typeof value === 'string') return textTokens(value);
  if (key === 'content' && Array.isArray(value)) {
    return value.reduce((sum: number, part: unknown) => sum + (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string' ? textTokens((part as { text: string }).text) : 0), 0);
  }
  if ((key === 'tool_calls' || key === 'function_call') && value !== null && typeof value === 'object') return textTokens(JSON.stringify(value));
  return 0;
}

/** The cookbook's count of `messages` without the reply priming. */
function messagesTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let tokens = 0;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    tokens += TOKENS_PER_MESSAGE;
    for (const [key, value] of Object.entries(message as Record<string, unknown>)) {
      tokens += valueTokens(key, value);
      if (key === 'name') tokens += TOKENS_PER_NAME;
    }
  }
  return tokens;
}

function definitionsTokens(example: Record<string, unknown>): number {
  let tokens = 0;
  for (const key of ['tools', 'functions']) if (Array.isArray(example[key])) tokens += textTokens(JSON.stringify(example[key]));
  return tokens;
}

/** The tokens one training example counts for (see the module comment), by its format. */
export function exampleTokens(example: Record<string, unknown>, format: 'chat' | 'preference' | 'reinforcement'): number {
  if (format === 'preference') {
    const input = example.input as { messages?: unknown; tools?: unknown } | undefined;
    return messagesTokens(input?.messages) + REPLY_PRIMING_TOKENS + definitionsTokens((input ?? {})) + messagesTokens(example.preferred_output) + messagesTokens(example.non_preferred_output);
  }
  return messagesTokens(example.messages) + REPLY_PRIMING_TOKENS + definitionsTokens(example);
}

/** A chat completion request's prompt tokens: its messages, primed for the reply, as the cookbook counts them. */
export function promptTokens(messages: unknown): number {
  return messagesTokens(messages) + REPLY_PRIMING_TOKENS;
}
