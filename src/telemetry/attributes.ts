/**
 * Which fields of a workflow's or an activity's arguments and results become span attributes: names and Azure ids
 * from an allow-list, never whole values (a body, a dataset path's content, a grader). Workflow-safe.
 */
import type { Attributes } from '@opentelemetry/api';

/** Header that carries the run's name from the workflow to its activities. */
export const RUN_NAME_HEADER = 'ftpipe-run-name';

const RUN_FIELDS: Record<string, string> = { runName: 'ftpipe.run_name', profile: 'ftpipe.profile', baseModel: 'ftpipe.base_model' };

/** Argument fields (of every ftpipe activity) that name an Azure object. */
const ARGUMENT_FIELDS: Record<string, string> = {
  profile: 'ftpipe.profile',
  jobId: 'azure.job_id',
  fileId: 'azure.file_id',
  fileIds: 'azure.file_ids',
  resultFileId: 'azure.file_id',
  name: 'azure.deployment',
  deployment: 'azure.deployment',
  checkpoint: 'azure.checkpoint_id',
  region: 'azure.region',
  role: 'ftpipe.file_role',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(value: unknown, fields: Record<string, string>): Attributes {
  const attributes: Attributes = {};
  if (!isRecord(value)) return attributes;
  for (const [field, attribute] of Object.entries(fields)) {
    const v = value[field];
    if (typeof v === 'string') attributes[attribute] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) attributes[attribute] = v;
  }
  return attributes;
}

export function runAttributes(input: unknown): Attributes {
  const attributes = pick(input, RUN_FIELDS);
  if (isRecord(input) && isRecord(input.lineage) && typeof input.lineage.name === 'string') attributes['ftpipe.lineage'] = input.lineage.name;
  return attributes;
}

export function activityArgumentAttributes(args: unknown): Attributes {
  return pick(args, ARGUMENT_FIELDS);
}

/** Ids in a result: a job snapshot (`id` + `status`), an uploaded file (`fileId`), a deployment (`name` + `model`). */
export function activityResultAttributes(result: unknown): Attributes {
  if (!isRecord(result)) return {};
  const attributes: Attributes = {};
  if (typeof result.id === 'string' && typeof result.status === 'string' && result.id.startsWith('ftjob-')) attributes['azure.job_id'] = result.id;
  if (isRecord(result.job) && typeof result.job.id === 'string') attributes['azure.job_id'] = result.job.id;
  if (typeof result.fileId === 'string') attributes['azure.file_id'] = result.fileId;
  if (typeof result.fineTunedModel === 'string') attributes['azure.fine_tuned_model'] = result.fineTunedModel;
  if (typeof result.name === 'string' && typeof result.model === 'string') attributes['azure.deployment'] = result.name;
  return attributes;
}
