import { ApplicationFailure } from '@temporalio/common';
import { BUILTIN_CATALOG, type DeploymentType, CatalogConfigError, assessTrainingPlan, catalogForProfile, deploymentTypesFor, normalizeRegion, versionedModelId, type ModelEntry } from '../src/catalog';
import { GradersSchema } from '../src/evaluation/graders';
import { checkDeploymentCapacity, EVALUATION_DEPLOYMENT, type PlannedCapacity } from './capacity';
import { readEvalSet } from './evaluation';
import { accountResourceId, type AzureProfile } from '../src/config/profile';
import type { CopyRequest, PipelineInput } from '../src/pipeline/input';
import type { PreflightResult } from '../src/pipeline/types';
import type { ActivityDeps, AzureAccess } from './deps';

export type PreflightInput = Pick<PipelineInput, 'profile' | 'baseModel' | 'trainingType' | 'method'> & {
  /** What the run will create or read after training, checked now so that a mistake fails before any Azure write. */
  deployment?: { type: string; capacity: number } | undefined;
  evalSetPath?: string | undefined;
  graders?: unknown;
  copies?: CopyRequest[];
};

/** Checks a run against the worker's profile and the catalogue before anything is uploaded or created. */
export function preflightActivities(deps: ActivityDeps, azure: AzureAccess) {
  const catalog = deps.catalog ?? BUILTIN_CATALOG;
  /** A copy's destination deploy: its profile exists on this worker, names that account and region, and offers the type. */
  const checkCopy = (copy: CopyRequest, field: string, entry: ModelEntry | undefined): void => {
    if (!copy.deploy) return;
    const known = deps.config.profiles.map((p) => p.name);
    const destination = deps.config.profiles.find((p) => p.name === copy.deploy!.profile);
    if (!destination) throw ApplicationFailure.nonRetryable(`${field}.deploy.profile: unknown profile "${copy.deploy.profile}"; this worker has: ${known.join(', ') || '(none configured)'}`, 'UnknownProfile');
    const account = accountResourceId(destination);
    if (account.toLowerCase() !== copy.destinationResourceId.toLowerCase()) {
      throw ApplicationFailure.nonRetryable(`${field}.deploy.profile: profile "${destination.name}" is account ${account}, not the copy's destination ${copy.destinationResourceId}; use the profile of the destination account`, 'CopyProfileMismatch');
    }
    const region = normalizeRegion(destination.region);
    if (normalizeRegion(copy.region) !== region) {
      throw ApplicationFailure.nonRetryable(`${field}.region: "${copy.region}" is not the region of the destination account (profile "${destination.name}" is in ${region})`, 'CopyRegionMismatch');
    }
    // A model the catalogue does not list (a warning, not a refusal) has no deployment table to check against.
    if (!entry) return;
    const offered = deploymentTypesFor(entry, region);
    if (!offered.includes(copy.deploy.type)) {
      throw ApplicationFailure.nonRetryable(`${field}.deploy.type: deployment type "${copy.deploy.type}" is not offered for fine-tuned ${entry.id} in ${region}; accepted there: ${offered.join(', ') || 'none'}`, 'DeploymentTypeNotAvailable');
    }
  };
  /** The deployments the run will make, with the capacity each asks for (copies' profiles are known by now). */
  const plannedCapacity = (input: PreflightInput, profile: AzureProfile): PlannedCapacity[] => [
    ...(input.evalSetPath !== undefined ? [{ field: 'evaluation.evalSet (each checkpoint)', profile, ...EVALUATION_DEPLOYMENT, lasting: false }] : []),
    ...(input.deployment ? [{ field: 'deployment.capacity', profile, type: input.deployment.type as DeploymentType, capacity: input.deployment.capacity, lasting: true }] : []),
    ...(input.copies ?? []).flatMap((copy, i) => {
      const destination = copy.deploy && deps.config.profiles.find((p) => p.name === copy.deploy!.profile);
      return copy.deploy && destination ? [{ field: `copies.${i}.deploy.capacity`, profile: destination, type: copy.deploy.type, capacity: copy.deploy.capacity, lasting: true }] : [];
    }),
  ];
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
      const checkDeploymentType = (field: string, type: string, where: string, label: string): void => {
        if (!entry) return;
        const offered = deploymentTypesFor(entry, where);
        if (!offered.includes(type as never)) {
          throw ApplicationFailure.nonRetryable(`${field}: deployment type "${type}" is not offered for fine-tuned ${entry.id} in ${where} (${label}); accepted there: ${offered.join(', ') || 'none'}`, 'DeploymentTypeNotAvailable');
        }
      };
      if (input.deployment) checkDeploymentType('deployment.type', input.deployment.type, region, `profile "${profile.name}"`);
      if (input.graders !== undefined) {
        const graders = GradersSchema.safeParse(input.graders);
        if (!graders.success) throw ApplicationFailure.nonRetryable(`invalid graders: ${graders.error.issues.map((i) => `evaluation.graders.${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidGraders');
      }
      if (input.evalSetPath !== undefined) {
        const items = await readEvalSet(input.evalSetPath, deps.config.dataRoots);
        if (items.length === 0) throw ApplicationFailure.nonRetryable(`evaluation.evalSet.path: eval set ${input.evalSetPath} has no items; it needs at least one {"messages", "reference"} line`, 'InvalidEvalSet');
      }
      (input.copies ?? []).forEach((copy, i) => checkCopy(copy, `copies.${i}`, entry));
      const capacityWarnings = entry ? await checkDeploymentCapacity(entry, plannedCapacity(input, profile), (p) => azure.arm(p.name)) : [];
      return {
        region, accountResourceId: accountResourceId(profile), catalogModel: entry ? versionedModelId(entry) : input.baseModel, continuousFineTuning: fineTuned,
        warnings: [...assessed.warnings, ...capacityWarnings],
      };
    },
  };
}
