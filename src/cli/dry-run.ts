/** `ftpipe run --dry-run`: asks a worker for the run's plan (workflows/plan.ts) and prints it. Nothing is written to Azure. */
import { randomUUID } from 'node:crypto';
import type { FtpipeClient } from '../client';
import type { PipelineInputDraft } from '../pipeline/input';
import { PLAN_WORKFLOW_TYPE } from '../../workflows/messages';
import type { RunPlan } from '../../workflows/plan';
import { priceSourceText } from '../catalog/prices';

const usd = (n: number | null): string => (n === null ? '-' : `$${n.toFixed(2)}`);

export function formatPlan(plan: RunPlan): string {
  const lines = [`plan for run ${plan.runName} (profile ${plan.profile}, ${plan.preflight.catalogModel} from ${plan.preflight.region}); nothing was written to Azure`];
  if (plan.preflightRefusal) lines.push(`preflight: REFUSED: ${plan.preflightRefusal}`);
  // As the run's status.warnings would list them (and its summary, as 'Preflight warning: ...').
  for (const warning of plan.preflight.warnings ?? []) lines.push(`preflight warning: ${warning}`);
  const v = plan.validation;
  const adopted = plan.adoptedJob;
  if (adopted) {
    lines.push(adopted.refusal
      ? `from job ${adopted.id}: REFUSED: ${adopted.refusal}`
      : `from job ${adopted.id}: Azure reports it ${adopted.status} (${adopted.model}${adopted.fineTunedModel ? `, model ${adopted.fineTunedModel}` : ''}); the run ${adopted.next}`);
    lines.push('training: none planned (fromJob): nothing is validated, uploaded or trained, so no training cost');
  } else {
    lines.push(v
      ? `validation: ${v.valid ? 'valid' : 'INVALID'}: ${v.examples.training} training examples${v.examples.validation !== null ? `, ${v.examples.validation} validation` : ''}, ${v.errorCount} errors, ${v.warningCount} warnings${v.errors.length ? `\n  ${v.errors.slice(0, 5).join('\n  ')}` : ''}`
      : 'validation: not run (the data is a URL or a file id: Azure validates it)');
  }
  if (plan.cost) {
    lines.push(`training cost estimate: ${usd(plan.cost.usd)} (${plan.cost.basis})`);
    if (plan.cost.price) lines.push(`  price source: ${priceSourceText(plan.cost.price.source)}`);
  }
  if (plan.budgetRefusal) lines.push(`budget: REFUSED: ${plan.budgetRefusal}`);
  const s = plan.slots;
  lines.push(`slots on ${s.resource}: needs ${s.needs.jobs} job, ${s.needs.files} files (${s.needs.fileBytes} bytes); free now: ${s.free.jobs}/${s.capacity.jobs} job places, ${s.free.files}/${s.capacity.files} files, ${s.free.deployments}/${s.capacity.deployments} deployments; ${s.queued} run(s) waiting`);
  if (plan.deployments.length === 0) lines.push('deployments: none (no deployment in the input)');
  for (const d of plan.deployments) {
    lines.push(`deployment (${d.purpose}): ${d.name} on profile ${d.profile}${d.region ? ` in ${d.region}` : ''}, ${d.type} x${d.capacity}, ${d.usdPerHour === null ? 'billed in PTU-hours' : `${usd(d.usdPerHour)}/hour`}${d.problem ? `; REFUSED: ${d.problem}` : ''}`);
  }
  lines.push(`hourly cost of what the run would leave live: ${plan.hourlyAfterRun === null ? 'PTU-hours (see the deployment)' : `${usd(plan.hourlyAfterRun)}/hour`}`);
  return lines.join('\n');
}

/** Runs `planPipeline` on the worker that would run the pipeline (its profiles, data paths and admission queues). */
export async function planRun(client: FtpipeClient, input: PipelineInputDraft, taskQueue: string): Promise<RunPlan> {
  const name = typeof input.runName === 'string' ? input.runName : 'run';
  return client.client.workflow.execute<(i: PipelineInputDraft) => Promise<RunPlan>>(PLAN_WORKFLOW_TYPE, { taskQueue, workflowId: `ftpipe-plan-${name}-${randomUUID().slice(0, 8)}`, args: [input] });
}
