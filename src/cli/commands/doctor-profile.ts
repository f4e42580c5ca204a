/** `ftpipe doctor --profile NAME`: checks Azure profiles of the worker's configuration (src/azure/profile-check.ts). */
import { checkProfile } from '../../azure/profile-check';
import { loadCatalog } from '../../catalog';
import { loadWorkerConfig } from '../../config/worker-config';
import { usageError } from '../usage';

/** Prints each check of each named profile; returns false when one failed. */
export async function doctorProfiles(names: string[], configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const path = configPath ?? env.FTPIPE_CONFIG;
  if (!path) {
    throw usageError('--profile: no configuration to read it from: give --config <file> or set FTPIPE_CONFIG (the file the worker reads)');
  }
  const config = loadWorkerConfig(path);
  const catalog = await loadCatalog({ env });
  let allOk = true;
  for (const name of names) {
    const profile = config.profiles.find((p) => p.name === name);
    if (!profile) {
      throw usageError(`--profile: no profile "${name}" in ${path}; it has: ${config.profiles.map((p) => p.name).join(', ') || '(none)'}`);
    }
    console.log(`profile ${name} (${path}): account ${profile.account}, region ${profile.region}, auth ${profile.auth.type}`);
    for (const check of await checkProfile(profile, env, catalog)) {
      allOk &&= check.ok;
      console.log(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.check}: ${check.detail}`);
    }
  }
  return allOk;
}
