import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadWorkerConfig } from '../../src/config/worker-config';
import { temporalTargetFromEnv } from '../../src/temporal/connection';

describe('Temporal connection from the environment', () => {
  it('defaults to the local dev server without TLS', () => {
    const target = temporalTargetFromEnv({});
    assert.deepEqual(target, { address: '127.0.0.1:7233', namespace: 'default', connectionOptions: { address: '127.0.0.1:7233' } });
  });

  it('configures Temporal Cloud from an API key: TLS on, namespace header, key only in the connection', () => {
    const target = temporalTargetFromEnv({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'ml.abc12', TEMPORAL_API_KEY: 'secret-key' });
    assert.equal(target.address, 'eu-west-1.aws.api.temporal.io:7233');
    assert.equal(target.namespace, 'ml.abc12');
    assert.deepEqual(target.connectionOptions.tls, {});
    assert.equal(target.connectionOptions.apiKey, 'secret-key');
    assert.deepEqual(target.connectionOptions.metadata, { 'temporal-namespace': 'ml.abc12' });
  });

  it('reads mTLS files and refuses a certificate without its key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-tls-'));
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'k.pem'), 'KEY');
    const target = temporalTargetFromEnv({ TEMPORAL_TLS_CERT: join(dir, 'c.pem'), TEMPORAL_TLS_KEY: join(dir, 'k.pem'), TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
    assert.equal(target.connectionOptions.tls?.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(target.connectionOptions.tls?.serverNameOverride, 'temporal.internal');
    assert.throws(() => temporalTargetFromEnv({ TEMPORAL_TLS_CERT: join(dir, 'c.pem') }), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together/);
  });
});

describe('worker configuration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpipe-config-'));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('loads profiles with defaults', () => {
    const path = write('ok.yaml', [
      'profiles:',
      '  - name: prod-swc',
      '    endpoint: https://my-account.openai.azure.com',
      '    subscriptionId: 00000000-0000-0000-0000-000000000000',
      '    resourceGroup: ml',
      '    account: my-account',
      '    region: swedencentral',
      '    auth: { type: apiKey, apiKeyEnv: AZURE_OPENAI_API_KEY }',
    ].join('\n'));
    const config = loadWorkerConfig(path);
    assert.equal(config.profiles[0]?.armEndpoint, 'https://management.azure.com');
    assert.equal(config.profiles[0]?.apiVersion, '2025-04-01-preview');
  });

  it('names the file and the field at fault', () => {
    const path = write('bad.yaml', 'profiles:\n  - name: x\n    endpoint: not-a-url\n');
    assert.throws(() => loadWorkerConfig(path), (err: Error) => err.message.startsWith(`${path}: invalid ftpipe configuration:`) && err.message.includes('profiles.0.endpoint'));
    assert.throws(() => loadWorkerConfig(join(dir, 'missing.yaml')), /cannot read the ftpipe configuration .*missing\.yaml: ENOENT/);
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    const path = write('typo.yaml', 'profile: []\n');
    assert.throws(() => loadWorkerConfig(path), /Unrecognized key.*profile/);
  });
});
