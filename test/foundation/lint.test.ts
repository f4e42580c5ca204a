import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = join(__dirname, '..', '..');

/** Lints `code` as if it were a file in workflows/ (type-aware rules off: the file does not exist on disk). */
async function lintAsWorkflow(code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
  const [result] = await eslint.lintText(code, { filePath: join(root, 'workflows', 'lint-probe.ts') });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint rules', () => {
  it('forbids Node built-ins in workflow code', async () => {
    for (const mod of ['fs', 'node:fs', 'crypto', 'node:child_process', 'http']) {
      const messages = await lintAsWorkflow(`import * as m from '${mod}';\nexport const x = m;\n`);
      assert.ok(messages.some((m) => m.startsWith('no-restricted-imports')), `${mod}: ${messages.join('; ')}`);
    }
  });

  it('forbids worker-side SDK packages, I/O clients and activity implementations in workflow code', async () => {
    for (const mod of ['@temporalio/activity', '@temporalio/client', 'openai', '@azure/arm-cognitiveservices', '../activities']) {
      const messages = await lintAsWorkflow(`import * as m from '${mod}';\nexport const x = m;\n`);
      assert.ok(messages.some((m) => m.startsWith('no-restricted-imports')), `${mod}: ${messages.join('; ')}`);
    }
    assert.deepEqual(await lintAsWorkflow(`import type { Activities } from '../activities';\nexport type A = Activities;\n`), []);
  });

  it('forbids Math.random, setTimeout and process in workflow code, and allows the workflow SDK', async () => {
    const messages = await lintAsWorkflow('export const r = Math.random();\nsetTimeout(() => r, 1);\nexport const e = process.env;\n');
    assert.equal(messages.filter((m) => m.startsWith('no-restricted-properties')).length, 1);
    assert.equal(messages.filter((m) => m.startsWith('no-restricted-globals')).length, 2);
    assert.deepEqual(await lintAsWorkflow(`import { sleep } from '@temporalio/workflow';\nexport const s = sleep;\n`), []);
  });

  it('forbids workflow types and message names spelled as strings outside workflows/messages.ts', async () => {
    const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
    const lint = async (code: string, file: string): Promise<string[]> => {
      const [result] = await eslint.lintText(code, { filePath: join(root, file) });
      return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
    };
    const spelled = [
      `await client.workflow.start('fineTunePipeline', { taskQueue: 'q', workflowId: 'w', args: [{}] });`,
      `await client.workflow.execute(\`checkWorker\`, { taskQueue: 'q', workflowId: 'w', args: [{}] });`,
      `await handle.signal('pause', {});`,
      `await handle.query('status');`,
      `await handle.executeUpdate('approveRun', { args: [{}] });`,
      `await client.workflow.signalWithStart(ADMISSION_WORKFLOW_TYPE, { workflowId: 'w', taskQueue: 'q', args: [{}], signal: 'requestSlots', signalArgs: [{}] });`,
    ];
    for (const file of ['test/probe.test.ts', 'src/probe.ts', 'activities/probe.ts']) {
      for (const line of spelled) {
        const messages = await lint(`export async function f(client: any, handle: any, ADMISSION_WORKFLOW_TYPE: string): Promise<void> {\n  ${line}\n}\n`, file);
        assert.equal(messages.filter((m) => m.startsWith('no-restricted-syntax')).length, 1, `${file}: ${line}: ${messages.join('; ')}`);
      }
    }
    const defined = `import { PIPELINE_WORKFLOW_TYPE, pauseSignal, statusQuery } from '../workflows/messages';
export async function f(client: any, handle: any): Promise<void> {
  await client.workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue: 'q', workflowId: 'w', args: [{}] });
  await handle.signal(pauseSignal, {});
  await handle.query(statusQuery);
  await handle.query('__temporal_workflow_metadata');
}
`;
    assert.deepEqual((await lint(defined, 'src/probe.ts')).filter((m) => m.startsWith('no-restricted-syntax')), []);
    assert.deepEqual(await lint(`import { defineQuery } from '@temporalio/workflow';\nexport const q = defineQuery('status');\n`, 'workflows/messages.ts'), []);
  });

  it('reports floating promises anywhere', async () => {
    const eslint = new ESLint({ cwd: root, ignore: false });
    const [result] = await eslint.lintFiles([join(root, 'test', 'fixtures', 'lint', 'floating-promise.ts')]);
    assert.deepEqual(result!.messages.map((m) => m.ruleId), ['@typescript-eslint/no-floating-promises']);
  });
});
