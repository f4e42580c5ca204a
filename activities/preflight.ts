import { ApplicationFailure } from '@temporalio/common';
import {
  BUILTIN_CATALOG, CatalogConfigError, EVALUATION_DEPLOYMENT, assessDeploymentPlan, assessTrainingPlan, baselineDeployment, catalogForProfile, normalizeRegion, resolveModel, versionedModelId,
  type Catalog, type DeploymentType, type ModelEntry,
} from '../src/catalog';
import { GradersSchema } from '../src/evaluation/graders';
import { checkDeploymentCapacity, type PlannedCapacity } from './capacity';
import { readEvalSet } from './evaluation';
import { accountResourceId, type AzureProfile } from '../src/config/profile';
import { DATED_API_VERSION, FIRST_DATED_METHOD_API_VERSION, datedApiVersionTakesMethod, sendsMethodAtProfileApiVersion } from '../src/azure/requests';
import type { CopyRequest, PipelineInput } from '../src/pipeline/input';
import type { PreflightResult } from '../src/pipeline/types';
import type { ActivityDeps, AzureAccess } from './deps';

export type PreflightInput = Pick<PipelineInput, 'profile' | 'baseModel' | 'trainingType' | 'method'> & {
  /** The job the run carries on from: it creates none, so the job create's checks are skipped. */
  fromJob?: string | undefined;
  /** What the run will create or read after training, checked now so that a mistake fails before any Azure write. */
  deployment?: { type: string; capacity: number } | undefined;
  evalSetPath?: string | undefined;
  /** `evaluation.baseline.model`, given only when the run has an eval set (it is deployed to score it: src/catalog baselineDeployment). */
  baselineModel?: string | undefined;
  graders?: unknown;
  copies?: CopyRequest[];
};

/** A deployment the run will create: the input field that asks for it, and the profile (with its catalogue) it goes to. */
interface PlannedDeployment {
  field: string;
  type: DeploymentType;
  profile: AzureProfile;
  catalog: Catalog;
}

/** The catalogue a profile sees; a bad `catalog` entry in it fails the run at once, naming the field. */
function profileCatalogOf(base: Catalog, profile: AzureProfile): Catalog {
  try {
    return catalogForProfile(base, profile);
  } catch (err) {
    if (err instanceof CatalogConfigError) throw ApplicationFailure.nonRetryable(err.message, 'CatalogConfig');
    throw err;
  }
}

/**
 * A copy's destination deploy: its profile exists on this worker and names the copy's account and region. Returns that
 * profile (undefined for a copy without deploy); `field` is the copy's input field, e.g. `copies.0`.
 */
export function checkCopyDestination(profiles: AzureProfile[], copy: { destinationResourceId: string; region: string; deploy?: { profile: string } | undefined }, field: string): AzureProfile | undefined {
  if (!copy.deploy) return undefined;
  const known = profiles.map((p) => p.name);
  const destination = profiles.find((p) => p.name === copy.deploy!.profile);
  if (!destination) throw ApplicationFailure.nonRetryable(`${field}.deploy.profile: unknown profile "${copy.deploy.profile}"; this worker has: ${known.join(', ') || '(none configured)'}`, 'UnknownProfile');
  const account = accountResourceId(destination);
  if (account.toLowerCase() !== copy.destinationResourceId.toLowerCase()) {
    throw ApplicationFailure.nonRetryable(`${field}.deploy.profile: profile "${destination.name}" is account ${account}, not the copy's destination ${copy.destinationResourceId}; use the profile of the destination account`, 'CopyProfileMismatch');
  }
  const region = normalizeRegion(destination.region);
  if (normalizeRegion(copy.region) !== region) {
    throw ApplicationFailure.nonRetryable(`${field}.region: "${copy.region}" is not the region of the destination account (profile "${destination.name}" is in ${region})`, 'CopyRegionMismatch');
  }
  return destination;
}

/**
 * The run's deployments against the dated catalogue: a type it does not list for the region is a warning (Azure judges
 * the deployment), or a refusal when the deployment's profile asks for strict catalogue checks.
 */
function deploymentWarnings(model: string, deployments: PlannedDeployment[]): string[] {
  const warnings: string[] = [];
  for (const d of deployments) {
    const assessed = assessDeploymentPlan({ model, type: d.type, region: d.profile.region }, d.catalog, d.profile.catalog?.strict ?? false);
    const where = `${d.field} (profile "${d.profile.name}")`;
    if (assessed.refusal) throw ApplicationFailure.nonRetryable(`${where}: ${assessed.refusal.message}`, assessed.refusal.type);
    // The training plan has refused a model the run's profile does not list; a copy's destination may still lack it.
    warnings.push(...assessed.warnings.map((w) => `${where}: ${w}`));
  }
  return warnings;
}

/**
 * The baseline's deployment as the catalogue sees it: a base model must be in it (its deployment names the model's
 * version, src/catalog baseModelDeployment); a fine-tuned one deploys on the Developer tier like the checkpoints.
 * Returns its capacity plan when its model is known, and the catalogue's warnings.
 */
function planBaseline(model: string, profile: AzureProfile, catalog: Catalog): { plan?: PlannedCapacity; warnings: string[] } {
  const how = baselineDeployment(model);
  const field = 'evaluation.baseline.model';
  const where = `${field} (profile "${profile.name}")`;
  const resolved = resolveModel(model, catalog);
  const warnings: string[] = [];
  if (how.base && !resolved) {
    throw ApplicationFailure.nonRetryable(
      `${where}: base model "${model}" is not in the model catalogue of ${catalog.date}, so the version to deploy it with is unknown; accepted: a base model it lists (${catalog.models.map((m) => m.id).join(', ')}), a fine-tuned model, an existing deployment as evaluation.baseline.deployment, or the model added to the profile's catalogue or FTPIPE_CATALOG`,
      'UnknownModel',
    );
  }
  if (!how.base) {
    const assessed = assessDeploymentPlan({ model, type: how.type, region: profile.region }, catalog, profile.catalog?.strict ?? false);
    if (assessed.refusal) throw ApplicationFailure.nonRetryable(`${where}: ${assessed.refusal.message}`, assessed.refusal.type);
    warnings.push(...assessed.warnings.map((w) => `${where}: ${w}`));
  }
  const plan = resolved ? { field, entry: resolved.entry, profile, type: how.type, capacity: how.capacity, lasting: false } : undefined;
  return { ...(plan ? { plan } : {}), warnings };
}

/** Checks a run against the worker's profile and the catalogue before anything is uploaded or created. */
export function preflightActivities(deps: ActivityDeps, azure: AzureAccess) {
  const catalog = deps.catalog ?? BUILTIN_CATALOG;
  /** The fine-tuned model's deployments, with the capacity each asks for (copies' profiles are known by now). */
  const plannedCapacity = (input: PreflightInput, profile: AzureProfile, entry: ModelEntry): PlannedCapacity[] => [
    ...(input.evalSetPath !== undefined ? [{ field: 'evaluation.evalSet (each checkpoint)', entry, profile, type: EVALUATION_DEPLOYMENT.type, capacity: EVALUATION_DEPLOYMENT.capacity, lasting: false }] : []),
    ...(input.deployment ? [{ field: 'deployment.capacity', entry, profile, type: input.deployment.type as DeploymentType, capacity: input.deployment.capacity, lasting: true }] : []),
    ...(input.copies ?? []).flatMap((copy, i) => {
      const destination = copy.deploy && deps.config.profiles.find((p) => p.name === copy.deploy!.profile);
      return copy.deploy && destination ? [{ field: `copies.${i}.deploy.capacity`, entry, profile: destination, type: copy.deploy.type, capacity: copy.deploy.capacity, lasting: true }] : [];
    }),
  ];
  return {
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      const profile = azure.profile(input.profile);
      const region = normalizeRegion(profile.region);
      const profileCatalog = profileCatalogOf(catalog, profile);
      const assessed = assessTrainingPlan(
        { model: input.baseModel, method: input.method.type, trainingType: input.trainingType, region },
        profileCatalog,
        profile.catalog?.strict ?? false,
      );
      if (assessed.refusal) throw ApplicationFailure.nonRetryable(`${assessed.refusal.message} (profile "${profile.name}")`, assessed.refusal.type);
      // promptLossWeight never goes with DPO (the input refuses it), so the tier alone decides the family here.
      const creates = input.fromJob === undefined;
      if (creates && sendsMethodAtProfileApiVersion({ method: input.method, trainingType: input.trainingType, hyperparameters: {} }) && !datedApiVersionTakesMethod(profile.apiVersion)) {
        throw ApplicationFailure.nonRetryable(
          `method: "${input.method.type}" on the ${input.trainingType} tier is created on the dated API at profile "${profile.name}"'s apiVersion "${profile.apiVersion}", whose job create has no method (Azure's dated specs define one from ${FIRST_DATED_METHOD_API_VERSION}); Azure would train a supervised job instead. Set the profile's apiVersion to ${FIRST_DATED_METHOD_API_VERSION} or later, or leave it out (default ${DATED_API_VERSION})`,
          'ApiVersionWithoutMethod',
        );
      }
      const { entry, fineTuned } = assessed;
      if (input.graders !== undefined) {
        const graders = GradersSchema.safeParse(input.graders);
        if (!graders.success) throw ApplicationFailure.nonRetryable(`invalid graders: ${graders.error.issues.map((i) => `evaluation.graders.${i.path.join('.')}: ${i.message}`).join('; ')}`, 'InvalidGraders');
      }
      if (input.evalSetPath !== undefined) {
        const items = await readEvalSet(input.evalSetPath, deps.config.dataRoots);
        if (items.length === 0) throw ApplicationFailure.nonRetryable(`evaluation.evalSet.path: eval set ${input.evalSetPath} has no items; it needs at least one {"messages", "reference"} line`, 'InvalidEvalSet');
      }
      const deployments: PlannedDeployment[] = [];
      if (input.evalSetPath !== undefined) deployments.push({ field: 'evaluation.evalSet', type: EVALUATION_DEPLOYMENT.type, profile, catalog: profileCatalog });
      if (input.deployment) deployments.push({ field: 'deployment.type', type: input.deployment.type as DeploymentType, profile, catalog: profileCatalog });
      (input.copies ?? []).forEach((copy, i) => {
        const destination = checkCopyDestination(deps.config.profiles, copy, `copies.${i}`);
        if (destination && copy.deploy) deployments.push({ field: `copies.${i}.deploy.type`, type: copy.deploy.type, profile: destination, catalog: profileCatalogOf(catalog, destination) });
      });
      // The catalogue's verdict first (no Azure call), then the ARM read of the region's capacity.
      const typeWarnings = deploymentWarnings(input.baseModel, deployments);
      const baseline = input.baselineModel !== undefined ? planBaseline(input.baselineModel, profile, profileCatalog) : undefined;
      const plans = [...(entry ? plannedCapacity(input, profile, entry) : []), ...(baseline?.plan ? [baseline.plan] : [])];
      const capacityWarnings = await checkDeploymentCapacity(plans, (p) => azure.arm(p.name));
      return {
        region, accountResourceId: accountResourceId(profile), catalogModel: entry ? versionedModelId(entry) : input.baseModel, continuousFineTuning: fineTuned,
        warnings: [...assessed.warnings, ...typeWarnings, ...(baseline?.warnings ?? []), ...capacityWarnings],
      };
    },
  };
}
