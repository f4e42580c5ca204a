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
