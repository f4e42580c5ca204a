/**
 * Azure profiles for a running emulator: one per emulated account (named after it), plus `emulator` for the first.
 * The emulator's keys and token go into environment variables the profiles name, exactly as real credentials do.
 */
import { DATED_API_VERSION } from '../azure/requests';
import type { AzureProfile } from '../config/profile';
import type { RunningEmulator } from '../emulator';

export const EMULATOR_PROFILE = 'emulator';
const TOKEN_ENV = 'FTPIPE_EMULATOR_TOKEN';

function keyEnv(account: string): string {
  return `FTPIPE_EMULATOR_KEY_${account.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export interface EmulatorProfiles {
  profiles: AzureProfile[];
  /** Variables holding the emulator's credentials, for the worker's environment. */
  env: Record<string, string>;
}

export function emulatorProfiles(emulator: RunningEmulator): EmulatorProfiles {
  const env: Record<string, string> = { [TOKEN_ENV]: emulator.acceptedTokens[0] ?? '' };
  const profiles = emulator.accounts.map((account): AzureProfile => {
    env[keyEnv(account.name)] = account.apiKey;
    return {
      name: account.name,
      endpoint: account.endpoint,
      subscriptionId: account.subscriptionId,
      resourceGroup: account.resourceGroup,
      account: account.name,
      region: account.region,
      armEndpoint: emulator.armEndpoint,
      auth: { type: 'apiKey', apiKeyEnv: keyEnv(account.name), armTokenEnv: TOKEN_ENV },
      caCertPath: emulator.caCertPath,
      apiVersion: DATED_API_VERSION,
    };
  });
  const first = profiles[0];
  return { profiles: first ? [{ ...first, name: EMULATOR_PROFILE }, ...profiles] : profiles, env };
}
