/**
 * What Azure says about deployment capacity in a region, per ARM `Microsoft.CognitiveServices` 2025-09-01:
 * `Models_List` (`GET /subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{location}/models`: each
 * model with its SKUs, each SKU's `usageName` and `capacity` {minimum, maximum, step, default}) and `Usages_List`
 * (`.../locations/{location}/usages`: each quota's `limit` and `currentValue`). Shapes follow the spec and its examples
 * (ListLocationModels.json, ListUsages.json). No live recording of either exists here, so the values are the emulator's
 * own choices, documented below, and tests change them through `CapacityControl`:
 * - models: the service's fine-tunable bases (./service SERVICE_MODELS), with the SKUs their fine-tuned models deploy on
 *   in that region; capacity {minimum 1, maximum 100, step 1, default 1} for the per-token SKUs (the range of the spec's
 *   example for gpt-4o Standard) and {minimum 50, maximum 2000, step 50, default 100} for provisioned ones (its example's
 *   provisioned range);
 * - usage names `OpenAI.<SKU>.<model>` (the spec's example spells them so, e.g. `OpenAI.Standard.gpt-35-turbo`);
 * - usages: `limit` 1000 per usage name, `currentValue` the capacity of the subscription's deployments in that
 *   region on that model and SKU, plus what a test planted.
 */
import type { Dispatcher, RequestContext, Reply } from './server';
import { fineTunedSkusAt, normalizeRegion, SERVICE_MODELS, type ServiceModel, type ServiceSku } from './service';
import { ApiError } from './errors';
import type { Account, DeploymentRecord, EmulatorState } from './state';

const LOCATION_PATH = '/subscriptions/:subscriptionId/providers/Microsoft.CognitiveServices/locations/:location';

export interface CapacityRange {
  minimum: number;
  maximum: number;
  step: number;
  default: number;
  allowedValues?: number[];
}

const PER_TOKEN_RANGE: CapacityRange = { minimum: 1, maximum: 100, step: 1, default: 1 };
const PROVISIONED_RANGE: CapacityRange = { minimum: 50, maximum: 2000, step: 50, default: 100 };
const DEFAULT_LIMIT = 1000;

export function usageName(sku: ServiceSku, model: string): string {
  return `OpenAI.${sku}.${model}`;
}

/** How tests set what Azure would report; keys are case-insensitive like Azure's names. */
export interface CapacityControl {
  /** The SKU's capacity range for `model` in every region (until reset). */
  setSkuCapacity(model: string, sku: ServiceSku, range: CapacityRange): void;
  /** The quota `usageName` in `location` of `subscriptionId`: its limit, and capacity used beyond the emulator's deployments. */
  setUsage(subscriptionId: string, location: string, usageName: string, usage: { limit?: number; extraUsed?: number }): void;
  reset(): void;
}

export class CapacityService implements CapacityControl {
  private readonly ranges = new Map<string, CapacityRange>();
  private readonly usages = new Map<string, { limit?: number; extraUsed?: number }>();

  constructor(private readonly state: EmulatorState) {}

  register(d: Dispatcher): void {
    d.arm('arm.models.list', 'GET', `${LOCATION_PATH}/models`, (ctx) => this.models(ctx));
    d.arm('arm.usages.list', 'GET', `${LOCATION_PATH}/usages`, (ctx) => this.listUsages(ctx));
  }

  setSkuCapacity(model: string, sku: ServiceSku, range: CapacityRange): void {
    this.ranges.set(`${model}|${sku}`.toLowerCase(), range);
  }

  setUsage(subscriptionId: string, location: string, name: string, usage: { limit?: number; extraUsed?: number }): void {
    this.usages.set(`${subscriptionId}|${normalizeRegion(location)}|${name}`.toLowerCase(), usage);
  }

  reset(): void {
    this.ranges.clear();
    this.usages.clear();
  }

  /**
   * Azure's refusals of a deployment PUT or PATCH by its capacity (HTTP 400, ARM error body), as live answers word
   * them: a capacity outside the SKU's range (the Models_List range above) is `InvalidCapacity` ("The specified capacity
   * '' of account deployment should be greater than 0 and no more than 3.", Azure/business-process-automation#259,
   * 2023-11); one that needs more than the free quota (the Usages_List limit minus what is used) is `InsufficientQuota`
   * ("This operation require 30 new capacity in quota Tokens Per Minute (thousands) - GPT-4-Turbo, which is bigger than
   * the current available capacity 8. The current quota usage is 0 and the quota limit is 8 for quota ...",
   * Azure-Samples/azure-search-openai-demo#2091 and microsoft/PubSec-Info-Assistant#880, 2024-10, the latter "400 Bad
   * Request"). What an update needs is its capacity beyond the one it replaces under the same quota. A model outside the
   * service's fine-tunable bases has no usage here and is not checked against a quota.
   */
  checkDeployment(account: Account, model: string, sku: ServiceSku, capacity: number, replaced?: DeploymentRecord): void {
    const base = serviceModelOf(model);
    const range = this.range(base?.id ?? model, sku);
    const inRange = capacity >= range.minimum && capacity <= range.maximum && (capacity - range.minimum) % range.step === 0 && (!range.allowedValues || range.allowedValues.includes(capacity));
    if (!inRange) {
      const rule = range.allowedValues
        ? `should be one of ${range.allowedValues.join(', ')}`
        : range.minimum <= 1 && range.step === 1
          ? `should be greater than 0 and no more than ${range.maximum}`
          : `should be from ${range.minimum} to ${range.maximum} in steps of ${range.step}`;
      throw new ApiError(400, 'InvalidCapacity', `The specified capacity '${capacity}' of account deployment ${rule}.`);
    }
    if (!base) return;
    const usage = this.usage(account.subscriptionId, normalizeRegion(account.region), base, sku);
    const replacedHere = replaced && replaced.sku.type === sku && serviceModelOf(replaced.served?.baseModel ?? replaced.model.name)?.id === base.id ? replaced.sku.capacity : 0;
    const needed = capacity - replacedHere;
    const available = Math.max(0, usage.limit - usage.currentValue);
    if (needed > available) {
      const quota = usage.localizedValue;
      throw new ApiError(
        400,
        'InsufficientQuota',
        `This operation require ${needed} new capacity in quota ${quota}, which is bigger than the current available capacity ${available}. The current quota usage is ${usage.currentValue} and the quota limit is ${usage.limit} for quota ${quota}.`,
      );
    }
  }

  private range(model: string, sku: ServiceSku): CapacityRange {
    return this.ranges.get(`${model}|${sku}`.toLowerCase()) ?? (sku.includes('Provisioned') ? PROVISIONED_RANGE : PER_TOKEN_RANGE);
  }

  /** A subscription is known when one of the emulator's accounts is in it (ARM answers 404 SubscriptionNotFound otherwise). */
  private subscription(ctx: RequestContext): string {
    const id = ctx.params.subscriptionId ?? '';
    const known = [...this.state.accounts.values()].some((a) => a.subscriptionId.toLowerCase() === id.toLowerCase());
    if (!known) throw new ApiError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
    return id;
  }

  private models(ctx: RequestContext): Reply {
    this.subscription(ctx);
    const location = normalizeRegion(ctx.params.location ?? '');
    const value = SERVICE_MODELS.map((m) => ({
      kind: 'OpenAI',
      skuName: 'S0',
      model: {
        format: 'OpenAI',
        name: m.id,
        version: m.version,
        isDefaultVersion: true,
        skus: fineTunedSkusAt(m, location).map((sku) => {
          const { allowedValues, ...range } = this.range(m.id, sku);
          return { name: sku, usageName: usageName(sku, m.id), capacity: { ...range, ...(allowedValues ? { allowedValues } : {}) } };
        }),
        capabilities: { fineTune: 'true', inference: 'true', chatCompletion: 'true' },
        finetuneCapabilities: { fineTune: 'true', inference: 'true', chatCompletion: 'true' },
        lifecycleStatus: 'GenerallyAvailable',
      },
    }));
    return { status: 200, json: { value } };
  }

  /** The capacity of the subscription's deployments in `location` per usage name (what Azure counts as used). */
  private deployed(subscriptionId: string, location: string): Map<string, number> {
    const used = new Map<string, number>();
    for (const d of this.state.deployments.values()) {
      const account = this.state.accounts.get(d.account.toLowerCase());
      if (!account || account.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase() || normalizeRegion(account.region) !== location) continue;
      const model = serviceModelOf(d.served?.baseModel ?? d.model.name);
      if (!model) continue;
      const key = usageName(d.sku.type, model.id).toLowerCase();
      used.set(key, (used.get(key) ?? 0) + d.sku.capacity);
    }
    return used;
  }

  /** One quota as Usages_List shows it: the deployments' capacity plus what a test planted, and the limit. */
  private usage(subscriptionId: string, location: string, model: ServiceModel, sku: ServiceSku, deployed = this.deployed(subscriptionId, location)) {
    const name = usageName(sku, model.id);
    const planted = this.usages.get(`${subscriptionId}|${location}|${name}`.toLowerCase()) ?? {};
    return {
      name,
      localizedValue: `Tokens Per Minute (thousands) - ${model.id} - ${sku}`,
      currentValue: (deployed.get(name.toLowerCase()) ?? 0) + (planted.extraUsed ?? 0),
      limit: planted.limit ?? DEFAULT_LIMIT,
    };
  }

  private listUsages(ctx: RequestContext): Reply {
    const subscriptionId = this.subscription(ctx);
    const location = normalizeRegion(ctx.params.location ?? '');
    const deployed = this.deployed(subscriptionId, location);
    const value = SERVICE_MODELS.flatMap((m) =>
      fineTunedSkusAt(m, location).map((sku) => {
        const { name, localizedValue, currentValue, limit } = this.usage(subscriptionId, location, m, sku, deployed);
        return { name: { value: name, localizedValue }, currentValue, limit, unit: 'Count' };
      }),
    );
    return { status: 200, json: { value } };
  }
}

/** The service's fine-tunable base a deployment's model counts under (by name, versioned name or a fine-tune's base). */
function serviceModelOf(name: string): ServiceModel | undefined {
  return SERVICE_MODELS.find((m) => name === m.id || name.startsWith(`${m.id}-${m.version}`));
}
