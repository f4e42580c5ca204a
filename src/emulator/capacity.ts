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
import { fineTunedSkusAt, normalizeRegion, SERVICE_MODELS, type ServiceSku } from './service';
import { ApiError } from './errors';
import type { EmulatorState } from './state';

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
      const base = d.served?.baseModel ?? d.model.name;
      const model = SERVICE_MODELS.find((m) => base === m.id || base.startsWith(`${m.id}-${m.version}`));
      if (!model) continue;
      const key = usageName(d.sku.type, model.id).toLowerCase();
      used.set(key, (used.get(key) ?? 0) + d.sku.capacity);
    }
    return used;
  }

  private listUsages(ctx: RequestContext): Reply {
    const subscriptionId = this.subscription(ctx);
    const location = normalizeRegion(ctx.params.location ?? '');
    const deployed = this.deployed(subscriptionId, location);
    const value = SERVICE_MODELS.flatMap((m) =>
      fineTunedSkusAt(m, location).map((sku) => {
        const name = usageName(sku, m.id);
        const planted = this.usages.get(`${subscriptionId}|${location}|${name}`.toLowerCase()) ?? {};
        return {
          name: { value: name, localizedValue: `Tokens Per Minute (thousands) - ${m.id} - ${sku}` },
          currentValue: (deployed.get(name.toLowerCase()) ?? 0) + (planted.extraUsed ?? 0),
          limit: planted.limit ?? DEFAULT_LIMIT,
          unit: 'Count',
        };
      }),
    );
    return { status: 200, json: { value } };
  }
}
