/**
 * Per-account fine-tuning quotas, enforced at create time as Azure does: a job create beyond the running + queued
 * places, and an upload beyond the file count or total bytes, are refused with Azure's data-plane error body
 * (`{"error": {"code": "quotaExceeded", "message"}}`, HTTP 400), and a fine-tuned deployment beyond the account's
 * count with ARM's `InsufficientQuota`. Off unless an account's config sets `quotas`; the
 * numbers Azure publishes are ftpipe's defaults in src/admission/limits.ts. Their schema is in config.ts. See docs/emulator.md#quotas.
 */
import { ApiError } from './errors';
import type { Account, DeploymentRecord, FileRecord, JobRecord } from './state';

const UNFINISHED: ReadonlySet<JobRecord['status']> = new Set(['pending', 'running', 'pausing', 'paused', 'resuming']);

function quotaExceeded(message: string): ApiError {
  return new ApiError(400, 'quotaExceeded', message);
}

/** Throws Azure's refusal when one more job would exceed the account's running + queued places. `jobs`: the account's, advanced to now. */
export function enforceJobQuota(account: Account, jobs: JobRecord[]): void {
  const q = account.quotas;
  if (!q) return;
  const unfinished = jobs.filter((j) => UNFINISHED.has(j.status)).length;
  const places = q.runningJobs + q.queuedJobs;
  if (unfinished >= places) {
    throw quotaExceeded(`The resource '${account.name}' has ${unfinished} fine-tuning jobs running or queued; the limit is ${q.runningJobs} running and ${q.queuedJobs} queued. Wait for a job to finish, or cancel one.`);
  }
}

/** Throws Azure's refusal when a new `fine-tune` file of `bytes` would exceed the account's file count or storage. */
export function enforceFileQuota(account: Account, files: Iterable<FileRecord>, purpose: string, bytes: number): void {
  const q = account.quotas;
  if (!q || purpose !== 'fine-tune') return;
  let count = 0;
  let total = 0;
  for (const f of files) {
    if (f.account !== account.name || f.purpose !== 'fine-tune') continue;
    count++;
    total += f.bytes;
  }
  if (q.files !== undefined && count + 1 > q.files) {
    throw quotaExceeded(`The resource '${account.name}' holds ${count} fine-tuning files; the limit is ${q.files}. Delete files you no longer need.`);
  }
  if (q.fileBytes !== undefined && total + bytes > q.fileBytes) {
    throw quotaExceeded(`The resource '${account.name}' holds ${total} bytes of fine-tuning files; this upload of ${bytes} bytes would exceed the limit of ${q.fileBytes} bytes.`);
  }
}

/**
 * Throws ARM's refusal when a new deployment of a fine-tuned model would exceed the account's fine-tuned deployments
 * (Azure: 10 per resource). `deployments`: the account's. Base-model deployments do not count.
 */
export function enforceFineTunedDeploymentQuota(account: Account, deployments: Iterable<DeploymentRecord>): void {
  const limit = account.quotas?.fineTunedDeployments;
  if (limit === undefined) return;
  let count = 0;
  for (const d of deployments) if (d.account === account.name && d.served && d.state !== 'Deleting') count++;
  if (count >= limit) {
    throw new ApiError(400, 'InsufficientQuota', `The resource '${account.name}' has ${count} fine-tuned model deployments; the limit is ${limit}. Delete a deployment you no longer need.`);
  }
}
