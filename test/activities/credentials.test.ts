/**
 * Preflight's credential proof against the emulator: a missing variable, a key or token Azure refuses, and no Entra ID
 * credential at all fail at once (non-retryable), naming the profile, the variable and Azure's code; ARM is read only
 * when the run needs it. The worker warns at start about profiles whose variables are missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { azureAccess } from '../../activities/azure-access';
import { credentialActivities } from '../../activities/credentials';
import type { ActivityDeps } from '../../activities/deps';
import { credentialNeeds } from '../../src/azure/credentials';
import type { AzureProfile } from '../../src/config/profile';
import { createLogger } from '../../src/logging';
import { warnMissingCredentials } from '../../workers/worker';
import { failure, runActivity, startActivityTestEnv, type ActivityTestEnv } from './helpers';

const SWC = 'ftpipe-swc';

describe('credential checks in preflight (emulator)', () => {
  let t: ActivityTestEnv;
  let base: AzureProfile;

  /** Credential activities for one extra profile `p` (a variant of the emulator's swc profile) and extra variables. */
  const withProfile = (p: Partial<AzureProfile>, vars: Record<string, string> = {}) => {
    const profile = { ...base, name: 'under-test', ...p };
    const deps: ActivityDeps = { ...t.deps, config: { profiles: [profile] }, env: { ...t.deps.env, ...vars } };
    return credentialActivities(deps, azureAccess(deps));
  };

  before(async () => {
    t = await startActivityTestEnv();
    base = t.deps.config.profiles.find((p) => p.name === SWC)!;
  });
  after(() => t.emu.stop());

  it('proves the data plane with one read, and ARM only when the run needs it', async () => {
    t.emu.control.clearRequests();
    const acts = credentialActivities(t.deps, t.azure);
    await runActivity(() => acts.proveCredentials({ dataPlane: [SWC], arm: [] }));
    assert.deepEqual(t.emu.control.requests().map((r) => r.route), ['jobs.list']);
    t.emu.control.clearRequests();
    await runActivity(() => acts.proveCredentials({ dataPlane: [SWC], arm: [SWC] }));
    assert.deepEqual(t.emu.control.requests().map((r) => r.route), ['jobs.list', 'arm.deployments.list']);
    assert.deepEqual(credentialNeeds({ profile: SWC, evaluation: {}, copies: [] }), { dataPlane: [SWC], arm: [] });
    assert.deepEqual(credentialNeeds({ profile: SWC, evaluation: { evalSet: { path: 'x' } }, copies: [{ deploy: { profile: 'ncus' } }] }), { dataPlane: [SWC], arm: [SWC, 'ncus'] });
  });

  it('fails at once on a missing variable, naming the profile and the variable', async () => {
    const acts = withProfile({ auth: { type: 'apiKey', apiKeyEnv: 'FTPIPE_TEST_UNSET_KEY', armTokenEnv: 'FTPIPE_EMULATOR_TOKEN' } });
    await assert.rejects(runActivity(() => acts.proveCredentials({ dataPlane: ['under-test'], arm: [] })), failure('CredentialMissing', true, /profile "under-test", data plane credential from environment variable FTPIPE_TEST_UNSET_KEY: the variable is not set/));
    const noArm = withProfile({ auth: { type: 'token', tokenEnv: 'FTPIPE_TEST_UNSET_TOKEN' } });
    await assert.rejects(runActivity(() => noArm.proveCredentials({ dataPlane: [], arm: ['under-test'] })), failure('CredentialMissing', true, /ARM credential from environment variable FTPIPE_TEST_UNSET_TOKEN/));
  });

  it('fails at once on a key or a token Azure refuses, naming the profile, the variable and Azure\'s code', async () => {
    const badKey = withProfile({ auth: { type: 'apiKey', apiKeyEnv: 'FTPIPE_TEST_BAD_KEY', armTokenEnv: 'FTPIPE_TEST_BAD_TOKEN' } }, { FTPIPE_TEST_BAD_KEY: 'not-the-key', FTPIPE_TEST_BAD_TOKEN: 'not-a-token' });
    await assert.rejects(
      runActivity(() => badKey.proveCredentials({ dataPlane: ['under-test'], arm: [] })),
      failure('CredentialRefused', true, /profile "under-test", data plane credential from environment variable FTPIPE_TEST_BAD_KEY: Azure refused it: HTTP 401/),
    );
    await assert.rejects(
      runActivity(() => badKey.proveCredentials({ dataPlane: [], arm: ['under-test'] })),
      (err: unknown) => failure('CredentialRefused', true, /ARM credential from environment variable FTPIPE_TEST_BAD_TOKEN: Azure refused it: HTTP 401 \w+/)(err) && !String((err as Error).message).includes('not-a-token'),
    );
  });

  it('fails at once when Entra ID has no credential (CredentialUnavailableError), instead of retrying forever', async () => {
    const entra = withProfile({ auth: { type: 'entra' } });
    await assert.rejects(runActivity(() => entra.proveCredentials({ dataPlane: ['under-test'], arm: [] })), failure('CredentialUnavailable', true, /profile "under-test", data plane credential from Entra ID \(DefaultAzureCredential\): (CredentialUnavailableError|AggregateAuthenticationError)/));
  });

  it('the worker warns at start about each profile whose variables are missing', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
    warnMissingCredentials({ ...t.deps, logger, config: { profiles: [base, { ...base, name: 'lacking', auth: { type: 'apiKey', apiKeyEnv: 'FTPIPE_TEST_UNSET_KEY', armTokenEnv: 'FTPIPE_TEST_UNSET_TOKEN' } }] } });
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(lines[0]!, /Azure profile \\"lacking\\": environment variables FTPIPE_TEST_UNSET_KEY, FTPIPE_TEST_UNSET_TOKEN not set/);
  });
});
