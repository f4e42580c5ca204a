/** `ftpipe doctor --profile` against the emulator: a good profile passes; each mistake is named with its profile and variable. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tokenExpiry } from '../../src/azure/profile-check';
import type { AzureProfile } from '../../src/config/profile';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { emulatorProfiles } from '../../src/stack/emulator-profiles';
import { runCli } from '../helpers/cli';

const jwt = (exp: number): string => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`;

describe('ftpipe doctor --profile', () => {
  let emulator: RunningEmulator;
  let config: string;
  let env: Record<string, string>;

  before(async () => {
    emulator = await startEmulator();
    const stack = emulatorProfiles(emulator);
    const good = stack.profiles[0]!;
    const auth = good.auth as Extract<AzureProfile['auth'], { type: 'apiKey' }>;
    const profiles: AzureProfile[] = [
      good,
      { ...good, name: 'no-key', auth: { ...auth, apiKeyEnv: 'FTPIPE_TEST_UNSET_KEY' } },
      { ...good, name: 'wrong-key', auth: { ...auth, apiKeyEnv: 'FTPIPE_TEST_WRONG_KEY' } },
      { ...good, name: 'wrong-account', account: 'no-such-account' },
      { ...good, name: 'expired-token', auth: { type: 'token', tokenEnv: 'FTPIPE_TEST_EXPIRED_TOKEN' } },
      { ...good, name: 'mars', region: 'Mars North' },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-doctor-'));
    config = join(dir, 'ftpipe.config.json');
    writeFileSync(config, JSON.stringify({ profiles }));
    env = { ...stack.env, FTPIPE_TEST_WRONG_KEY: 'not-the-key', FTPIPE_TEST_EXPIRED_TOKEN: jwt(Math.floor(Date.now() / 1000) - 600) };
  });
  after(async () => {
    await emulator?.stop();
  });

  it('passes a good profile: its variables, its region, one data-plane and one ARM read', async () => {
    const result = await runCli(['doctor', '--profile', 'emulator', '--config', config], env);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /^profile emulator \(.*ftpipe\.config\.json\): account \S+, region swedencentral, auth apiKey$/m);
    assert.match(result.output, /^ {2}ok {3}variable FTPIPE_EMULATOR_KEY_\w+: set \(data-plane api key\)$/m);
    assert.match(result.output, /^ {2}ok {3}region swedencentral: fine-tunes from there: .*gpt-4\.1-mini \(Standard\/Global\/Developer/m);
    assert.match(result.output, /^ {2}ok {3}data plane: list fine-tuning jobs: https?:\/\/\S+ answered with \$FTPIPE_EMULATOR_KEY_\w+ \(no jobs yet\)$/m);
    assert.match(result.output, /^ {2}ok {3}ARM: list deployments: account \S+ answered with \$FTPIPE_EMULATOR_TOKEN \(0 deployments\); creating deployments also needs Azure AI Owner/m);
    for (const secret of Object.values(env)) assert.ok(!result.output.includes(secret), 'no secret is printed');
  });

  it('names each mistake with the profile and the variable, and exits 1', async () => {
    const result = await runCli(['doctor', '--profile', 'no-key', 'wrong-key', 'wrong-account', 'expired-token', 'mars', '--config', config], env);
    assert.equal(result.code, 1, result.output);
    const section = (name: string): string => result.output.split(/^profile /m).find((s) => s.startsWith(`${name} `)) ?? '';
    assert.match(section('no-key'), /FAIL variable FTPIPE_TEST_UNSET_KEY: not set: profile "no-key" reads its data-plane api key from it/);
    assert.match(section('no-key'), /FAIL Azure reads: skipped: set the variables above first/);
    assert.match(section('wrong-key'), /FAIL data plane: list fine-tuning jobs: HTTP 401: Access denied.*\. The credential \(\$FTPIPE_TEST_WRONG_KEY\) was refused by https?:\/\/\S+: wrong key, expired token/);
    assert.match(section('wrong-key'), /ok {3}ARM: list deployments/);
    assert.match(section('wrong-account'), /FAIL ARM: list deployments: HTTP 404 .*check the profile's subscriptionId, resourceGroup and account/);
    assert.match(section('expired-token'), /FAIL variable FTPIPE_TEST_EXPIRED_TOKEN: the token expired at \d{4}-[\d-]+T[\d:.]+Z: get a new one \(az account get-access-token\), or use auth \{type: entra\}/);
    assert.match(section('mars'), /FAIL region marsnorth: not in the catalogue's regions \(.*swedencentral.*\): check the profile's region/);
    for (const secret of Object.values(env)) assert.ok(!result.output.includes(secret), 'no secret is printed');
  });

  it('exits 2 for a profile the configuration lacks, or no configuration', async () => {
    const unknown = await runCli(['doctor', '--profile', 'prod', '--config', config], env);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(unknown.output, /--profile: no profile "prod" in .*ftpipe\.config\.json; it has: emulator, .*no-key/);
    const none = await runCli(['doctor', '--profile', 'prod'], { ...env, FTPIPE_CONFIG: '' });
    assert.equal(none.code, 2, none.output);
    assert.match(none.output, /give --config <file> or set FTPIPE_CONFIG/);
  });

  it('reads a JWT\'s expiry and leaves other tokens alone', () => {
    assert.equal(tokenExpiry(jwt(1_800_000_000))?.toISOString(), '2027-01-15T08:00:00.000Z');
    assert.equal(tokenExpiry('an-api-key'), undefined);
    assert.equal(tokenExpiry('a.b.c'), undefined);
  });
});
