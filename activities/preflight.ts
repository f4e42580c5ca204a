import { ApplicationFailure } from '@temporalio/common';
import { BUILTIN_CATALOG, normalizeRegion, resolveModel, trainingTypesFor, versionedModelId } from '../src/catalog';
import { accountResourceId } from '../src/config/profile';
import type { PipelineInput } from '../src/pipeline/input';
import type { PreflightResult } from '../src/pipeline/types';
import type { ActivityDeps, AzureAccess } from './deps';

export type PreflightInput = Pick<PipelineInput, 'profile' | 'baseModel' | 'trainingType' | 'method'>;

/** Checks a run against the worker's profile and the catalogue before anything is uploaded or created. */
export function preflightActivities(deps: ActivityDeps, azure: AzureAccess) {
  const catalog = deps.catalog ?? BUILTIN_CATALOG;
  return {
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      const profile = azure.profile(input.profile);
      const resolved = resolveModel(input.baseModel, catalog);
      if (!resolved) {
        const known = catalog.models.map((m) => m.id).join(', ');
        throw ApplicationFailure.nonRetryable(
          `baseModel "${input.baseModel}" is not in the model catalogue (known: ${known}); add it with FTPIPE_CATALOG if Azure offers it`,
          'UnknownModel',
        );
      }
      const { entry, fineTuned } = resolved;
      if (!entry.methods.includes(input.method.type)) {
        throw ApplicationFailure.nonRetryable(
          `method "${input.method.type}" is not available for ${entry.id}; it supports: ${entry.methods.join(', ')}`,
          'MethodNotSupported',
        );
      }
      const region = normalizeRegion(profile.region);
      const types = trainingTypesFor(entry, region, catalog);
      if (!types.includes(input.trainingType)) {
        throw ApplicationFailure.nonRetryable(
          `trainingType "${input.trainingType}" is not available for ${entry.id} from ${region} (profile "${profile.name}"); available there: ${types.join(', ') || 'none'}`,
          'TrainingTypeNotAvailable',
        );
      }
      return { region, accountResourceId: accountResourceId(profile), catalogModel: versionedModelId(entry), continuousFineTuning: fineTuned };
    },
  };
}
