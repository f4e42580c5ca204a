/**
 * Finds the Temporal CLI: the one TEMPORAL_CLI names, the one scripts/install-temporal put into the project's .tools/,
 * or a `temporal` on PATH (the installed npm package carries no installer and no .tools/).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../paths';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function temporalCliPath(env: NodeJS.ProcessEnv = process.env, root: string = packageRoot()): string {
  const installed = [env.TEMPORAL_CLI, join(root, '.tools', 'bin', 'temporal')].filter((p): p is string => !!p);
  const onPath = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'temporal'));
  const found = [...installed, ...onPath].find(executable);
  if (found) return found;
  const installer = join(root, 'scripts', 'install-temporal');
  const how = existsSync(installer)
    ? `run: bash ${join('scripts', 'install-temporal')}`
    : 'install it (https://docs.temporal.io/cli) and put temporal on PATH, or set TEMPORAL_CLI to its path';
  throw new Error(`the Temporal CLI is not installed (looked for ${installed.join(', ')} and temporal on PATH); ${how}`);
}
