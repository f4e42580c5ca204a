/**
 * Evidence for replay failures: a run's history is gone with the test's dev server (it keeps history in memory), and a
 * nondeterminism error cannot be understood without it. On such an error the run's history is written under
 * `test-artifacts/histories/` (FTPIPE_TEST_ARTIFACTS overrides `test-artifacts`) and its path printed, so CI's log
 * names the file to keep; it replays with `Worker.runReplayHistory` like the recorded histories.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { ROOT } from './cli';

/** True for the SDK's nondeterminism failures, as a replay, a query or a workflow task reports them. */
export function isNondeterminism(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err);
  return /TMPRL1100|[Nn]ondeterminism|DeterminismViolation/.test(text);
}

/** Writes the run's history to the artifacts directory and prints where; returns the path. */
export async function saveHistory(handle: WorkflowHandle, why: string): Promise<string> {
  const dir = join(process.env.FTPIPE_TEST_ARTIFACTS ?? join(ROOT, 'test-artifacts'), 'histories');
  mkdirSync(dir, { recursive: true });
  const history = await handle.fetchHistory();
  const file = join(dir, `${handle.workflowId}.json`.replace(/[^\w.-]/g, '_'));
  writeFileSync(file, historyToJSON(history));
  console.error(`history of ${handle.workflowId} kept in ${file} (${why})`);
  return file;
}

/** Runs `work`; if it fails with a nondeterminism error, keeps the run's history (saveHistory) and rethrows. */
export async function keepHistoryOnFailure<T>(handle: WorkflowHandle, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isNondeterminism(err)) await saveHistory(handle, err instanceof Error ? err.message : String(err)).catch((saveErr: unknown) => console.error(`history of ${handle.workflowId} not kept: ${String(saveErr)}`));
    throw err;
  }
}
