/**
 * Fault injection. A rule matches requests by route name (glob, e.g. `jobs.create`, `files.*`, `arm.*`), method
 * and account, fires with probability `rate` (dice seeded, so runs are reproducible) at most `times` times, and
 * either delays, fails, drops the connection, or lets the handler change state and then loses the response.
 */
import { z } from 'zod';
import { ApiError, INTERNAL_FAILURE } from './errors';

export const FaultRuleSchema = z
  .object({
    /** Route name or glob; `*` matches any sequence (see docs/emulator.md for the names). */
    route: z.string().min(1).default('*'),
    method: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    /**
     * `error`: answer `status` without running the handler. `drop`: destroy the connection without an answer.
     * `latency`: delay by `latencyMs`, then serve normally. `lostResponse`: run the handler (state changes), then
     * answer `status` (default 500). `lostConnection`: run the handler, then destroy the connection.
     */
    action: z.enum(['error', 'drop', 'latency', 'lostResponse', 'lostConnection']),
    status: z.number().int().min(400).max(599).optional(),
    /** For 429/503: the Retry-After hint (also sent as `retry-after-ms`). */
    retryAfterMs: z.number().int().nonnegative().optional(),
    latencyMs: z.number().int().nonnegative().optional(),
    rate: z.number().min(0).max(1).default(1),
    /** Fire at most this many times, then the rule is removed (a scripted one-shot fault is `times: 1`). */
    times: z.number().int().positive().optional(),
  })
  .strict();
export type FaultRule = z.input<typeof FaultRuleSchema>;
type ParsedRule = z.output<typeof FaultRuleSchema>;

export interface ActiveFault extends ParsedRule {
  id: string;
  fired: number;
}

export type FaultOutcome =
  | { kind: 'none' }
  | { kind: 'error'; error: ApiError }
  | { kind: 'drop' }
  | { kind: 'lostResponse'; error: ApiError }
  | { kind: 'lostConnection' };

export interface FaultDecision {
  latencyMs: number;
  outcome: FaultOutcome;
}

export const NO_FAULT: FaultDecision = { latencyMs: 0, outcome: { kind: 'none' } };

export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  private readonly patterns = new Map<string, RegExp>();
  private dice: () => number;

  constructor(seed: number, rules: FaultRule[] = []) {
    this.dice = mulberry32(seed);
    for (const rule of rules) this.add(rule);
  }

  add(rule: FaultRule): ActiveFault {
    const parsed = FaultRuleSchema.safeParse(rule);
    if (!parsed.success) throw new Error(`invalid fault rule: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const active: ActiveFault = { ...parsed.data, id: `fault-${this.nextId++}`, fired: 0 };
    this.rules.push(active);
    return active;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): ActiveFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Decides what happens to one request; the common no-rules case costs one length check. */
  decide(route: string, method: string, account: string | undefined, plane: 'data' | 'arm'): FaultDecision {
    if (this.rules.length === 0) return NO_FAULT;
    let latencyMs = 0;
    let outcome: FaultOutcome = { kind: 'none' };
    for (const rule of [...this.rules]) {
      if (!this.matches(rule, route, method, account)) continue;
      if (rule.action !== 'latency' && outcome.kind !== 'none') continue;
      if (rule.rate < 1 && this.dice() >= rule.rate) continue;
      rule.fired++;
      if (rule.times !== undefined && rule.fired >= rule.times) this.remove(rule.id);
      switch (rule.action) {
        case 'latency':
          latencyMs += rule.latencyMs ?? 1000;
          break;
        case 'error':
          outcome = { kind: 'error', error: faultError(rule.status ?? 500, rule.retryAfterMs, plane, route) };
          break;
        case 'drop':
          outcome = { kind: 'drop' };
          break;
        case 'lostResponse':
          outcome = { kind: 'lostResponse', error: faultError(rule.status ?? 500, rule.retryAfterMs, plane, route) };
          break;
        case 'lostConnection':
          outcome = { kind: 'lostConnection' };
          break;
      }
    }
    return { latencyMs, outcome };
  }

  private matches(rule: ActiveFault, route: string, method: string, account: string | undefined): boolean {
    if (rule.method && rule.method.toUpperCase() !== method) return false;
    if (rule.account && rule.account.toLowerCase() !== account?.toLowerCase()) return false;
    if (rule.route === '*') return true;
    let pattern = this.patterns.get(rule.route);
    if (!pattern) {
      pattern = new RegExp(`^${rule.route.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      this.patterns.set(rule.route, pattern);
    }
    return pattern.test(route);
  }
}

/** The error Azure sends for a throttled or failing request, with its retry hints. */
function faultError(status: number, retryAfterMs: number | undefined, plane: 'data' | 'arm', route: string): ApiError {
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503 || retryAfterMs !== undefined) {
    const ms = retryAfterMs ?? 1000;
    headers['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
    headers['retry-after-ms'] = String(ms);
    if (status === 429) headers['x-ratelimit-remaining-requests'] = '0';
  }
  if (status === 429) {
    const seconds = headers['retry-after'] ?? '1';
    return plane === 'arm'
      ? new ApiError(429, 'TooManyRequests', `The request was throttled. Retry after ${seconds} seconds.`, undefined, headers)
      : new ApiError(429, '429', `Requests to the OpenAI API have exceeded the call rate limit of your current pricing tier. Please retry after ${seconds} seconds.`, undefined, headers);
  }
  // Data plane: the dated spec's `ErrorCode` enum (serviceUnavailable, internalFailure); ARM: ARM's usual codes.
  if (status === 503) return new ApiError(503, plane === 'arm' ? 'ServiceUnavailable' : 'serviceUnavailable', 'The service is temporarily unavailable. Please retry.', undefined, headers);
  if (status >= 500) return new ApiError(status, plane === 'arm' ? 'InternalServerError' : INTERNAL_FAILURE, 'The server had an error while processing your request. Sorry about that!', undefined, headers);
  // Recorded (2025-11-15-preview, azure-sdk-assets python azure-ai-projects test_finetuning_retrieve_dpo_job): a cancel
  // just after the create answered this 409 once; the SDK's retry a second later cancelled the job.
  if (status === 409 && route === 'jobs.cancel') return new ApiError(409, 'unexpectedEntityState', 'This item cannot be canceled at this moment. please try again.', undefined, headers);
  return new ApiError(status, String(status), `Injected fault ${status}.`, undefined, headers);
}

/** Small deterministic PRNG (mulberry32): uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
