/**
 * Preflight's capacity check: for each deployment the run will make, what Azure says about the SKU's capacity in the
 * profile's region, read with one cheap ARM call each per subscription and region (`Models_List`: the model's SKUs
 * with `capacity` {minimum, maximum, step, allowedValues} and `usageName`; `Usages_List`: that quota's `limit` and
 * `currentValue`), so that a capacity Azure would refuse fails the run before any Azure write, naming the field and
 * what would be accepted.
 *
 * What Azure does not tell cannot be refused: a model or SKU missing from the list, a usage without a limit, or a
 * read the identity may not make (both lists are subscription reads: the "Cognitive Services Usages Reader" role, or
 * Reader, on the subscription) become warnings, and the deploy itself stays Azure's judgement.
 */
import type { CognitiveServicesManagementClient, Model, Usage } from '@azure/arm-cognitiveservices';
import { ApplicationFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure, credentialErrorName } from '../src/azure/errors';
import { normalizeRegion, type DeploymentType, type ModelEntry } from '../src/catalog';
import type { AzureProfile } from '../src/config/profile';

export interface PlannedCapacity {
  /** The input field that asks for it, e.g. `deployment.capacity` or `copies.0.deploy.capacity`. */
  field: string;
  /** The catalogue's entry of the model deployed, or of the base a fine-tuned one was trained from. */
  entry: ModelEntry;
  profile: AzureProfile;
  type: DeploymentType;
  capacity: number;
  /** Stays live beside the run's other lasting deployments (so they share the free quota); evaluation ones do not. */
  lasting: boolean;
}

/** Statuses that mean "this identity may not read it": the check is skipped with a warning, not failed. */
const UNREADABLE = new Set([401, 403, 404]);

interface RegionView {
  models: Model[] | string;
  usages: Usage[] | string;
}

async function readAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of pages) items.push(item);
  return items;
}

/** One list read; an unreadable one is the reason as text (for the warning), anything else fails as Azure failures do. */
async function listOrReason<T>(operation: string, read: () => AsyncIterable<T>): Promise<T[] | string> {
  try {
    return await readAll(read());
  } catch (err) {
    // No credential at all is the credential proof's to report, with the profile and the variable.
    const unavailable = credentialErrorName(err);
    if (unavailable) return `${operation}: ${unavailable}`;
    const info = azureErrorInfo(err);
    if (info?.status !== undefined && UNREADABLE.has(info.status)) return `${operation} answered HTTP ${info.status}${info.code ? ` ${info.code}` : ''}`;
    throw azureFailure(err, operation);
  }
}

function describeRange(c: NonNullable<NonNullable<Model['model']>['skus']>[number]['capacity']): string {
  if (!c) return '';
  if (c.allowedValues?.length) return `one of ${c.allowedValues.join(', ')}`;
  const parts = [c.minimum !== undefined ? `minimum ${c.minimum}` : '', c.maximum !== undefined ? `maximum ${c.maximum}` : '', c.step !== undefined && c.step > 1 ? `in steps of ${c.step}` : ''].filter(Boolean);
  return `${parts.join(', ')}${c.default !== undefined ? ` (default ${c.default})` : ''}`;
}

/**
 * Checks each planned deployment against Azure's capacity range for its model's SKU and the free quota of that SKU's
 * usage; throws the first refusal (non-retryable `CapacityNotAccepted` / `CapacityOverQuota`), returns warnings for
 * what could not be checked.
 */
export async function checkDeploymentCapacity(plans: PlannedCapacity[], arm: (profile: AzureProfile) => CognitiveServicesManagementClient): Promise<string[]> {
  const warnings: string[] = [];
  const views = new Map<string, Promise<RegionView>>();
  const view = (profile: AzureProfile, region: string): Promise<RegionView> => {
    const key = `${profile.subscriptionId.toLowerCase()}|${region}`;
    let v = views.get(key);
    if (!v) {
      const client = arm(profile);
      v = (async () => ({
        models: await listOrReason(`list models in ${region}`, () => client.models.list(region)),
        usages: await listOrReason(`list usages in ${region}`, () => client.usages.list(region)),
      }))();
      views.set(key, v);
    }
    return v;
  };
  // Deployments that stay live together draw on one quota: the promoted version and the copies in the same place.
  const drawn = new Map<string, number>();
  for (const plan of plans) {
    const { entry } = plan;
    const region = normalizeRegion(plan.profile.region);
    const { models, usages } = await view(plan.profile, region);
    const where = `${entry.id} ${entry.version} on ${plan.type} in ${region} (profile "${plan.profile.name}")`;
    if (typeof models === 'string') {
      warnings.push(`${plan.field}: not checked against Azure's capacity for ${where}: ${models}`);
      continue;
    }
    const model = models.find((m) => m.model?.name === entry.id && m.model.version === entry.version);
    const sku = model?.model?.skus?.find((s) => s.name?.toLowerCase() === plan.type.toLowerCase());
    if (!sku) {
      warnings.push(`${plan.field}: Azure's model list for ${region} has no ${plan.type} SKU for ${entry.id} ${entry.version}; capacity not checked`);
      continue;
    }
    const c = sku.capacity;
    if (c) {
      const outside =
        (c.allowedValues?.length ? !c.allowedValues.includes(plan.capacity) : false) ||
        (c.minimum !== undefined && plan.capacity < c.minimum) ||
        (c.maximum !== undefined && plan.capacity > c.maximum) ||
        (c.step !== undefined && c.step > 1 && (plan.capacity - (c.minimum ?? 0)) % c.step !== 0);
      if (outside) {
        throw ApplicationFailure.nonRetryable(`${plan.field}: capacity ${plan.capacity} is not accepted for ${where}; Azure accepts ${describeRange(c)}`, 'CapacityNotAccepted');
      }
    }
    if (!sku.usageName) continue;
    if (typeof usages === 'string') {
      warnings.push(`${plan.field}: not checked against the free quota of ${sku.usageName} in ${region}: ${usages}`);
      continue;
    }
    const usage = usages.find((u) => u.name?.value?.toLowerCase() === sku.usageName!.toLowerCase());
    if (usage?.limit === undefined) {
      warnings.push(`${plan.field}: Azure lists no quota ${sku.usageName} in ${region}; not checked against a quota`);
      continue;
    }
    const key = `${plan.profile.subscriptionId.toLowerCase()}|${region}|${sku.usageName.toLowerCase()}`;
    const before = plan.lasting ? (drawn.get(key) ?? 0) : 0;
    const free = usage.limit - (usage.currentValue ?? 0) - before;
    if (plan.capacity > free) {
      const others = before > 0 ? `, ${before} of it for this run's other deployments` : '';
      throw ApplicationFailure.nonRetryable(
        `${plan.field}: capacity ${plan.capacity} is above the free quota of ${sku.usageName} in ${region} (subscription ${plan.profile.subscriptionId}): limit ${usage.limit}, used ${usage.currentValue ?? 0}${others}; accepted: at most ${Math.max(free, 0)}, or ask Azure for more quota`,
        'CapacityOverQuota',
      );
    }
    if (plan.lasting) drawn.set(key, before + plan.capacity);
  }
  return warnings;
}
