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
    assert.throws(() => loadWorkerConfig(join(dir, 'missing.yaml')), /cannot read the ftpipe configuration .*missing\.yaml: no such file/);
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    const path = write('typo.yaml', 'profile: []\n');
    assert.throws(() => loadWorkerConfig(path), /typo\.yaml:1: profile: unknown key; did you mean "profiles"\?/);
  });

  it('names the line of each fault, an unknown key by its own path, and a name used twice', () => {
    const path = write('lines.yaml', [
      'profiles:',
      '  - name: prod-swc',
      '    endpoint: my-account.openai.azure.com',
      '    subscriptionId: 0000',
      '    resourceGroup: ml',
      '    account: acc',
      '    region: swedencentral',
      '    auth: { type: apikey, apiKeyEnv: KEY }',
      '    limit: { runningJobs: 2 }',
    ].join('\n'));
    assert.throws(() => loadWorkerConfig(path), (err: Error) => {
      const lines = err.message.split('\n').slice(1).map((l) => l.trim());
      assert.deepEqual(lines.map((l) => /^(.*?:\d+: [\w.]+): /.exec(l)?.[1]), [`${path}:3: profiles.0.endpoint`, `${path}:4: profiles.0.subscriptionId`, `${path}:8: profiles.0.auth.type`, `${path}:9: profiles.0.limit`]);
      assert.match(lines[1]!, /received number: quote it/);
      assert.match(lines[3]!, /profiles\.0\.limit: unknown key; did you mean "limits"\?/);
      return true;
    });
    const twice = write('twice.yaml', 'profiles:\n  - { name: a, endpoint: "https://a.example", subscriptionId: s, resourceGroup: r, account: a, region: swedencentral, auth: { type: entra } }\n  - { name: a, endpoint: "https://b.example", subscriptionId: s, resourceGroup: r, account: b, region: swedencentral, auth: { type: entra } }\n');
    assert.throws(() => loadWorkerConfig(twice), new RegExp(`${twice.replace(/[.]/g, '\\.')}:3: profiles\\.1\\.name: the name "a" is used twice`));
  });

  it('names the line and column of a YAML syntax error without quoting the file', () => {
    const path = write('syntax.yaml', 'profiles:\n  - name: a\n   secretish: https://hooks.example/T0/B0/xyz\n');
    assert.throws(() => loadWorkerConfig(path), (err: Error) => {
      assert.match(err.message, new RegExp(`^${path.replace(/[.]/g, '\\.')}:3:\\d+: not valid YAML/JSON: `));
      assert.doesNotMatch(err.message, /hooks\.example/);
      return true;
    });
  });
});
