/**
 * What an approver decides on while a run awaits approval: the chosen checkpoint, its eval score against the
 * baseline and the lift, and what approving deploys at what hourly fee. One shape (`ApprovalEvidence`, kept in the
 * run's status) and one rendering, used by the Web UI's current details, `ftpipe status` and the report.
 * Workflow-safe: no I/O.
 */
import { HOSTING_PRICES } from '../catalog/prices';
import { deploymentTypeOf, hostingUsdPerHour } from './cost';
import type { ApprovalEvidence, EvaluationOutcome } from './types';

export function approvalEvidence(evaluation: EvaluationOutcome, deployment: { name: string; type: string; capacity: number }, minLift: number): ApprovalEvidence {
  const { chosen, reason } = evaluation.analysis;
  const score = evaluation.scores.find((s) => s.kind === 'candidate' && s.candidate === chosen.model)?.score ?? null;
  const baseline = evaluation.scores.find((s) => s.kind === 'baseline');
  const type = deploymentTypeOf(deployment.type);
  return {
    chosen: { id: chosen.id, model: chosen.model, step: chosen.step, reason },
    score,
    baseline: baseline ? { name: baseline.candidate, score: baseline.score } : null,
    lift: score !== null && baseline ? score - baseline.score : null,
    minLift,
    evaluationReason: evaluation.decision.reason,
    deploy: {
      ...deployment,
      usdPerHour: type ? hostingUsdPerHour(type) : null,
      note: type ? HOSTING_PRICES[type].note : `no price for ${deployment.type} in ftpipe's catalogue: see Azure OpenAI pricing`,
    },
  };
}

const signed = (n: number): string => `${n >= 0 ? '+' : '-'}${Math.abs(n).toFixed(3)}`;

/** The hourly cost of what approving deploys, in words. */
export function deployCost(deploy: ApprovalEvidence['deploy']): string {
  if (deploy.usdPerHour === null) return deploy.note;
  if (deploy.usdPerHour === 0) return `no hosting fee (${deploy.note})`;
  return `$${deploy.usdPerHour.toFixed(2)}/hour while it exists, used or not (${deploy.note}; prices: src/catalog/prices.ts)`;
}

/** The evidence as lines: the chosen checkpoint, the scores and the lift, what approving deploys and its cost. */
export function approvalEvidenceLines(e: ApprovalEvidence): string[] {
  const lines = [`chosen checkpoint: ${e.chosen.model} (step ${e.chosen.step}): ${e.chosen.reason}`];
  if (e.score === null) lines.push('eval: no eval set, so no scores: the checkpoint was chosen by its training metrics');
  else if (!e.baseline) lines.push(`eval: the chosen checkpoint scores ${e.score.toFixed(3)}; no baseline, so no lift`);
  else lines.push(`eval: the chosen checkpoint scores ${e.score.toFixed(3)} vs baseline ${e.baseline.name} ${e.baseline.score.toFixed(3)}: lift ${signed(e.lift ?? 0)} (required ${signed(e.minLift)})`);
  lines.push(`evaluation's recommendation: ${e.evaluationReason}`);
  lines.push(`approving deploys a new version of ${e.deploy.name} (${e.deploy.type} x${e.deploy.capacity}): ${deployCost(e.deploy)}`);
  return lines;
}
