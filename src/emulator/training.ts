/**
 * The training simulation, as pure functions of a job's plan: how many steps it takes, how long a step lasts,
 * and the loss curves. Curves are deterministic per seed. Validation loss falls until the plan's ideal epoch,
 * then rises (overfitting), so picking a checkpoint matters; a model's "skill" (used by inference.ts) is derived
 * from its full validation loss.
 */
import type { Timings } from './config';
import { mulberry32 } from './faults';

export interface TrainingPlan {
  examples: number;
  tokensPerEpoch: number;
  batchSize: number;
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  stepMs: number;
  /** Where on the curve training starts, in epochs: a job continuing a fine-tuned model starts part-way. */
  headStartEpochs: number;
  learningRateMultiplier: number;
  hasValidation: boolean;
  curve: LossCurve;
}

/** v(x) = floor + amplitude * exp(-3x / ideal) + overfit * max(0, x - ideal)^2, x = effective epochs trained. */
export interface LossCurve {
  seed: number;
  floor: number;
  amplitude: number;
  overfit: number;
  /** Effective epochs at which validation loss is lowest. */
  idealEpochs: number;
}

export interface StepMetrics {
  step: number;
  train_loss: number;
  train_mean_token_accuracy: number;
  valid_loss: number | null;
  valid_mean_token_accuracy: number | null;
  full_valid_loss: number | null;
  full_valid_mean_token_accuracy: number | null;
}

export const RESULTS_CSV_HEADER = 'step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy';

/** "auto" hyperparameters resolved the way OpenAI describes them: small datasets get batch 1. */
export function autoBatchSize(examples: number): number {
  return Math.min(256, Math.max(1, Math.ceil(examples * 0.002)));
}

/**
 * "auto" n_epochs: 3, raised so that a small training set is seen at least 100 times in all, lowered so that a large
 * one is seen at most 25,000 times, within 1..25 (the rule OpenAI's cookbook publishes, Chat_finetuning_data_prep).
 * Recorded on Azure: jobs created with empty hyperparameters on the .NET SDK tests' 11-example file resolved to
 * n_epochs 9 = floor(100 / 11), batch_size 1 (azure-sdk-assets net Azure.AI.OpenAI FineTuningTests, 2024-2025: the
 * job lists of DeployAndChatWithModel and CheckpointsFineTuning, checkpoints at steps 99, 88, 77). The same rule as
 * ftpipe's estimate (src/dataset/statistics.ts), written apart on purpose: the emulator shares nothing with the
 * pipeline, so that a mistake in one cannot be confirmed by the other (docs/emulator.md).
 */
export function autoEpochs(examples: number): number {
  if (examples <= 0) return 3;
  if (examples * 3 < 100) return Math.min(25, Math.floor(100 / examples));
  if (examples * 3 > 25_000) return Math.max(1, Math.floor(25_000 / examples));
  return 3;
}
export const AUTO_LEARNING_RATE_MULTIPLIER = 1;

export function lossCurve(seed: number): LossCurve {
  const rng = mulberry32(seed ^ 0x5eed);
  return {
    seed,
    floor: round4(0.25 + 0.2 * rng()),
    amplitude: round4(1.6 + 0.6 * rng()),
    overfit: round4(0.25 + 0.15 * rng()),
    idealEpochs: 2 + Math.floor(rng() * 2),
  };
}

export interface PlanInput {
  examples: number;
  tokensPerEpoch: number;
  batchSize: number;
  epochs: number;
  learningRateMultiplier: number;
  seed: number;
  headStartEpochs: number;
  hasValidation: boolean;
  timings: Timings;
}

export function planTraining(input: PlanInput): TrainingPlan {
  const stepsPerEpoch = Math.max(1, Math.ceil(input.examples / input.batchSize));
  const tokensPerStep = (input.tokensPerEpoch / Math.max(1, input.examples)) * input.batchSize;
  const stepSeconds = input.timings.stepBaseSeconds + (input.timings.stepSecondsPer1kTokens * tokensPerStep) / 1000;
  return {
    examples: input.examples,
    tokensPerEpoch: input.tokensPerEpoch,
    batchSize: input.batchSize,
    epochs: input.epochs,
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * input.epochs,
    stepMs: Math.round(stepSeconds * 1000),
    headStartEpochs: input.headStartEpochs,
    learningRateMultiplier: input.learningRateMultiplier,
    hasValidation: input.hasValidation,
    curve: lossCurve(input.seed),
  };
}

/** Effective epochs after `step` steps: the head start plus this job's epochs, scaled by the learning rate. */
export function effectiveEpochs(plan: TrainingPlan, step: number): number {
  return plan.headStartEpochs + (step / plan.stepsPerEpoch) * Math.sqrt(plan.learningRateMultiplier);
}

export function validationLoss(curve: LossCurve, x: number): number {
  const over = Math.max(0, x - curve.idealEpochs);
  return curve.floor + curve.amplitude * Math.exp((-3 * x) / curve.idealEpochs) + curve.overfit * over * over;
}

function trainingLoss(curve: LossCurve, x: number): number {
  return (curve.floor * 0.9) / (1 + 0.3 * x) + curve.amplitude * Math.exp((-3.5 * x) / curve.idealEpochs);
}

const accuracy = (loss: number): number => round4(Math.min(0.995, Math.max(0.05, 1 - 0.32 * loss)));

/** Mini-batch noise of +-5%, a pure function of seed, step and channel. */
function noise(seed: number, step: number, channel: number): number {
  return 1 + (mulberry32((seed * 31 + step) * 7 + channel)() - 0.5) * 0.1;
}

export function metricsAt(plan: TrainingPlan, step: number, fullValidation: boolean): StepMetrics {
  const x = effectiveEpochs(plan, step);
  const train = round4(trainingLoss(plan.curve, x) * noise(plan.curve.seed, step, 1));
  const valid = plan.hasValidation ? round4(validationLoss(plan.curve, x) * noise(plan.curve.seed, step, 2)) : null;
  const fullValid = plan.hasValidation && fullValidation ? round4(validationLoss(plan.curve, x)) : null;
  return {
    step,
    train_loss: train,
    train_mean_token_accuracy: accuracy(train),
    valid_loss: valid,
    valid_mean_token_accuracy: valid === null ? null : accuracy(valid),
    full_valid_loss: fullValid,
    full_valid_mean_token_accuracy: fullValid === null ? null : accuracy(fullValid),
  };
}

/**
 * Skill in [0, 0.95]: how far the model's validation loss has come down from the untrained loss towards the
 * curve's floor. It rises until the ideal epoch and falls after it, like the validation loss mirrored.
 */
export function skillAt(plan: TrainingPlan, step: number): number {
  const curve = plan.curve;
  const untrained = curve.floor + curve.amplitude;
  const loss = validationLoss(curve, effectiveEpochs(plan, step));
  return round4(0.95 * Math.min(1, Math.max(0, (untrained - loss) / (untrained - curve.floor))));
}

export function isEpochEnd(plan: TrainingPlan, step: number): boolean {
  return step > 0 && step % plan.stepsPerEpoch === 0;
}

/** results.csv as Azure writes it: one row per step; full validation columns only at epoch ends. */
export function resultsCsv(plan: TrainingPlan, steps: number): string {
  const cell = (v: number | null): string => (v === null ? '' : String(v));
  const rows = [RESULTS_CSV_HEADER];
  for (let step = 1; step <= steps; step++) {
    const m = metricsAt(plan, step, isEpochEnd(plan, step) || step === steps);
    rows.push(
      [m.step, m.train_loss, m.train_mean_token_accuracy, cell(m.valid_loss), cell(m.valid_mean_token_accuracy), cell(m.full_valid_loss), cell(m.full_valid_mean_token_accuracy)].join(','),
    );
  }
  return rows.join('\n') + '\n';
}

function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}
