/**
 * What a deployment left live costs and how long Azure keeps it, in plain words (Azure's documented rules). The report
 * shows them; the workflow result can carry the same notes.
 */
import { HOSTING_PRICES } from '../catalog/prices';
import { deploymentTypeOf, hostingUsdPerHour } from '../pipeline/cost';
import type { DeploymentInfo, IdleDeployment } from '../pipeline/types';

export const usd = (amount: number): string => `$${amount.toFixed(2)}`;

/** A deployment's hosting fee per hour by its SKU (src/catalog/prices.ts), with the price's note, or why there is none. */
export function hourlyFee(deployment: Pick<DeploymentInfo, 'sku'>): { usdPerHour: number | null; note: string } {
  const type = deploymentTypeOf(deployment.sku);
  if (!type) return { usdPerHour: null, note: `no price for SKU ${deployment.sku} in ftpipe's catalogue: see Azure OpenAI pricing` };
  return { usdPerHour: hostingUsdPerHour(type), note: HOSTING_PRICES[type].note };
}

export const DEVELOPER_TIER_NOTE = 'Developer tier: no hosting fee and no SLA; Azure deletes the deployment 24 hours after it was created.';
export const HOSTING_FEE_NOTE = 'Fine-tuned deployments are billed an hourly hosting fee for as long as they exist, used or not: delete it when it is no longer needed.';
export const PROVISIONED_NOTE = 'Provisioned deployments are billed per provisioned throughput unit (PTU) per hour, used or not.';
export const INACTIVITY_NOTE = 'Azure deletes a fine-tuned deployment after 15 days without inference calls.';

/** The notes that apply to one live deployment, by its SKU. */
export function deploymentNotes(deployment: Pick<DeploymentInfo, 'sku'>): string[] {
  const sku = deployment.sku.toLowerCase();
  if (sku === 'developertier') return [DEVELOPER_TIER_NOTE];
  if (sku.includes('provisioned')) return [PROVISIONED_NOTE, INACTIVITY_NOTE];
  return [HOSTING_FEE_NOTE, INACTIVITY_NOTE];
}

/** One line per live deployment: where it is, and what it costs and how long it lives. */
export function remainingNotes(deployments: DeploymentInfo[]): string[] {
  return deployments.map((d) => `${d.name} (${d.sku}, profile ${d.profile}): ${deploymentNotes(d).join(' ')}`);
}

/** Whether Azure bills the deployment by the hour while it exists (all fine-tuned SKUs but the Developer tier). */
export function billedHourly(deployment: Pick<DeploymentInfo, 'sku'>): boolean {
  return deployment.sku.toLowerCase() !== 'developertier';
}

/**
 * One sentence on what stays live and billed once the run ends: each deployment, whether this run created it or
 * kept it from before (`keepVersions`), and the hourly hosting fee of those billed by the hour (src/catalog/prices.ts).
 */
export function liveSummary(deployments: DeploymentInfo[], createdByRun: string[]): string {
  if (deployments.length === 0) return 'Nothing this run created or kept stays live: no hosting fee accrues from it.';
  const names = deployments.map((d) => {
    const { usdPerHour, note } = hourlyFee(d);
    const cost = !billedHourly(d) ? 'no hosting fee' : usdPerHour === null ? note : `${usd(usdPerHour)}/hour`;
    return `${d.name} (${d.sku}, profile ${d.profile}, ${createdByRun.includes(d.name) ? 'new in this run' : 'kept from before by keepVersions'}, ${cost})`;
  });
  const billed = deployments.filter(billedHourly);
  const fees = billed.map((d) => hourlyFee(d).usdPerHour);
  const total = fees.every((f): f is number => f !== null) ? Math.round(fees.reduce((a, b) => a + b, 0) * 100) / 100 : null;
  const who = billed.length === deployments.length ? (billed.length === 1 ? 'it is' : 'all are') : billed.length === 1 ? '1 of them is' : `${billed.length} of them are`;
  const fee = billed.length === 0
    ? 'none is billed by the hour'
    : `${who} billed by the hour until deleted, ${total === null ? 'at rates not all in ftpipe\'s catalogue (see each one)' : `${usd(total)}/hour in all (prices from Azure's fine-tuning cost guide: check Azure OpenAI pricing for your region)`}`;
  return `Live after this run: ${deployments.length} fine-tuned deployment${deployments.length === 1 ? '' : 's'}: ${names.join(', ')}; ${fee}.`;
}

/** What `deployment.idle` did to the promoted version: its keep-alive schedule, or the date Azure deletes it if unused. */
export function idleNote(idle: IdleDeployment): string {
  if (idle.schedule) {
    return `Keep-alive: schedule ${idle.schedule.id} calls ${idle.deployment} (profile ${idle.profile}) every ${idle.schedule.everyHours} h, so Azure's deletion after 15 days without calls does not come and its hosting fee accrues until it is deleted; ftpipe deletes the schedule when it retires ${idle.deployment}.`;
  }
  return `Left to expire (deployment.idle letExpire): Azure deletes ${idle.deployment} (profile ${idle.profile}) at ${idle.deletedIfUnusedAt} unless something calls it first (15 days after its last call, ${idle.lastCalledAt}).`;
}
