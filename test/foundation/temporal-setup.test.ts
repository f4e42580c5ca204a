/**
 * scripts/temporal-setup.sh (docker-compose.yml's temporal-setup service) against a real server: a re-run where the
 * attributes exist succeeds, and the errors `|| true` used to hide fail it. The cluster test runs it on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { SEARCH_ATTRIBUTES, searchAttributeSpec } from '../../src/temporal/search-attributes';
import { ROOT } from '../helpers/cli';
import { useTemporal } from '../helpers/temporal';

const run = promisify(execFile);

describe('scripts/temporal-setup.sh', () => {
  // The shared server has ftpipe's attributes already: nothing here registers a new one.
  const env = useTemporal();

  function setup(specs: string[], vars: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
    return run('sh', [join(ROOT, 'scripts', 'temporal-setup.sh'), ...specs], {
      env: { ...process.env, TEMPORAL_ADDRESS: env.server.address, TEMPORAL_NAMESPACE: env.server.namespace, TEMPORAL_CLI: join(ROOT, '.tools', 'bin', 'temporal'), ...vars },
    });
  }

  it('a re-run on a namespace that has the attributes succeeds', async () => {
    const { stdout } = await setup(SEARCH_ATTRIBUTES.map(searchAttributeSpec));
    assert.match(stdout, /temporal-setup: namespace \S+ has ftpipe's search attributes/);
  });

  it('fails when an attribute exists with another type, and when the namespace never appears', async () => {
    await assert.rejects(setup(['FtpipeRunName=Int']), (err: { code?: number; stdout?: string }) => {
      assert.notEqual(err.code, 0);
      assert.doesNotMatch(err.stdout ?? '', /has ftpipe's search attributes/);
      return true;
    });
    await assert.rejects(setup(['FtpipeRunName'], { TEMPORAL_NAMESPACE: 'ftpipe-no-such-namespace', FTPIPE_SETUP_ATTEMPTS: '2' }), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /namespace ftpipe-no-such-namespace: still failing after 2 attempts/);
      return true;
    });
  });
});
