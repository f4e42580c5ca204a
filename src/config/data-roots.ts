/**
 * Where a worker may read datasets and eval sets from: the `dataRoots` of its configuration (default: only its working
 * directory). Anyone who can start a workflow names a path; without this, the worker would read and upload any file
 * on its disk (`/etc/passwd`, `/proc/self/environ`). Paths are resolved the way the file system will open them
 * (relative to the working directory, `..` and symlinks followed) and refused outside every root.
 */
import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

export function effectiveDataRoots(dataRoots: string[] | undefined, cwd: string = process.cwd()): string[] {
  return (dataRoots && dataRoots.length > 0 ? dataRoots : [cwd]).map((root) => resolve(cwd, root));
}

async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `path` when it lies inside a data root. Refused (non-retryable `DatasetOutsideDataRoots`) when it
 * resolves outside them; a path that does not exist is `DatasetUnreadable`. Errors name the path, never its content.
 */
export async function confineDataPath(path: string, dataRoots: string[] | undefined, what = 'dataset', cwd: string = process.cwd()): Promise<string> {
  const roots = effectiveDataRoots(dataRoots, cwd);
  const realRoots = await Promise.all(roots.map(async (root) => (await real(root)) ?? root));
  const lexical = resolve(cwd, path);
  const resolved = await real(lexical);
  const target = resolved ?? lexical;
  if (!realRoots.some((root) => inside(target, root))) {
    throw ApplicationFailure.nonRetryable(
      `${what} ${path}${target !== path ? ` (resolves to ${target})` : ''} is outside the worker's dataRoots (${roots.join(', ')}); the worker reads files only from those directories: move the file there or add its directory to dataRoots in the worker configuration`,
      'DatasetOutsideDataRoots',
    );
  }
  if (resolved === undefined) throw ApplicationFailure.nonRetryable(`${what} ${path}: no such file or directory on this worker`, 'DatasetUnreadable');
  return resolved;
}
