import { ApplicationFailure } from '@temporalio/common';
import { BUILTIN_CATALOG, CatalogConfigError, assessTrainingPlan, catalogForProfile, normalizeRegion, versionedModelId } from '../src/catalog';
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
      const region = normalizeRegion(profile.region);
      let profileCatalog;
      try {
        profileCatalog = catalogForProfile(catalog, profile);
      } catch (err) {
        if (err instanceof CatalogConfigError) throw ApplicationFailure.nonRetryable(err.message, 'CatalogConfig');
        throw err;
      }
      const assessed = assessTrainingPlan(
        { model: input.baseModel, method: input.method.type, trainingType: input.trainingType, region },
        profileCatalog,
        profile.catalog?.strict ?? false,
      );
      if (assessed.refusal) throw ApplicationFailure.nonRetryable(`${assessed.refusal.message} (profile "${profile.name}")`, assessed.refusal.type);
      const { entry, fineTuned } = assessed;
      return {
        region, accountResourceId: accountResourceId(profile), catalogModel: entry ? versionedModelId(entry) : input.baseModel, continuousFineTuning: fineTuned,
        warnings: assessed.warnings,
      };
    },
  };
}
