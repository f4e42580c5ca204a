/**
 * The two Azure clients ftpipe uses, built from an `AzureProfile`: `AzureOpenAI` (data plane: files, fine-tuning,
 * inference) and `CognitiveServicesManagementClient` (ARM: deployments). Secrets are read from the environment
 * variables the profile names, when the client is built (api key) or on each request (tokens), and never appear
 * in errors or logs. `caCertPath` (e.g. the emulator's certificate) is trusted by these clients only, on top of
 * the system roots, not through a process-wide setting.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { CognitiveServicesManagementClient } from '@azure/arm-cognitiveservices';
import { DefaultAzureCredential, getBearerTokenProvider } from '@azure/identity';
import OpenAI, { AzureOpenAI } from 'openai';
import type { AzureProfile } from '../config/profile';
import { observedArmPolicy, observedFetch } from '../telemetry/azure-calls';
import { fetchTrustingCa } from './trusted-fetch';

export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
export const ARM_SCOPE = 'https://management.azure.com/.default';

type Env = Record<string, string | undefined>;
type ArmCredential = ConstructorParameters<typeof CognitiveServicesManagementClient>[0];

export interface OpenAIClientOptions {
  /** SDK retries of 408/409/429/5xx and connection errors (the SDK's default is 2). */
  maxRetries?: number;
  timeoutMs?: number;
}

export function createOpenAIClient(profile: AzureProfile, env: Env = process.env, options: OpenAIClientOptions = {}): AzureOpenAI {
  const common = {
    endpoint: profile.endpoint,
    apiVersion: profile.apiVersion,
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    fetch: observedFetch(profile.caCertPath ? fetchTrustingCa(readCa(profile)) : undefined),
  };
  const auth = profile.auth;
  switch (auth.type) {
    case 'apiKey':
      return new AzureOpenAI({ ...common, apiKey: requireEnv(env, auth.apiKeyEnv, profile) });
    case 'token':
      requireEnv(env, auth.tokenEnv, profile);
      return new AzureOpenAI({ ...common, azureADTokenProvider: () => Promise.resolve(requireEnv(env, auth.tokenEnv, profile)) });
    case 'entra':
      return new AzureOpenAI({ ...common, azureADTokenProvider: getBearerTokenProvider(new DefaultAzureCredential(), COGNITIVE_SERVICES_SCOPE) });
  }
}

/**
 * An `OpenAI` client on the account's v1 family (`{endpoint}/openai/v1`), for the operations only v1 offers
 * (checkpoint copy). Azure's v1 takes the api key, or an Entra token, as a bearer token.
 */
export function createOpenAIV1Client(profile: AzureProfile, env: Env = process.env, options: OpenAIClientOptions = {}): OpenAI {
  const auth = profile.auth;
  const apiKey =
    auth.type === 'apiKey'
      ? requireEnv(env, auth.apiKeyEnv, profile)
      : auth.type === 'token'
        ? (requireEnv(env, auth.tokenEnv, profile), () => Promise.resolve(requireEnv(env, auth.tokenEnv, profile)))
        : getBearerTokenProvider(new DefaultAzureCredential(), COGNITIVE_SERVICES_SCOPE);
  return new OpenAI({
    baseURL: `${profile.endpoint.replace(/\/+$/, '')}/openai/v1`,
    apiKey,
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    fetch: observedFetch(profile.caCertPath ? fetchTrustingCa(readCa(profile)) : undefined),
  });
}

export function createArmClient(profile: AzureProfile, env: Env = process.env): CognitiveServicesManagementClient {
  const auth = profile.auth;
  const tokenEnv = auth.type === 'token' ? auth.tokenEnv : auth.type === 'apiKey' ? auth.armTokenEnv : undefined;
  let credential: ArmCredential;
  if (tokenEnv) {
    requireEnv(env, tokenEnv, profile);
    credential = staticTokenCredential(() => requireEnv(env, tokenEnv, profile));
  } else {
    credential = new DefaultAzureCredential();
  }
  return new CognitiveServicesManagementClient(credential, profile.subscriptionId, {
    endpoint: profile.armEndpoint,
    credentialScopes: [ARM_SCOPE],
    additionalPolicies: [observedArmPolicy()],
    ...(profile.caCertPath ? { tlsOptions: { ca: [...rootCertificates, readCa(profile)] } } : {}),
  });
}

/** A bearer token from the environment; it reports a one-hour lifetime so the SDK asks again (and re-reads) later. */
function staticTokenCredential(read: () => string): ArmCredential {
  return {
    getToken: () => Promise.resolve({ token: read(), expiresOnTimestamp: Date.now() + 3600_000, tokenType: 'Bearer' }),
  };
}

function requireEnv(env: Env, name: string, profile: AzureProfile): string {
  const value = env[name];
  if (!value) throw new Error(`Azure profile "${profile.name}": environment variable ${name} is not set`);
  return value;
}

function readCa(profile: AzureProfile): string {
  try {
    return readFileSync(profile.caCertPath!, 'utf8');
  } catch (err) {
    throw new Error(`Azure profile "${profile.name}": cannot read caCertPath ${profile.caCertPath!}: ${(err as Error).message}`);
  }
}
