import type { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { AzureOpenAI } from 'openai';
import { createArmClient, createOpenAIClient, createOpenAIV1Client } from '../src/azure/clients';
import { azureFailure, isAzureNotFound } from '../src/azure/errors';
import type { AzureProfile } from '../src/config/profile';
import type { ActivityDeps, AzureAccess } from './deps';

/**
 * Resolves profile names to profiles and clients. An unknown profile is a configuration error, not a transient one:
 * the run fails at once, naming the profiles this worker has. Client retries stay low (1): Temporal's activity retry
 * policy does the patient retrying, with Retry-After honoured (see src/azure/errors.ts).
 */
export function azureAccess(deps: ActivityDeps): AzureAccess {
  const profile = (name: string): AzureProfile => {
    const found = deps.config.profiles.find((p) => p.name === name);
    if (!found) {
      const known = deps.config.profiles.map((p) => p.name).join(', ') || '(none configured)';
      throw ApplicationFailure.nonRetryable(`unknown Azure profile "${name}"; this worker has: ${known}`, 'UnknownProfile');
    }
    return found;
  };
  const env = (): NodeJS.ProcessEnv => deps.env ?? process.env;
  /** One client per profile and kind; a profile whose credentials are missing fails the run at once. */
  const cached = <T>(build: (p: AzureProfile) => T): ((name: string) => T) => {
    const clients = new Map<string, T>();
    return (name) => {
      let client = clients.get(name);
      if (!client) {
        const p = profile(name);
        try {
          client = build(p);
        } catch (err) {
          throw ApplicationFailure.nonRetryable(`profile "${name}": ${(err as Error).message}`, 'ProfileCredentials');
        }
        clients.set(name, client);
      }
      return client;
    };
  };
  const clientOptions = { maxRetries: 1, timeoutMs: 60_000 };
  return {
    profile,
    openai: cached<AzureOpenAI>((p) => createOpenAIClient(p, env(), clientOptions)),
    openaiV1: cached<OpenAI>((p) => createOpenAIV1Client(p, env(), clientOptions)),
    arm: cached<CognitiveServicesManagementClient>((p) => createArmClient(p, env())),
  };
}

/** Whether ARM still lists the deployment (a data-plane 404 alone can also mean "not serving yet"). */
export async function armDeploymentExists(azure: AzureAccess, profileName: string, deployment: string): Promise<boolean> {
  const p = azure.profile(profileName);
  try {
    await azure.arm(profileName).deployments.get(p.resourceGroup, p.account, deployment);
    return true;
  } catch (err) {
    if (isAzureNotFound(err)) return false;
    throw azureFailure(err, `get deployment ${deployment}`);
  }
}
