import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BUILTIN_CATALOG, catalogForProfile, type Catalog } from '../src/catalog';
import { confineDataPath } from '../src/config/data-roots';
import { formatIssue, validateDataset, type ValidationReport } from '../src/dataset';
import type { Method } from '../src/pipeline/input';
import type { ValidationSummary } from '../src/pipeline/types';
import type { ActivityDeps } from './deps';

export interface ValidateTrainingDataInput {
  /** Absent when the training data is a URL or a file id (only the local validation file is checked then). */
  trainingPath?: string;
  validationPath?: string;
  model: string;
  method: Method['type'];
  nEpochs?: number;
  /** The run's profile, whose own catalogue entries (a model Azure added since) count as preflight's do; absent in runs from before. */
  profile?: string;
}

/** Issues shown in history, status and failure messages: enough to fix the first lines, small enough for history. */
const SHOWN_ISSUES = 10;

export function summarizeReport(report: ValidationReport): ValidationSummary {
  const training = report.files.find((f) => f.role === 'training');
  const validation = report.files.find((f) => f.role === 'validation');
  return {
    valid: report.valid,
    model: report.model,
    examples: { training: training?.examples ?? 0, validation: validation?.examples ?? null },
    errorCount: report.errorCount,
    warningCount: report.warningCount,
    errors: report.errors.slice(0, SHOWN_ISSUES).map(formatIssue),
    warnings: report.warnings.slice(0, SHOWN_ISSUES).map(formatIssue),
    tokens: { training: training?.tokens.totalTokens ?? 0, trainable: training?.tokens.trainableTokens ?? 0, validation: validation?.tokens.totalTokens ?? null },
    epochs: report.epochs,
    billedTokensEstimate: report.billedTokensEstimate,
    files: report.files.map((f) => ({ role: f.role, path: f.path, uploadSha256: f.uploadSha256, uploadBytes: f.uploadBytes, hasBom: f.hasBom })),
  };
}

/** A dataset path may name a directory (a schedule's drop folder): its newest .jsonl file is the dataset. Both confined to the data roots. */
async function resolveDataFile(requested: string, dataRoots: string[] | undefined): Promise<string> {
  const path = await confineDataPath(requested, dataRoots);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`dataset ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, 'DatasetUnreadable');
  }
  if (!info.isDirectory()) return path;
  const candidates = await Promise.all(
    (await readdir(path)).filter((name) => name.endsWith('.jsonl')).map(async (name) => ({ file: join(path, name), mtime: (await stat(join(path, name))).mtimeMs })),
  );
  const newest = candidates.sort((a, b) => b.mtime - a.mtime || a.file.localeCompare(b.file))[0];
  if (!newest) throw ApplicationFailure.nonRetryable(`dataset directory ${path} holds no .jsonl file`, 'DatasetUnreadable');
  return confineDataPath(newest.file, dataRoots);
}

/** The catalogue preflight judged the run against: the worker's, extended by the profile's own entries. */
function catalogOfProfile(deps: ActivityDeps, profileName: string | undefined): Catalog {
  const base = deps.catalog ?? BUILTIN_CATALOG;
  const profile = profileName === undefined ? undefined : deps.config.profiles.find((p) => p.name === profileName);
  return profile ? catalogForProfile(base, profile) : base;
}

export function datasetActivities(deps: ActivityDeps) {
  return {
    /** Validates local dataset files; an invalid dataset fails the run at once (nothing is uploaded). */
    async validateTrainingData(input: ValidateTrainingDataInput): Promise<ValidationSummary> {
      const context = Context.current();
      let report: ValidationReport;
      try {
        const trainingFile = input.trainingPath ? await resolveDataFile(input.trainingPath, deps.config.dataRoots) : undefined;
        const validationFile = input.validationPath ? await resolveDataFile(input.validationPath, deps.config.dataRoots) : undefined;
        // Validations wait for a turn in Temporal (their own task queue, a few slots per worker), not here; all of
        // them share the process's tokenizer threads (src/dataset/pool.ts).
        report = await validateDataset({
          ...(trainingFile ? { trainingFile } : {}),
          ...(validationFile ? { validationFile } : {}),
          model: input.model,
          method: input.method,
          ...(input.nEpochs !== undefined ? { nEpochs: input.nEpochs } : {}),
          catalog: catalogOfProfile(deps, input.profile),
          // Preflight judged model and method against the profile's dated catalogue; Azure judges what it does not list.
          unlistedMethod: 'accept',
          maxIssues: SHOWN_ISSUES,
          // Progress keeps the activity alive (the SDK throttles heartbeats); cancellation stops the validator.
          onProgress: (progress) => context.heartbeat(progress),
          signal: context.cancellationSignal,
        });
      } catch (err) {
        if (context.cancellationSignal.aborted || err instanceof ApplicationFailure) throw err;
        throw ApplicationFailure.nonRetryable(`dataset validation could not run: ${(err as Error).message}`, 'DatasetUnreadable');
      }
      const summary = summarizeReport(report);
      if (!summary.valid) {
        const more = summary.errorCount - summary.errors.length;
        throw ApplicationFailure.create({
          message: `the dataset is invalid (${summary.errorCount} error${summary.errorCount === 1 ? '' : 's'}); nothing was uploaded:\n${summary.errors.join('\n')}${more > 0 ? `\n... and ${more} more` : ''}`,
          type: 'InvalidDataset',
          nonRetryable: true,
          details: [summary],
        });
      }
      return summary;
    },
  };
}
