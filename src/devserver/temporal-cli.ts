/** Finds the Temporal CLI that scripts/install-temporal put into .tools/ (or the one TEMPORAL_CLI names). */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths';

export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.TEMPORAL_CLI, join(packageRoot(), '.tools', 'bin', 'temporal')].filter((p): p is string => !!p);
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      continue;
    }
  }
  throw new Error(`the Temporal CLI is not installed (looked for ${candidates.join(', ')}); run: bash scripts/install-temporal`);
}
