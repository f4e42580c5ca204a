/**
 * A deployment's ARM writes (PUT, DELETE), one request each, sent through the SDK client's own pipeline (its
 * credential, retry, telemetry and TLS policies). The SDK's `begin*` methods also read the operation's status right
 * after the write (core-lro's first poll): a call ftpipe does not need, since it follows the deployment's own
 * `provisioningState` (the GET a later check makes anyway).
 */
import type { CognitiveServicesManagementClient, Deployment } from '@azure/arm-cognitiveservices';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { accountResourceId, type AzureProfile } from '../config/profile';
import { retryAfterMs } from './errors';
import { deploymentResourcePath, type DeploymentCreateBody } from './requests';

export interface ArmWriteAnswer {
  /** 200/201 (PUT), 200/202/204 (DELETE: 204 when there was no such deployment). */
  status: number;
  /** The deployment as ARM answered it (PUT), undefined for an empty answer. */
  deployment: Deployment | undefined;
  retryAfterMs: number | undefined;
}

function parsed(text: string | null | undefined): Deployment | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Deployment;
  } catch {
    return undefined;
  }
}

/** Sends one PUT (with `body`) or DELETE of deployment `name`; an answer of 400 or more is thrown as the SDK's RestError. */
export async function writeDeployment(
  arm: CognitiveServicesManagementClient,
  profile: Pick<AzureProfile, 'armEndpoint' | 'subscriptionId' | 'resourceGroup' | 'account'>,
  name: string,
  write: { method: 'PUT'; body: DeploymentCreateBody } | { method: 'DELETE' },
  abortSignal?: AbortSignal,
): Promise<ArmWriteAnswer> {
  const path = deploymentResourcePath(accountResourceId(profile), name);
  const request = createPipelineRequest({
    url: `${profile.armEndpoint.replace(/\/+$/, '')}${path}?api-version=${encodeURIComponent(arm.apiVersion)}`,
    method: write.method,
    headers: createHttpHeaders(write.method === 'PUT' ? { accept: 'application/json', 'content-type': 'application/json; charset=utf-8' } : { accept: 'application/json' }),
    ...(write.method === 'PUT' ? { body: JSON.stringify(write.body) } : {}),
    ...(abortSignal ? { abortSignal } : {}),
  });
  const response = await arm.sendRequest(request);
  if (response.status >= 400) {
    const code = (parsed(response.bodyAsText) as { error?: { code?: string } } | undefined)?.error?.code;
    throw new RestError(`${write.method} deployment ${name}: ARM answered ${response.status}`, { statusCode: response.status, ...(code ? { code } : {}), request, response });
  }
  return { status: response.status, deployment: parsed(response.bodyAsText), retryAfterMs: retryAfterMs(response.headers) };
}
