/**
 * Proves a run's credentials before anything is uploaded: one cheap read per profile and plane (data plane: the newest
 * fine-tuning job, `GET /openai/v1/fine_tuning/jobs?limit=1`; ARM: the first page of the account's deployments).
 * A missing variable, a key or token Azure refuses, or no Entra credential at all fails the run at once, naming the
 * profile, the variable and Azure's code. Transient faults stay retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { azureErrorInfo, azureFailure, credentialErrorName } from '../src/azure/errors';
import { credentialVariable, type CredentialNeeds, type CredentialPlane } from '../src/azure/credentials';
import type { AzureProfile } from '../src/config/profile';
import type { ActivityDeps, AzureAccess } from './deps';

/** Answers that mean "this credential is refused", not "try again later". */
const REFUSED_STATUSES = new Set([401, 403]);

function describeCredential(profile: AzureProfile, plane: CredentialPlane): string {
  const variable = credentialVariable(profile.auth, plane);
  return `profile "${profile.name}", ${plane} credential ${variable ? `from environment variable ${variable}` : 'from Entra ID (DefaultAzureCredential)'}`;
}

/** Variables a profile names that are not set in `env`, per plane. */
export function missingVariables(profile: AzureProfile, env: NodeJS.ProcessEnv): { plane: CredentialPlane; variable: string }[] {
  const missing: { plane: CredentialPlane; variable: string }[] = [];
  for (const plane of ['data plane', 'ARM'] as const) {
    const variable = credentialVariable(profile.auth, plane);
    if (variable && !env[variable] && !missing.some((m) => m.variable === variable)) missing.push({ plane, variable });
  }
  return missing;
}

export function credentialActivities(deps: ActivityDeps, azure: AzureAccess) {
  const env = (): NodeJS.ProcessEnv => deps.env ?? process.env;

  async function prove(profileName: string, plane: CredentialPlane, read: () => Promise<unknown>): Promise<void> {
    const profile = azure.profile(profileName);
    const variable = credentialVariable(profile.auth, plane);
    if (variable && !env()[variable]) {
      throw ApplicationFailure.nonRetryable(`${describeCredential(profile, plane)}: the variable is not set on this worker`, 'CredentialMissing', { profile: profile.name, plane, variable });
    }
    try {
      await read();
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === 'ProfileCredentials') throw err;
      const unavailable = credentialErrorName(err);
      if (unavailable) {
        throw ApplicationFailure.nonRetryable(`${describeCredential(profile, plane)}: ${unavailable}: no Entra ID credential is available to this worker`, 'CredentialUnavailable', { profile: profile.name, plane, code: unavailable });
      }
      const info = azureErrorInfo(err);
      if (info?.status !== undefined && REFUSED_STATUSES.has(info.status)) {
        throw ApplicationFailure.nonRetryable(
          `${describeCredential(profile, plane)}: Azure refused it: HTTP ${info.status}${info.code ? ` ${info.code}` : ''}: ${info.message}`,
          'CredentialRefused',
          { profile: profile.name, plane, ...(variable ? { variable } : {}), status: info.status, code: info.code ?? null },
        );
      }
      throw azureFailure(err, `prove the ${describeCredential(profile, plane)}`);
    }
  }

  return {
    /** One cheap read per profile and plane the run needs (see `credentialNeeds`). */
    async proveCredentials(input: CredentialNeeds): Promise<{ dataPlane: string[]; arm: string[] }> {
      for (const name of input.dataPlane) {
        await prove(name, 'data plane', () => azure.openaiV1(name).fineTuning.jobs.list({ limit: 1 }, { maxRetries: 0 }));
      }
      for (const name of input.arm) {
        const p = azure.profile(name);
        await prove(name, 'ARM', () => azure.arm(name).deployments.list(p.resourceGroup, p.account).byPage().next());
      }
      return { dataPlane: input.dataPlane, arm: input.arm };
    },
  };
}
