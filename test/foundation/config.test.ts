import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadWorkerConfig } from '../../src/config/worker-config';

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
