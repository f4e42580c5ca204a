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
import { ApiError, invalidPayload } from './errors';
import { chatCompletionJson, chatCompletionStream, estimateTokens } from './shapes';

/** Parameters o-series (reasoning) models refuse; `max_tokens` is replaced there by `max_completion_tokens`. */
const REASONING_REFUSED = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'logit_bias', 'max_tokens'] as const;
import type { ModelRecord } from './state';

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
    const promptTokens = texts.reduce((sum, m) => sum + estimateTokens(m.text), 0);
    if (body.stream === true) {
      return { status: 200, raw: chatCompletionStream(deployment.model.name, content, ctx.now), contentType: 'text/event-stream' };
    }
    return { status: 200, json: chatCompletionJson(deployment.model.name, content, promptTokens, ctx.now) };
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
