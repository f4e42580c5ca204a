/**
 * `ftpipe doctor --profile NAME`: proves a profile's credentials and region with one cheap read each, before a run
 * depends on them, and says what is missing with the profile and the variable named. Runs where the worker runs (its
 * configuration and environment). Secrets are never printed: only variable names, and a token's expiry time.
 */
import { BUILTIN_CATALOG, findRegion, normalizeRegion, trainingTypesFor, deploymentTypesFor, type Catalog } from '../catalog';
import type { AzureProfile } from '../config/profile';
import { createArmClient, createOpenAIV1Client } from './clients';
import { azureErrorInfo } from './errors';

export interface ProfileCheck {
  /** What was checked, e.g. "data plane: list fine-tuning jobs". */
  check: string;
  ok: boolean;
  /** What was found, or what is wrong and how to fix it. */
  detail: string;
}

type Env = Record<string, string | undefined>;

/** The variables a profile's auth reads, by role. */
function credentialVariables(profile: AzureProfile): { name: string; role: string }[] {
  const auth = profile.auth;
  if (auth.type === 'apiKey') return [{ name: auth.apiKeyEnv, role: 'data-plane api key' }, ...(auth.armTokenEnv ? [{ name: auth.armTokenEnv, role: 'ARM bearer token' }] : [])];
  if (auth.type === 'token') return [{ name: auth.tokenEnv, role: 'bearer token (data plane and ARM)' }];
  return [];
}

/** Expiry of a JWT bearer token (its `exp` claim), without checking its signature; undefined when it is no JWT. */
export function tokenExpiry(token: string): Date | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Why Azure refused, with what to do about it, for the profile and the variable that supplied the credential. */
function refusal(err: unknown, profile: AzureProfile, plane: 'data plane' | 'ARM', credential: string): string {
  const info = azureErrorInfo(err);
  const code = info?.code && info.code !== String(info.status) ? ` ${info.code}` : '';
  const said = (info ? `${info.status === undefined ? 'no answer' : `HTTP ${info.status}`}${code}: ${info.message}` : String(err)).replace(/\.$/, '');
  const target = plane === 'ARM' ? `${profile.armEndpoint} (subscription ${profile.subscriptionId}, resource group ${profile.resourceGroup}, account ${profile.account})` : profile.endpoint;
  if (info?.status === 401) return `${said}. The credential (${credential}) was refused by ${target}: wrong key, expired token, or a token for the other scope (${plane === 'ARM' ? 'ARM needs https://management.azure.com/.default' : 'the data plane needs https://cognitiveservices.azure.com/.default'}).`;
  if (info?.status === 403) {
    const role = plane === 'ARM' ? 'a role with Microsoft.CognitiveServices/accounts/deployments/read (deploying needs Azure AI Owner / Foundry Owner, or .../deployments/write)' : 'Azure AI User / Foundry User (training) on the account';
    return `${said}. The identity behind ${credential} lacks ${role}.`;
  }
  if (info?.status === 404) return `${said}. Nothing found at ${target}: check the profile's ${plane === 'ARM' ? 'subscriptionId, resourceGroup and account' : 'endpoint'}.`;
  return `${said} (from ${target}).`;
}

function credentialName(profile: AzureProfile, plane: 'data plane' | 'ARM'): string {
  const auth = profile.auth;
  if (auth.type === 'apiKey') return plane === 'ARM' ? (auth.armTokenEnv ? `$${auth.armTokenEnv}` : 'DefaultAzureCredential (no armTokenEnv)') : `$${auth.apiKeyEnv}`;
  if (auth.type === 'token') return `$${auth.tokenEnv}`;
  return 'DefaultAzureCredential (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, managed identity, workload identity or az login)';
}

/** The checks, in order: variables, token lifetimes, region in the catalogue, one data-plane read, one ARM read. */
export async function checkProfile(profile: AzureProfile, env: Env = process.env, catalog: Catalog = BUILTIN_CATALOG, now = new Date()): Promise<ProfileCheck[]> {
  const checks: ProfileCheck[] = [];
  let missing = false;
  for (const variable of credentialVariables(profile)) {
    const value = env[variable.name];
    if (!value) {
      missing = true;
      checks.push({ check: `variable ${variable.name}`, ok: false, detail: `not set: profile "${profile.name}" reads its ${variable.role} from it` });
      continue;
    }
    const expiry = variable.role.includes('token') ? tokenExpiry(value) : undefined;
    const left = expiry ? Math.round((expiry.getTime() - now.getTime()) / 60_000) : undefined;
    checks.push({
      check: `variable ${variable.name}`,
      ok: left === undefined || left > 0,
      detail: left === undefined
        ? `set (${variable.role})`
        : left <= 0
          ? `the token expired at ${expiry!.toISOString()}: get a new one (az account get-access-token), or use auth {type: entra}`
          : `set (${variable.role}); the token expires at ${expiry!.toISOString()}, in ${left} min: a run that outlives it fails at its next Azure call (use {type: entra} for long runs)`,
    });
  }

  const region = normalizeRegion(profile.region);
  const known = findRegion(region, catalog);
  const training = catalog.models.map((m) => ({ id: m.id, types: trainingTypesFor(m, region, catalog), deploy: deploymentTypesFor(m, region) })).filter((m) => m.types.length > 0);
  checks.push({
    check: `region ${region}`,
    ok: known !== undefined && training.length > 0,
    detail: !known
      ? `not in the catalogue's regions (${catalog.regions.map((r) => r.name).join(', ')}): check the profile's region, or add it with FTPIPE_CATALOG`
      : training.length === 0
        ? 'no model of the catalogue fine-tunes from there'
        : `fine-tunes from there: ${training.map((m) => `${m.id} (${m.types.join('/')}; deploy ${m.deploy.join('/') || 'elsewhere'})`).join(', ')}`,
  });
  if (missing) {
    checks.push({ check: 'Azure reads', ok: false, detail: 'skipped: set the variables above first' });
    return checks;
  }

  try {
    const client = createOpenAIV1Client(profile, env, { maxRetries: 0, timeoutMs: 30_000 });
    const page = await client.fineTuning.jobs.list({ limit: 1 });
    checks.push({ check: 'data plane: list fine-tuning jobs', ok: true, detail: `${profile.endpoint} answered with ${credentialName(profile, 'data plane')} (${page.data.length === 0 ? 'no jobs yet' : `latest job ${page.data[0]!.id}`})` });
  } catch (err) {
    checks.push({ check: 'data plane: list fine-tuning jobs', ok: false, detail: refusal(err, profile, 'data plane', credentialName(profile, 'data plane')) });
  }
  try {
    const arm = createArmClient(profile, env);
    let count = 0;
    for await (const page of arm.deployments.list(profile.resourceGroup, profile.account).byPage()) {
      count = page.length;
      break;
    }
    checks.push({ check: 'ARM: list deployments', ok: true, detail: `account ${profile.account} answered with ${credentialName(profile, 'ARM')} (${count} deployment${count === 1 ? '' : 's'}); creating deployments also needs Azure AI Owner / Foundry Owner or Microsoft.CognitiveServices/accounts/deployments/write, which no read can prove` });
  } catch (err) {
    checks.push({ check: 'ARM: list deployments', ok: false, detail: refusal(err, profile, 'ARM', credentialName(profile, 'ARM')) });
  }
  return checks;
}
