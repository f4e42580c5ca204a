import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TLSConfig } from '@temporalio/client';
import { temporalTargetFromEnv } from '../../src/temporal/connection';
import { runCli, spawnCli } from '../helpers/cli';
import { ownServer, useTemporal } from '../helpers/temporal';

const dir = mkdtempSync(join(tmpdir(), 'ftpipe-temporal-env-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const cert = file('client.pem', 'CERT');
const key = file('client.key', 'KEY');
const ca = file('ca.pem', 'CA');

function tlsOf(target: ReturnType<typeof temporalTargetFromEnv>): TLSConfig {
  const { tls } = target.connectionOptions;
  assert.ok(tls && typeof tls === 'object', `TLS options expected, got ${JSON.stringify(tls)}`);
  return tls;
}

describe('Temporal connection: Temporal\'s environment variables (as the temporal CLI reads them)', () => {
  it('defaults to the local dev server without TLS', () => {
    const target = temporalTargetFromEnv({});
    assert.deepEqual(target, { address: '127.0.0.1:7233', namespace: 'default', connectionOptions: { address: '127.0.0.1:7233' }, deprecations: [], addressSource: 'the default address' });
  });

  it('configures Temporal Cloud from an API key: TLS on, namespace header, key only in the connection', () => {
    const target = temporalTargetFromEnv({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'ml.abc12', TEMPORAL_API_KEY: 'secret-key' });
    assert.equal(target.address, 'eu-west-1.aws.api.temporal.io:7233');
    assert.equal(target.namespace, 'ml.abc12');
    assert.equal(target.connectionOptions.tls, true);
    assert.equal(target.connectionOptions.apiKey, 'secret-key');
    assert.deepEqual(target.connectionOptions.metadata, { 'temporal-namespace': 'ml.abc12' });
  });

  it('reads mTLS and the server CA from TEMPORAL_TLS_CLIENT_CERT_PATH, _CLIENT_KEY_PATH, _SERVER_CA_CERT_PATH, _SERVER_NAME', () => {
    const target = temporalTargetFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const tls = tlsOf(target);
    assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), 'CERT');
    assert.equal(Buffer.from(tls.clientCertPair!.key).toString(), 'KEY');
    assert.equal(Buffer.from(tls.serverRootCACertificate!).toString(), 'CA');
    assert.equal(tls.serverNameOverride, 'temporal.internal');
    assert.deepEqual(target.deprecations, []);
  });

  it('TEMPORAL_TLS=true turns TLS on with the system roots; TEMPORAL_TLS=false keeps it off even with an API key', () => {
    assert.deepEqual(temporalTargetFromEnv({ TEMPORAL_TLS: 'true' }).connectionOptions.tls, {});
    assert.equal(temporalTargetFromEnv({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).connectionOptions.tls, false);
  });

  it('refuses a client certificate without its key, naming both variables', () => {
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }), /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });

  it('names a TLS file that cannot be read', () => {
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }), /ENOENT .*missing\.pem/);
  });
});

describe('Temporal connection: the old ftpipe names keep working, deprecated', () => {
  it('TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA stand for Temporal\'s names, each with a deprecation note', () => {
    const target = temporalTargetFromEnv({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca });
    const tls = tlsOf(target);
    assert.equal(Buffer.from(tls.clientCertPair!.crt).toString(), 'CERT');
    assert.equal(Buffer.from(tls.serverRootCACertificate!).toString(), 'CA');
    assert.deepEqual(target.deprecations, [
      'TEMPORAL_TLS_CERT is deprecated: set TEMPORAL_TLS_CLIENT_CERT_PATH (Temporal\'s name for it) instead',
      'TEMPORAL_TLS_KEY is deprecated: set TEMPORAL_TLS_CLIENT_KEY_PATH (Temporal\'s name for it) instead',
      'TEMPORAL_TLS_CA is deprecated: set TEMPORAL_TLS_SERVER_CA_CERT_PATH (Temporal\'s name for it) instead',
    ]);
  });

  it('Temporal\'s name wins when both are set', () => {
    const target = temporalTargetFromEnv({ TEMPORAL_TLS_CA: join(dir, 'missing.pem'), TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca });
    assert.equal(Buffer.from(tlsOf(target).serverRootCACertificate!).toString(), 'CA');
    assert.match(target.deprecations[0]!, /TEMPORAL_TLS_CA is deprecated and ignored: TEMPORAL_TLS_SERVER_CA_CERT_PATH is set too/);
  });

  it('a certificate without its key is refused under the old names too', () => {
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_TLS_CERT: cert }), /must be given together/);
  });
});

describe('Temporal connection: TOML profiles (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE)', () => {
  const toml = file(
    'temporal.toml',
    [
      '[profile.default]',
      'address = "10.1.1.1:7233"',
      'namespace = "from-default-profile"',
      '',
      '[profile.cloud]',
      'address = "ml.abc12.tmprl.cloud:7233"',
      'namespace = "ml.abc12"',
      'api_key = "profile-secret"',
      '',
      '[profile.mtls]',
      'address = "temporal.internal:7233"',
      '[profile.mtls.tls]',
      `client_cert_path = "${cert}"`,
      `client_key_path = "${key}"`,
      'server_name = "temporal.internal"',
      '',
    ].join('\n'),
  );

  it('reads the default profile of TEMPORAL_CONFIG_FILE, and the one TEMPORAL_PROFILE names', () => {
    const fallback = temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: toml });
    assert.equal(fallback.address, '10.1.1.1:7233');
    assert.equal(fallback.namespace, 'from-default-profile');
    const cloud = temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(cloud.address, 'ml.abc12.tmprl.cloud:7233');
    assert.equal(cloud.connectionOptions.apiKey, 'profile-secret');
    assert.equal(cloud.connectionOptions.tls, true);
    const mtls = temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: toml }, { profile: 'mtls' });
    assert.equal(Buffer.from(tlsOf(mtls).clientCertPair!.key).toString(), 'KEY');
    assert.equal(tlsOf(mtls).serverNameOverride, 'temporal.internal');
  });

  it('finds temporal.toml under $XDG_CONFIG_HOME or ~/.config/temporalio without TEMPORAL_CONFIG_FILE', () => {
    const home = mkdtempSync(join(tmpdir(), 'ftpipe-home-'));
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "home.example:7233"\n');
    assert.equal(temporalTargetFromEnv({ HOME: home }).address, 'home.example:7233');
    assert.equal(temporalTargetFromEnv({ HOME: home, XDG_CONFIG_HOME: join(home, 'nowhere') }).address, '127.0.0.1:7233');
  });

  it('environment variables override the profile, and CLI flags override both', () => {
    const target = temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'ml.other' }, { address: 'flag.example:7233' });
    assert.equal(target.address, 'flag.example:7233');
    assert.equal(target.namespace, 'ml.other');
    assert.equal(target.connectionOptions.address, 'flag.example:7233');
    assert.deepEqual(target.connectionOptions.metadata, { 'temporal-namespace': 'ml.other' });
  });

  it('refuses a profile that is not in the file, and a TEMPORAL_CONFIG_FILE that does not exist', () => {
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }), /temporal\.toml: Profile 'staging' not found/);
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml') }), /absent\.toml \(TEMPORAL_CONFIG_FILE\) does not exist/);
  });

  it('reports invalid TOML by line and column, without quoting the file (it may hold an API key)', () => {
    const bad = file('bad.toml', '[profile.default]\napi_key = "very-secret-key"\naddress = \n');
    assert.throws(
      () => temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: bad }),
      (err: Error) => /bad\.toml: invalid TOML at line 3, column \d+/.test(err.message) && !err.message.includes('very-secret-key'),
    );
  });
});

describe('Temporal connection: worker and CLI on a real server through a TOML profile', () => {
  const env = useTemporal(ownServer('serves a namespace of its own', { namespace: 'ftpipe-profiled' }));

  it('`ftpipe worker` and `ftpipe doctor` take the address and namespace from TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE', async () => {
    const toml = file('real.toml', `[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.here]\naddress = "${env.server.address}"\nnamespace = "ftpipe-profiled"\n`);
    const childEnv = { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'here' };
    const worker = spawnCli(['worker'], childEnv);
    try {
      await worker.waitFor(/"msg":"ftpipe worker started"/);
      assert.match(worker.output(), new RegExp(`"address":"${env.server.address}","namespace":"ftpipe-profiled"`));
      const doctor = await runCli(['doctor'], childEnv);
      assert.equal(doctor.code, 0, doctor.output);
      assert.match(doctor.output, new RegExp(`serves "[^"]+" on ${env.server.address}/ftpipe-profiled`));
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});
