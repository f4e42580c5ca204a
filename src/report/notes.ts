/**
 * What a deployment left live costs and how long Azure keeps it, in plain words (Azure's documented rules). The report
 * shows them; the workflow result can carry the same notes.
 */
import type { DeploymentInfo } from '../pipeline/types';

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
 * kept it from before (`keepVersions`), and how many are billed by the hour. ftpipe's catalogue has no prices, so the
 * amount is left to Azure's pricing page.
 */
export function liveSummary(deployments: DeploymentInfo[], createdByRun: string[]): string {
  if (deployments.length === 0) return 'Nothing this run created or kept stays live: no hosting fee accrues from it.';
  const names = deployments.map((d) => `${d.name} (${d.sku}, profile ${d.profile}, ${createdByRun.includes(d.name) ? 'new in this run' : 'kept from before by keepVersions'})`);
  const billed = deployments.filter(billedHourly).length;
  const fee = billed === 0
    ? 'none is billed by the hour'
    : `${billed === deployments.length ? (billed === 1 ? 'it is' : 'all are') : `${billed} of them are`} billed an hourly hosting fee until deleted (the amount per hour is not in ftpipe's catalogue: see Azure OpenAI pricing for the model and region)`;
  return `Live after this run: ${deployments.length} fine-tuned deployment${deployments.length === 1 ? '' : 's'}: ${names.join(', ')}; ${fee}.`;
}
