import { ApplicationFailure } from '@temporalio/common';
import type { AzureOpenAI } from 'openai';
import { createOpenAIClient } from '../src/azure/clients';
import type { AzureProfile } from '../src/config/profile';
import type { ActivityDeps, AzureAccess } from './deps';

/**
 * Resolves profile names to profiles and clients. An unknown profile is a configuration error, not a transient one:
 * the run fails at once, naming the profiles this worker has. Client retries stay low (1): Temporal's activity retry
 * policy does the patient retrying, with Retry-After honoured (see src/azure/errors.ts).
 */
export function azureAccess(deps: ActivityDeps): AzureAccess {
  const clients = new Map<string, AzureOpenAI>();
  const profile = (name: string): AzureProfile => {
    const found = deps.config.profiles.find((p) => p.name === name);
    if (!found) {
      const known = deps.config.profiles.map((p) => p.name).join(', ') || '(none configured)';
      throw ApplicationFailure.nonRetryable(`unknown Azure profile "${name}"; this worker has: ${known}`, 'UnknownProfile');
    }
    return found;
  };
  return {
    profile,
    openai(name) {
      let client = clients.get(name);
      if (!client) {
        try {
          client = createOpenAIClient(profile(name), deps.env ?? process.env, { maxRetries: 1, timeoutMs: 60_000 });
        } catch (err) {
          throw ApplicationFailure.nonRetryable(`profile "${name}": ${(err as Error).message}`, 'ProfileCredentials');
        }
        clients.set(name, client);
      }
      return client;
    },
  };
}
