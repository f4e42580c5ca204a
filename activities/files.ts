import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { toStreamingFile } from 'openai';
import type { FileObject } from 'openai/resources/files';
import { callAzure, isAzureNotFound, azureFailure } from '../src/azure/errors';
import { contentAddressedFilename, fileImportBody } from '../src/azure/requests';
import { openUploadStream } from '../src/dataset';
import { isTerminalJobStatus, type DeletedFiles, type FileRole, type UploadedFile } from '../src/pipeline/types';
import type { AzureAccess } from './deps';
import { backoffMs, checkAgainLater } from './waiting';

export interface UploadFileInput {
  profile: string;
  role: FileRole;
  path: string;
  /** From the validation report: the hash and size of exactly the bytes to send (BOM included). */
  uploadSha256: string;
  uploadBytes: number;
}

export interface ImportFileInput {
  profile: string;
  role: FileRole;
  url: string;
}

export interface FileRefInput {
  profile: string;
  role: FileRole;
  fileId: string;
}

const UNUSABLE_FILE_STATUSES = new Set(['error', 'deleted', 'deleting']);

/** The run's record of a file as Azure describes it. */
function uploadedFile(file: FileObject, role: FileRole, origin: UploadedFile['origin'], sha256: string | null): UploadedFile {
  return { role, fileId: file.id, filename: file.filename, bytes: file.bytes ?? null, sha256, origin, status: file.status };
}

export function fileActivities(azure: AzureAccess) {
  /** The file as Azure has it now; a final failure with Azure's reason when it could not process it. */
  async function readProcessing(profile: string, role: FileRole, fileId: string): Promise<FileObject> {
    const file = await callAzure(`get ${role} file ${fileId}`, () => azure.openaiV1(profile).files.retrieve(fileId));
    if (UNUSABLE_FILE_STATUSES.has(file.status)) {
      const reason = (file as FileObject & { status_details?: string | null }).status_details ?? 'no reason given';
      throw ApplicationFailure.nonRetryable(`Azure could not process the ${role} file ${file.id} (${file.filename}): status ${file.status}: ${reason}`, 'FileProcessingFailed');
    }
    return file;
  }

  /** The usable files of this name on the account: the content key of earlier uploads of the same bytes. */
  async function findByFilename(profile: string, filename: string): Promise<FileObject[]> {
    return callAzure('list files', async () => {
      const found: FileObject[] = [];
      for await (const file of azure.openaiV1(profile).files.list({ purpose: 'fine-tune' })) {
        if (file.filename === filename && !UNUSABLE_FILE_STATUSES.has(file.status)) found.push(file);
      }
      return found;
    });
  }

  /**
   * Whose a file found by its content-addressed name is. An earlier attempt of this activity that found none
   * heartbeated so before it sent the create (`sending`): the one file of that name is then this run's own upload whose
   * answer was lost, which the run's cleanup deletes like any it uploaded, not another run's to leave alone. Two of that
   * name (another run sent the same bytes meanwhile) cannot be told apart: reused.
   */
  function originOfFound(found: FileObject[], filename: string, created: UploadedFile['origin']): UploadedFile['origin'] {
    const sent = (Context.current().info.heartbeatDetails as { sending?: string } | undefined)?.sending === filename;
    return sent && found.length === 1 ? created : 'reused';
  }

  return {
    /**
     * Uploads a dataset file, streamed (constant memory at any size), with the BOM Azure requires. Idempotent: the
     * filename carries the content hash, so a retry after a lost response finds the file on the account (still this
     * run's upload), and a later run with the same data reuses it.
     */
    async uploadFile(input: UploadFileInput): Promise<UploadedFile> {
      const filename = contentAddressedFilename(basename(input.path), input.uploadSha256);
      const found = await findByFilename(input.profile, filename);
      if (found[0]) return uploadedFile(found[0], input.role, originOfFound(found, filename, 'uploaded'), input.uploadSha256);

      // Every heartbeat says what is being sent, so that a retry that finds it knows it as this run's (originOfFound).
      const sending = { sending: filename };
      Context.current().heartbeat(sending);
      const heartbeat = setInterval(() => Context.current().heartbeat(sending), 1_000);
      try {
        const stream = await openUploadStream(input.path);
        const created = await callAzure(`upload ${input.role} file ${basename(input.path)}`, () =>
          // No SDK retry (a stream cannot be replayed, and a blind re-POST could upload twice): the activity's retry
          // looks for the file by its content-addressed name first.
          azure.openaiV1(input.profile).files.create({ file: toStreamingFile(stream, filename, { type: 'application/jsonl' }), purpose: 'fine-tune' }, { maxRetries: 0 }),
        );
        return uploadedFile(created, input.role, 'uploaded', input.uploadSha256);
      } finally {
        clearInterval(heartbeat);
      }
    },

    /**
     * Asks Azure to import a file from a URL (Azure's files/import, on the dated family: v1 has no import), once per URL:
     * the filename carries the URL's hash, found as uploadFile finds its own.
     */
    async importFile(input: ImportFileInput): Promise<UploadedFile> {
      const urlHash = createHash('sha256').update(input.url).digest('hex');
      const filename = contentAddressedFilename(`import-${input.role}`, urlHash);
      const found = await findByFilename(input.profile, filename);
      if (found[0]) return uploadedFile(found[0], input.role, originOfFound(found, filename, 'imported'), null);
      Context.current().heartbeat({ sending: filename });
      const created = await callAzure(`import ${input.role} file from URL`, () =>
        azure.openai(input.profile).post<FileObject>('/files/import', { body: fileImportBody(input.url, filename), maxRetries: 0 }),
      );
      return uploadedFile(created, input.role, 'imported', null);
    },

    /** Looks up a file given by id; it must exist on the account. */
    async describeFile(input: FileRefInput): Promise<UploadedFile> {
      const file = await callAzure(`get ${input.role} file ${input.fileId}`, () => azure.openaiV1(input.profile).files.retrieve(input.fileId));
      return uploadedFile(file, input.role, 'given', null);
    },

    /**
     * One check that Azure has processed a file: its description when it has, a final failure with Azure's reason when
     * it could not, otherwise a retryable "not yet" after which Temporal checks again, backing off from
     * `intervalSeconds` (activities/waiting.ts): the wait holds no activity slot. With `knownStatus` (what the upload
     * answered) not yet processed, the first attempt only waits.
     */
    async awaitFileProcessed(input: FileRefInput & { intervalSeconds: number; knownStatus?: string }): Promise<UploadedFile> {
      const { attempt } = Context.current().info;
      // The upload's own answer, a moment ago, said Azure has not processed the file: a check now would find the same.
      if (attempt === 1 && input.knownStatus !== undefined && input.knownStatus !== 'processed' && !UNUSABLE_FILE_STATUSES.has(input.knownStatus)) {
        checkAgainLater(`${input.role} file ${input.fileId}`, `status ${input.knownStatus}`, backoffMs(input.intervalSeconds, attempt), 'FileProcessingTimedOut');
      }
      const file = await readProcessing(input.profile, input.role, input.fileId);
      if (file.status === 'processed') return uploadedFile(file, input.role, 'given', null);
      checkAgainLater(`${input.role} file ${file.id} (${file.filename})`, `status ${file.status}`, backoffMs(input.intervalSeconds, attempt), 'FileProcessingTimedOut');
    },

    /**
     * One check that Azure has processed every file of a run (one activity for the training and validation files, not
     * one each: half the activity tasks and workflow tasks). As awaitFileProcessed for each: Azure's reason fails it for
     * good, a file not processed yet makes the attempt a retryable "not yet" (activities/waiting.ts). A file found
     * processed is heartbeated, so the next attempt does not read it again; the result is in the input's order.
     */
    async awaitFilesProcessed(input: { profile: string; intervalSeconds: number; files: (Omit<FileRefInput, 'profile'> & { knownStatus?: string })[] }): Promise<UploadedFile[]> {
      const context = Context.current();
      const { attempt } = context.info;
      const pending = (status: string | undefined): boolean => status !== undefined && status !== 'processed' && !UNUSABLE_FILE_STATUSES.has(status);
      const names = (files: { role: FileRole; fileId: string }[]): string => files.map((f) => `${f.role} file ${f.fileId}`).join(' and ');
      // Files waiting together are mostly in one state: "status pending" once, not once per file.
      const states = (statuses: (string | undefined)[]): string => `status ${[...new Set(statuses)].join(' or ')}`;
      // The upload's own answer, a moment ago, said Azure has processed none of them: a check now would find the same.
      if (attempt === 1 && input.files.every((f) => pending(f.knownStatus))) {
        checkAgainLater(names(input.files), states(input.files.map((f) => f.knownStatus)), backoffMs(input.intervalSeconds, attempt), 'FileProcessingTimedOut');
      }
      const done = new Map<string, UploadedFile>(((context.info.heartbeatDetails as { processed?: UploadedFile[] } | undefined)?.processed ?? []).map((f) => [f.fileId, f]));
      const waiting: { role: FileRole; fileId: string; status: string }[] = [];
      for (const ref of input.files) {
        if (done.has(ref.fileId)) continue;
        const file = await readProcessing(input.profile, ref.role, ref.fileId);
        if (file.status === 'processed') done.set(file.id, uploadedFile(file, ref.role, 'given', null));
        else waiting.push({ role: ref.role, fileId: file.id, status: file.status });
      }
      if (waiting.length === 0) return input.files.map((f) => done.get(f.fileId)!);
      context.heartbeat({ processed: [...done.values()] });
      checkAgainLater(names(waiting), states(waiting.map((w) => w.status)), backoffMs(input.intervalSeconds, attempt), 'FileProcessingTimedOut');
    },

    /**
     * Deletes files; ones already gone count as deleted. A file that a job not yet ended names as its training or
     * validation file is kept, not deleted from under it: another run that reused this run's upload (same bytes), or
     * trains on it by file id. `exceptJob`, the deleting run's own job (cancelled just before), does not count. Returns
     * the ids deleted now or before; with `withKept`, also the files kept and the job that holds each (runs from
     * before ask without it and get the ids alone).
     */
    async deleteFiles(input: { profile: string; fileIds: string[]; exceptJob?: string; withKept?: boolean }): Promise<string[] | DeletedFiles> {
      const client = azure.openaiV1(input.profile);
      const inUse = new Map<string, string>();
      if (input.fileIds.length > 0) {
        await callAzure('list fine-tuning jobs', async () => {
          for await (const job of client.fineTuning.jobs.list({ limit: 100 })) {
            if (isTerminalJobStatus(job.status) || job.id === input.exceptJob) continue;
            for (const fileId of [job.training_file, job.validation_file]) if (fileId && !inUse.has(fileId)) inUse.set(fileId, job.id);
          }
        });
      }
      const deleted: string[] = [];
      const kept: DeletedFiles['kept'] = [];
      for (const fileId of input.fileIds) {
        const jobId = inUse.get(fileId);
        if (jobId !== undefined) {
          kept.push({ fileId, jobId });
          continue;
        }
        try {
          await client.files.delete(fileId);
        } catch (err) {
          if (!isAzureNotFound(err)) throw azureFailure(err, `delete file ${fileId}`);
        }
        deleted.push(fileId);
      }
      return input.withKept ? { deleted, kept } : deleted;
    },
  };
}
