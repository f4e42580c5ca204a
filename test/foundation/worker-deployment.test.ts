/** `ftpipe worker --deployment-name --build-id --default-versioning` and their FTPIPE_* variables. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerDeploymentFrom, WorkerDeploymentError } from '../../workers/deployment';
import { runCli } from '../helpers/cli';

describe('worker deployment settings', () => {
  it('reads flags before the environment; pinned by default; neither means unversioned', () => {
    assert.equal(workerDeploymentFrom({}, {}), undefined);
    assert.deepEqual(workerDeploymentFrom({ deploymentName: 'ftpipe', buildId: 'b2' }, {}), { deploymentName: 'ftpipe', buildId: 'b2', defaultVersioningBehavior: 'PINNED' });
    assert.deepEqual(
      workerDeploymentFrom({ buildId: 'b3' }, { FTPIPE_DEPLOYMENT_NAME: 'ftpipe', FTPIPE_BUILD_ID: 'b1', FTPIPE_DEFAULT_VERSIONING: 'auto-upgrade' }),
      { deploymentName: 'ftpipe', buildId: 'b3', defaultVersioningBehavior: 'AUTO_UPGRADE' },
    );
  });

  it('refuses half a version, a name with ".", and an unknown behaviour, naming the setting', () => {
    const refuses = (flags: Parameters<typeof workerDeploymentFrom>[0], env: NodeJS.ProcessEnv, message: RegExp) =>
      assert.throws(() => workerDeploymentFrom(flags, env), (err: Error) => err instanceof WorkerDeploymentError && message.test(err.message));
    refuses({ buildId: 'b1' }, {}, /^--build-id needs --deployment-name \(or FTPIPE_DEPLOYMENT_NAME\)/);
    refuses({}, { FTPIPE_DEPLOYMENT_NAME: 'ftpipe' }, /^FTPIPE_DEPLOYMENT_NAME needs --build-id/);
    refuses({ deploymentName: 'ftpipe.prod', buildId: 'b1' }, {}, /^--deployment-name: "ftpipe\.prod" may not contain "\." or ":"/);
    refuses({ deploymentName: 'ftpipe:prod', buildId: 'b1' }, {}, /may not contain/);
    refuses({ deploymentName: 'ftpipe', buildId: 'b1', defaultVersioning: 'sticky' }, {}, /^--default-versioning: "sticky" is not pinned or auto-upgrade/);
    refuses({ defaultVersioning: 'pinned' }, {}, /^--default-versioning needs --deployment-name and --build-id/);
  });

  it('ftpipe worker: a bad setting is a usage error (exit 2) before it connects anywhere', async () => {
    const result = await runCli(['worker', '--build-id', 'b1', '--address', '127.0.0.1:1']);
    assert.equal(result.code, 2, result.output);
    assert.match(result.output, /ftpipe worker: --build-id needs --deployment-name/);
  });
});
