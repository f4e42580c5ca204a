/**
 * Azure resource profiles: where a run's Azure OpenAI account lives and how the worker authenticates to it.
 * Profiles live in the worker's configuration, never in workflow input: a workflow names a profile, the
 * worker's activities resolve it. Credentials are referenced by environment variable name only.
 */
import { z } from 'zod';
import { resourceLimitsSchema } from '../admission/limits';
import { DATED_API_VERSION } from '../azure/requests';

export const AzureAuthSchema = z.discriminatedUnion('type', [
  /** `api-key` header for the data plane; ARM still needs a bearer token, so pair with `armTokenEnv` or Entra. */
  z.object({ type: z.literal('apiKey'), apiKeyEnv: z.string().min(1), armTokenEnv: z.string().min(1).optional() }).strict(),
  /** Microsoft Entra ID through DefaultAzureCredential (managed identity, workload identity, az login, ...). */
  z.object({ type: z.literal('entra') }).strict(),
  /** A static bearer token read from an environment variable (the emulator, or `az account get-access-token`). */
  z.object({ type: z.literal('token'), tokenEnv: z.string().min(1) }).strict(),
]);
export type AzureAuth = z.infer<typeof AzureAuthSchema>;

export const AzureProfileSchema = z
  .object({
    name: z.string().min(1),
    /** Data-plane endpoint, e.g. `https://my-account.openai.azure.com` (no `/openai`). */
    endpoint: z.url(),
    subscriptionId: z.string().min(1),
    resourceGroup: z.string().min(1),
    account: z.string().min(1),
    region: z.string().min(1),
    /** Azure Resource Manager endpoint; real Azure unless pointing at the emulator. */
    armEndpoint: z.url().default('https://management.azure.com'),
    auth: AzureAuthSchema,
    /** Extra CA certificate (PEM file) to trust for TLS, e.g. the emulator's generated certificate. */
    caCertPath: z.string().min(1).optional(),
    /** Data-plane api-version for the dated URL family (ftpipe uses it for what only that family offers). */
    apiVersion: z.string().default(DATED_API_VERSION),
    /** The resource's fine-tuning limits that runs queue for (defaults: Azure's quotas page, see src/admission/limits.ts). */
    limits: resourceLimitsSchema().optional(),
    /**
     * This account's view of the model catalogue: `models`/`regions` extend or override the built-in entries (same
     * form as an FTPIPE_CATALOG file), `date` dates them; `strict: true` refuses a combination the catalogue does not
     * list instead of warning about it.
     */
    catalog: z
      .object({
        strict: z.boolean().default(false),
        date: z.string().min(1).optional(),
        models: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
        regions: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type AzureProfile = z.infer<typeof AzureProfileSchema>;

/** The ARM id of the profile's Azure OpenAI account (used as a copy destination and deployment source). */
export function accountResourceId(p: Pick<AzureProfile, 'subscriptionId' | 'resourceGroup' | 'account'>): string {
  return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${p.account}`;
}
