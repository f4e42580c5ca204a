import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { azureErrorInfo, callAzure, azureFailure } from '../src/azure/errors';
import { confineDataPath } from '../src/config/data-roots';
import { EvalSetError, parseEvalSet, type EvalItem } from '../src/evaluation/eval-set';
import { GradersSchema, type GraderInput } from '../src/evaluation/graders';
import { analyzeMetrics, parseResultsCsv, ResultsCsvError } from '../src/evaluation/metrics';
import { buildGraders, GraderConfigError, type Judge } from '../src/evaluation/scoring';
import { DEFAULT_BACKOFF, JudgeUnusableError, runEval, withBackoff, type BackoffPolicy, type RetryAdvice } from '../src/evaluation/runner';
import { DEPLOYMENT_GONE, type CheckpointPolicy, type CheckpointSummary, type EvalScore, type MetricsAnalysis } from '../src/pipeline/types';
import { BUILTIN_CATALOG, isReasoningModel } from '../src/catalog';
import { evalProgressSignal } from '../workflows/messages';
import { armDeploymentExists } from './azure-access';
import { awaitServing, notServingYet, type NotServingYet } from './deployments';
import type { ActivityDeps, AzureAccess } from './deps';

export interface AnalyzeJobMetricsInput {
  profile: string;
  jobId: string;
  /** results.csv's file id (the job's first result file); null analyses the checkpoints' own metrics only. */
  resultFileId: string | null;
  checkpoints: CheckpointSummary[];
  policy?: CheckpointPolicy;
}

export interface RunEvalSetInput {
  profile: string;
  /** The deployment answering the eval items. */
  deployment: string;
  /** What is evaluated (a checkpoint's model name, or the baseline's), as the score table shows it. */
  candidate: string;
  /**
   * The model the deployment serves (a checkpoint's model name, a base model): reasoning models get no `temperature`.
   * When absent it is read from the deployment (ARM).
   */
  servedModel?: string;
  kind: EvalScore['kind'];
  /** A JSONL file on the worker's machine. */
  evalSetPath: string;
  /** Grader configs (see src/evaluation/graders.ts); exact match when omitted. */
  graders?: GraderInput[];
  /** Chat completions in flight at once (default 4). */
  concurrency?: number;
  /** Backoff above the SDK's own retries for throttled calls; the default suits Azure. */
  backoff?: BackoffPolicy;
  /**
   * The progress an earlier call scored before Azure deleted its deployment (the `DeploymentGone` failure's details):
   * the eval on the recreated deployment goes on from there instead of asking those items again.
   */
  resumeFrom?: unknown;
  /**
   * The deployment is new and was not smoke-tested: its first answer is the smoke test. Until the deployment has
   * answered once (no heartbeat yet), the first item is asked alone, without in-process retries, and while Azure
   * answers that it does not serve yet the attempt ends and Temporal calls again after `intervalSeconds`, holding no
   * slot, up to `timeoutSeconds` (default 600) after the first attempt: as smokeTestDeployment waits.
   */
  firstAnswerIsSmokeTest?: { intervalSeconds?: number; timeoutSeconds?: number };
}

/**
 * The parts of an eval set after each of which its run is told the items scored (after its first answer too). Each
 * notice is a signal: an event, and often a workflow task of its own. Per tenth, the notices were most of the
 * evaluate stage's work for Temporal (44 of the demo's 45 signals); the last part is not told, the result follows.
 */
const EVAL_PROGRESS_PARTS = 4;

/**
 * Tells the run the items scored so far (the workflow cannot read this activity's heartbeats): a signal to its own
 * execution after the first answer and whenever another quarter of the set is done, short of all of it, sent one after
 * another and never failing the eval. `sent()` waits for them, so the last notice reaches the run before the result.
 */
function evalProgressNotices(context: Context, deployment: string): { scored(done: number, total: number): void; sent(): Promise<void> } {
  let partsTold = -1;
  let chain = Promise.resolve();
  const execution = context.info.workflowExecution;
  return {
    scored(done, total) {
      if (!execution || done >= total) return;
      const parts = Math.floor((done * EVAL_PROGRESS_PARTS) / total);
      if (parts <= partsTold) return;
      partsTold = parts;
      chain = chain.then(async () => {
        try {
          await context.client.workflow.getHandle(execution.workflowId, execution.runId).signal(evalProgressSignal, { deployment, done, total });
        } catch (err) {
          context.log.debug(`eval progress ${done}/${total} not told to the run: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    },
    sent: () => chain,
  };
}

/** The deployment under evaluation answered DeploymentNotFound (Azure deleted it mid-eval: a Developer-tier one lives 24 hours). */
class DeploymentGoneError extends Error {}

/** A new deployment's first answer (its smoke test) said it does not serve yet. */
class NotServingYetError extends Error {
  constructor(readonly answer: NotServingYet) {
    super(answer.last);
  }
}

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;

/** Throttling, transient server errors, dropped connections and a deployment still warming up are worth waiting for. */
const chatRetryAdvice: RetryAdvice = (err) => {
  const info = azureErrorInfo(err);
  if (!info) return { retry: false };
  const transient = info.status === undefined || info.status === 408 || info.status === 429 || info.status >= 500 || info.code === 'DeploymentNotReady';
  return transient ? { retry: true, ...(info.retryAfterMs !== undefined ? { afterMs: info.retryAfterMs } : {}) } : { retry: false };
};

/** Reads and parses an eval set from the worker's data roots; every problem is a non-retryable InvalidEvalSet (or DatasetOutsideDataRoots). */
export async function readEvalSet(path: string, dataRoots: string[] | undefined): Promise<EvalItem[]> {
  try {
    return parseEvalSet(await readFile(await confineDataPath(path, dataRoots, 'eval set'), 'utf8'), path);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof EvalSetError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidEvalSet');
    throw ApplicationFailure.nonRetryable(`eval set ${path}: ${(err as Error).message}`, 'InvalidEvalSet');
  }
}

export function evaluationActivities(deps: ActivityDeps, azure: AzureAccess) {
  const dataRoots = deps.config.dataRoots;
  const catalog = deps.catalog ?? BUILTIN_CATALOG;
  /** The model a deployment serves, as ARM reports it. */
  const deployedModel = async (profile: string, deployment: string): Promise<string> => {
    const p = azure.profile(profile);
    const found = await callAzure(`get deployment ${deployment}`, () => azure.arm(profile).deployments.get(p.resourceGroup, p.account, deployment));
    return found.properties?.model?.name ?? '';
  };
  return {
    /**
     * Reads results.csv and the checkpoints' metrics, picks a checkpoint by policy and checks for overfitting. The CSV
     * stays inside the activity: only the analysis, with a curve of at most 200 rows, enters the workflow history.
     */
    async analyzeJobMetrics(input: AnalyzeJobMetricsInput): Promise<MetricsAnalysis> {
      let rows: ReturnType<typeof parseResultsCsv> = [];
      if (input.resultFileId) {
        const fileId = input.resultFileId;
        const text = await callAzure(`download results file ${fileId} of ${input.jobId}`, async () => (await azure.openaiV1(input.profile).files.content(fileId)).text());
        try {
          rows = parseResultsCsv(text);
        } catch (err) {
          if (err instanceof ResultsCsvError) throw ApplicationFailure.nonRetryable(`job ${input.jobId}, file ${fileId}: ${err.message}`, 'BadResultsCsv');
          throw err;
        }
      }
      if (input.checkpoints.length === 0) throw ApplicationFailure.nonRetryable(`job ${input.jobId} has no checkpoints to choose from`, 'NoCheckpoints');
      return analyzeMetrics({ checkpoints: input.checkpoints, rows, ...(input.policy ? { policy: input.policy } : {}) });
    },

    /**
     * Runs an eval set against a deployment and scores it. Heartbeats progress; honours cancellation. Only scores come
     * back: no eval item text enters the workflow history.
     */
    async runEvalSet(input: RunEvalSetInput): Promise<EvalScore> {
      const parsedGraders = GradersSchema.safeParse(input.graders);
      if (!parsedGraders.success) {
        const problems = parsedGraders.error.issues.map((i) => `graders.${i.path.join('.')}: ${i.message}`).join('; ');
        throw ApplicationFailure.nonRetryable(`invalid graders: ${problems}`, 'InvalidGraders');
      }
      const items = await readEvalSet(input.evalSetPath, dataRoots);
      const context = Context.current();
      const signal = context.cancellationSignal;
      const backoff = input.backoff ?? DEFAULT_BACKOFF;
      // Reasoning models (o-series) refuse `temperature`; the others answer deterministically-ish at 0.
      const reasoning = new Map<string, Promise<boolean>>();
      const isReasoning = (profile: string, deployment: string, served?: string): Promise<boolean> => {
        const key = `${profile}/${deployment}`;
        let known = reasoning.get(key);
        if (!known) {
          known = served !== undefined ? Promise.resolve(isReasoningModel(served, catalog)) : deployedModel(profile, deployment).then((m) => isReasoningModel(m, catalog));
          reasoning.set(key, known);
        }
        return known;
      };
      /** One answer; `smokeTest`: a new deployment's first, asked once (Temporal waits if it does not serve yet). */
      const chat = async (profile: string, deployment: string, messages: { role: 'system' | 'user' | 'assistant'; content: string }[], operation: string, served?: string, smokeTest = false): Promise<string> => {
        const sampling = (await isReasoning(profile, deployment, served)) ? {} : { temperature: 0 };
        const ask = () => azure.openai(profile).chat.completions.create({ model: deployment, messages, ...sampling }, smokeTest ? { maxRetries: 0, signal } : { signal });
        try {
          const completion = smokeTest ? await ask() : await withBackoff(ask, chatRetryAdvice, backoff, signal);
          return completion.choices[0]?.message.content ?? '';
        } catch (err) {
          if (signal.aborted) throw err;
          const notYet = smokeTest ? notServingYet(err) : undefined;
          if (notYet) throw new NotServingYetError(notYet);
          if (deployment === input.deployment && profile === input.profile && azureErrorInfo(err)?.code === 'DeploymentNotFound') throw new DeploymentGoneError(`${operation}: Azure answered HTTP 404 DeploymentNotFound`);
          throw azureFailure(err, operation);
        }
      };
      const judge: Judge = (grader, messages) => chat(grader.profile ?? input.profile, grader.deployment, messages, `ask judge deployment ${grader.deployment}`);
      let graders;
      try {
        graders = buildGraders(parsedGraders.data, judge);
      } catch (err) {
        if (err instanceof GraderConfigError) throw ApplicationFailure.nonRetryable(`invalid graders: ${err.message}`, 'InvalidGraders');
        throw err;
      }
      const concurrency = Math.min(MAX_CONCURRENCY, Math.max(1, Math.floor(input.concurrency ?? DEFAULT_CONCURRENCY)));
      // A retry after a crash picks up after the items its last heartbeat had finished; a call on a recreated
      // deployment after those its predecessor had.
      const resumeFrom: unknown = context.info.heartbeatDetails ?? input.resumeFrom;
      let progress: unknown = resumeFrom;
      const notices = evalProgressNotices(context, input.deployment);
      // An earlier attempt's heartbeat means the deployment has answered: its smoke test is behind it.
      let smokeTest = context.info.heartbeatDetails === undefined ? input.firstAnswerIsSmokeTest : undefined;
      const complete = async (messages: EvalItem['messages']): Promise<string> => {
        const answer = await chat(input.profile, input.deployment, messages, `chat completion on deployment ${input.deployment}`, input.servedModel, smokeTest !== undefined);
        smokeTest = undefined;
        return answer;
      };
      try {
        const result = await runEval({
          items,
          graders,
          concurrency,
          signal,
          complete,
          firstAlone: smokeTest !== undefined,
          resumeFrom,
          onProgress: (p) => {
            progress = p;
            context.heartbeat(p);
            notices.scored(p.done, p.total);
          },
        });
        await notices.sent();
        if (result.resumed > 0) context.log.info(`resumed the eval on ${input.deployment} after ${result.resumed} items scored by an earlier attempt`);
        if (result.unscoredByJudge > 0) context.log.warn(`${result.unscoredByJudge} judge answers on ${input.deployment} held no score; counted as 0`);
        return { candidate: input.candidate, kind: input.kind, items: result.items, score: result.score, perGrader: result.perGrader };
      } catch (err) {
        if (err instanceof JudgeUnusableError) throw ApplicationFailure.nonRetryable(err.message, 'JudgeUnusable');
        if (err instanceof NotServingYetError) return awaitServing(input.deployment, err.answer, input.firstAnswerIsSmokeTest ?? {});
        if (err instanceof DeploymentGoneError) {
          // A data-plane 404 can also mean "not serving yet": only ARM's 404 says the deployment is gone.
          if (await armDeploymentExists(azure, input.profile, input.deployment)) throw ApplicationFailure.retryable(`${err.message}: DeploymentNotFound while ARM lists the deployment; trying again`, 'DeploymentNotServing');
          throw ApplicationFailure.create({
            message: `${err.message}, and ARM does not list deployment ${input.deployment}: it does not exist (any more: a Developer-tier deployment is deleted 24 hours after it was created); the eval of ${input.candidate} stopped there`,
            type: DEPLOYMENT_GONE,
            nonRetryable: true,
            details: [progress ?? null],
          });
        }
        throw err;
      }
    },
  };
}
