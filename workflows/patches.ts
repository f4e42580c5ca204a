/**
 * Patch decisions with one history marker per execution instead of one per patch. Each `patched()` of the SDK records
 * a marker, and the SDK core adds an upsert of the TemporalChangeVersion search attribute to it (a command, a history
 * event and a visibility write on the server): a run asked 15 before its job existed, about 30 of the 70 events
 * before training. `ftpipe-patch-set-1`, asked by the first patch decision of an execution (the tracing interceptor's
 * `execute`, before anything else runs), stands for every patch of PATCH_SET_1: with it each of them is on without a
 * marker of its own, which is what `patched()` answers in any new execution. Executions from before it, and their
 * recorded histories, have no such marker: each of their patches is asked as before, at the same place.
 * Workflow-safe; its state is per execution (the SDK evaluates non-preloaded workflow modules once per execution).
 */
import { patched as askPatch } from '@temporalio/workflow';

export const PATCH_SET_1_ID = 'ftpipe-patch-set-1';

/**
 * Every patch that existed when the set was made. FROZEN: an execution recorded with the set's marker took each of
 * these as on and nothing else, so adding an id here would replay it on where it had been off. A later patch asks its
 * own marker (it is not in the set), and may go into a later set of its own.
 */
const PATCH_SET_1: ReadonlySet<string> = new Set([
  'ftpipe-approval-in-stage',
  'ftpipe-approval-settled',
  'ftpipe-automatic-evaluations',
  'ftpipe-batched-upserts',
  'ftpipe-budget-hold-refusal',
  'ftpipe-budget-pause',
  'ftpipe-copy-deploy-check',
  'ftpipe-deployment-idle',
  'ftpipe-deployment-slots',
  'ftpipe-eval-deployment-lifetime',
  'ftpipe-eval-first-answer-smoke',
  'ftpipe-files-processed-together',
  'ftpipe-from-job',
  'ftpipe-from-job-slot',
  'ftpipe-handlers-settled',
  'ftpipe-history-budget',
  'ftpipe-lean-spans',
  'ftpipe-local-bookkeeping',
  'ftpipe-local-join',
  'ftpipe-local-poll',
  'ftpipe-local-preflight',
  'ftpipe-local-results',
  'ftpipe-monitor-flags',
  'ftpipe-notify',
]);

let setOn: boolean | undefined;

/** As the SDK's `patched(id)`, without a marker of its own for a patch of PATCH_SET_1 in an execution that has the set. */
export function patched(id: string): boolean {
  setOn ??= askPatch(PATCH_SET_1_ID);
  return (setOn && PATCH_SET_1.has(id)) || askPatch(id);
}
