/**
 * Which credentials a profile uses and which a run needs, as names only (environment variables, never values).
 * Workflow-safe: pure functions over plain data.
 */
import type { AzureAuth } from '../config/profile';

export type CredentialPlane = 'data plane' | 'ARM';

/** The environment variable a profile reads for `plane`, or undefined when it uses Entra ID (DefaultAzureCredential). */
export function credentialVariable(auth: AzureAuth, plane: CredentialPlane): string | undefined {
  switch (auth.type) {
    case 'apiKey':
      return plane === 'data plane' ? auth.apiKeyEnv : auth.armTokenEnv;
    case 'token':
      return auth.tokenEnv;
    case 'entra':
      return undefined;
  }
}

/** The profiles whose ARM credential a run needs: an eval set or a deployment (its own profile), copies deployed elsewhere. */
export interface CredentialNeeds {
  /** Profiles whose data-plane credential the run uses. */
  dataPlane: string[];
  /** Profiles whose ARM credential the run uses. */
  arm: string[];
}

export function credentialNeeds(input: {
  profile: string;
  evaluation: { evalSet?: unknown; graders?: Record<string, unknown>[] | undefined };
  deployment?: unknown;
  copies: { deploy?: { profile: string } | undefined }[];
}): CredentialNeeds {
  const dataPlane = new Set([input.profile]);
  const arm = new Set<string>();
  // An eval set deploys every checkpoint (and a base-model baseline) for scoring; a deployment is ARM too.
  if (input.evaluation.evalSet || input.deployment) arm.add(input.profile);
  for (const grader of input.evaluation.graders ?? []) if (typeof grader.profile === 'string') dataPlane.add(grader.profile);
  for (const copy of input.copies) if (copy.deploy) arm.add(copy.deploy.profile);
  return { dataPlane: [...dataPlane], arm: [...arm] };
}
