/**
 * Chat completions on deployments, both URL families. Answers are deterministic and their quality depends on
 * the deployed model, so that an evaluation can tell checkpoints apart:
 * - a fine-tuned model or checkpoint "knows" the examples of its lineage's training and validation files,
 *   keyed by the last user message (trimmed);
 * - for a known prompt it returns the reference answer (the example's last assistant message) when the prompt's
 *   difficulty, a hash of the prompt in [0, 1), is below the model's skill, and a wrong answer otherwise;
 * - skill comes from the checkpoint's validation loss (training.ts), so it rises until the overfitting epoch and
 *   falls after it; the items a more skilled model gets right are a superset of a less skilled one's.
 * Unknown prompts and base models get a generic answer that never equals a reference.
 */
import { createHash } from 'node:crypto';
import type { DeploymentService } from './deployments';
import { messageText } from './files';
import type { Dispatcher, RequestContext, Reply } from './server';
import { deployableBaseModel, resolveBaseModel } from './service';
import { ApiError, InvalidRequestError, invalidPayload } from './errors';
import { chatCompletionJson, chatCompletionStream } from './shapes';
import { promptTokens } from './tokens';

import type { ModelRecord } from './state';

/** Parameters o-series (reasoning) models refuse; `max_tokens` is replaced there by `max_completion_tokens`. */
const REASONING_REFUSED = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'logit_bias', 'max_tokens'] as const;

/**
 * The request fields of the dated family's `createChatCompletionRequest` (2025-04-01-preview inference spec, with
 * `chatCompletionsRequestCommon`), plus `model`: the SDKs send the deployment name there and the recordings show
 * Azure answering it. Any other field is refused, as the live service refuses it ("Unrecognized request argument
 * supplied: ..."). The v1 route's request schema is not vendored, so there only the defined fields' values are checked.
 */
const DATED_CHAT_FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'temperature', 'top_p', 'stream', 'stop', 'max_tokens', 'max_completion_tokens', 'presence_penalty',
  'frequency_penalty', 'logit_bias', 'store', 'metadata', 'user', 'data_sources', 'reasoning_effort', 'logprobs', 'top_logprobs',
  'n', 'modalities', 'prediction', 'audio', 'parallel_tool_calls', 'response_format', 'seed', 'stream_options', 'tools',
  'tool_choice', 'function_call', 'functions', 'user_security_context',
]);

/** The spec's numeric ranges (`minimum`/`maximum`) and integer types of chat request fields. */
const CHAT_NUMBERS: Record<string, { min?: number; max?: number; integer?: boolean }> = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1 },
  presence_penalty: { min: -2, max: 2 },
  frequency_penalty: { min: -2, max: 2 },
  n: { min: 1, max: 128, integer: true },
  top_logprobs: { min: 0, max: 20, integer: true },
  max_tokens: { integer: true },
  max_completion_tokens: { integer: true },
  seed: { integer: true },
};
const CHAT_BOOLEANS = ['stream', 'logprobs', 'store', 'parallel_tool_calls'];
/** `chatCompletionRequestMessage`'s roles (developer, system, user, assistant, tool, function). */
const CHAT_ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];

/**
 * Refuses a chat request the way the model service does: a field the family does not define (dated), a defined one
 * of the wrong type or out of the spec's range, a message without a known role or with content of the wrong type.
 */
export function checkChatRequest(body: Record<string, unknown>, family: 'dated' | 'v1'): void {
  if (family === 'dated') {
    const unknown = Object.keys(body).find((k) => !DATED_CHAT_FIELDS.has(k));
    if (unknown !== undefined) throw new InvalidRequestError(`Unrecognized request argument supplied: ${unknown}`, null);
  }
  for (const [field, rule] of Object.entries(CHAT_NUMBERS)) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || (rule.integer && !Number.isInteger(v))) {
      throw new InvalidRequestError(`${JSON.stringify(v)} is not of type '${rule.integer ? 'integer' : 'number'}' - '${field}'`, field);
    }
    if (rule.min !== undefined && v < rule.min) throw new InvalidRequestError(`${v} is less than the minimum of ${rule.min} - '${field}'`, field);
    if (rule.max !== undefined && v > rule.max) throw new InvalidRequestError(`${v} is greater than the maximum of ${rule.max} - '${field}'`, field);
  }
  for (const field of CHAT_BOOLEANS) {
    const v = body[field];
    if (v !== undefined && v !== null && typeof v !== 'boolean') throw new InvalidRequestError(`${JSON.stringify(v)} is not of type 'boolean' - '${field}'`, field);
  }
  const messages = body.messages as unknown[];
  messages.forEach((m, i) => {
    const where = `messages.${i}`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new InvalidRequestError(`${JSON.stringify(m)} is not of type 'object' - '${where}'`, where);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !CHAT_ROLES.includes(role)) {
      throw new InvalidRequestError(`${JSON.stringify(role ?? null)} is not one of [${CHAT_ROLES.map((r) => `'${r}'`).join(', ')}] - '${where}.role'`, `${where}.role`);
    }
    // Content is a string or an array of parts; only an assistant message (with tool or function calls) may omit it.
    const absent = content === undefined || content === null;
    if ((absent && role !== 'assistant') || (!absent && typeof content !== 'string' && !Array.isArray(content))) {
      throw new InvalidRequestError(`${JSON.stringify(content ?? null)} is not valid under any of the given schemas - '${where}.content'`, `${where}.content`);
    }
  });
}

export class InferenceService {
  constructor(private readonly deployments: DeploymentService) {}

  register(d: Dispatcher): void {
    d.data('chat.completions', 'POST', '/deployments/:deployment/chat/completions', ['dated'], (ctx) => this.chat(ctx, ctx.params.deployment));
    d.data('chat.completions', 'POST', '/chat/completions', ['v1'], (ctx) => this.chat(ctx, undefined));
  }

  private async chat(ctx: RequestContext, pathDeployment: string | undefined): Promise<Reply> {
    const body = await ctx.json();
    const deploymentName = pathDeployment ?? body.model;
    if (typeof deploymentName !== 'string' || deploymentName.length === 0) throw invalidPayload("'model' (the deployment name) is required.", 'model');
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) throw invalidPayload("'messages' must be a non-empty array.", 'messages');
    const deployment = this.deployments.serving(ctx.account!, deploymentName, ctx.now);
    checkChatRequest(body, ctx.family === 'v1' ? 'v1' : 'dated');
    const base = deployment.served ? resolveBaseModel(deployment.served.baseModel)?.model : deployableBaseModel(deployment.model.name);
    if (base?.reasoning) {
      for (const param of REASONING_REFUSED) {
        if (body[param] === undefined || body[param] === null) continue;
        throw new ApiError(
          400,
          'unsupported_parameter',
          param === 'max_tokens'
            ? "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
            : `Unsupported parameter: '${param}' is not supported with this model.`,
          param,
        );
      }
    }
    const texts = messages.map((m: unknown) => ({
      role: (m as { role?: unknown } | null)?.role,
      text: messageText((m as { content?: unknown } | null)?.content),
    }));
    const prompt = [...texts].reverse().find((m) => m.role === 'user')?.text.trim() ?? '';
    const content = answer(deployment.served, deployment.model.name, prompt);
    const usagePromptTokens = promptTokens(messages);
    // The answer names the deployed model: a fine-tuned one by its name (recorded, DeployAndChatWithModel), a base
    // model by its versioned name, as a live Azure answer for a gpt-4.1 deployment shows ("model": "gpt-4.1-2025-04-14",
    // enoch-sit/tool-chatbot-boilerplate services/mimicAzure/data/eduhk_non_stream.md).
    const responseModel = deployment.served ? deployment.model.name : `${deployment.model.name}-${deployment.model.version}`;
    if (body.stream === true) {
      return { status: 200, raw: chatCompletionStream(responseModel, content, ctx.now), contentType: 'text/event-stream' };
    }
    return { status: 200, json: chatCompletionJson(responseModel, content, usagePromptTokens, ctx.now) };
  }
}

export function answer(model: ModelRecord | null, modelName: string, prompt: string): string {
  const reference = model?.knowledge[prompt];
  if (model && reference !== undefined) {
    return difficulty(prompt) < model.skill ? reference : `I am not sure about that. My best guess: it depends on "${truncate(prompt, 60)}".`;
  }
  return `This is a response from ${modelName} (ftpipe emulator) to: "${truncate(prompt, 80)}".`;
}

/** A prompt's difficulty in [0, 1): the first 32 bits of its SHA-256. */
export function difficulty(prompt: string): number {
  return createHash('sha256').update(prompt).digest().readUInt32BE(0) / 4294967296;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
