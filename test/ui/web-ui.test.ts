/**
 * The Temporal Web UI as an MLOps user drives it: start a pipeline from the Start Workflow form with the README's input,
 * pause and resume it from the signal dialog, see it complete. Debian's Chromium through playwright-core (no browser
 * downloads); screenshots of each step go to test-artifacts/ui/.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { DevServerOptions } from '../../src/devserver/dev-server';
import { freePort } from '../../src/devserver/free-port';
import type { PipelineStatus } from '../../src/pipeline/types';
import { ROOT } from '../helpers/cli';
import { usePipelineStack } from '../helpers/pipeline';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
const TASK_QUEUE = 'fine-tuning';

/** The few browser APIs the page-side code uses (the project's TypeScript has no DOM library). */
interface BrowserGlobals {
  createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
  OffscreenCanvas: new (width: number, height: number) => {
    getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray } } | null;
  };
  DataTransfer: new () => { setData(format: string, data: string): void };
  ClipboardEvent: new (type: string, init: { clipboardData: unknown; bubbles: boolean; cancelable: boolean }) => Event;
}

interface DatasetRef {
  path?: string;
}

/** The input the README tells a UI user to paste: the first json block after "## The workflow input". */
function readmeInput(): Record<string, unknown> & { runName: string; training: DatasetRef; validation?: DatasetRef } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('\n## The workflow input');
  assert.ok(section >= 0, 'README.md has no "## The workflow input" section');
  const block = /```json\n([\s\S]*?)```/.exec(readme.slice(section));
  assert.ok(block?.[1], 'README.md: no ```json block after "## The workflow input"');
  return JSON.parse(block[1]) as ReturnType<typeof readmeInput>;
}

/** The worker runs in this process, so relative dataset paths resolve against its working directory. */
function resolvedForWorker(dataset: DatasetRef | undefined): void {
  if (!dataset?.path || isAbsolute(dataset.path)) return;
  if (process.cwd() !== ROOT) dataset.path = join(ROOT, dataset.path);
  assert.ok(existsSync(dataset.path), `README dataset ${dataset.path} does not exist`);
}

describe('the Temporal Web UI', () => {
  // The UI port is chosen before the stack's own `before` reads these options (hooks run in registration order).
  const temporalOptions: DevServerOptions = {};
  before(async () => {
    temporalOptions.uiPort = await freePort();
  });
  // A clock slow enough that the job trains for ~20 s: time to pause and resume it by hand.
  const env = usePipelineStack({ clockScale: 100 }, temporalOptions);
  let browser: Browser | undefined;

  before(() => {
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });

  let shots = 0;
  /** Saves a screenshot and checks that the browser painted something (a blank page has one colour). */
  async function screenshot(page: Page, step: string): Promise<void> {
    const png = await page.screenshot({ path: join(ARTIFACTS, `${String(++shots).padStart(2, '0')}-${step}.png`) });
    const colours = await page.evaluate(async (base64) => {
      const dom = globalThis as unknown as BrowserGlobals;
      const bitmap = await dom.createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
      const canvas = new dom.OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    }, png.toString('base64'));
    assert.ok(colours >= 8, `screenshot ${step} looks blank (${colours} colours)`);
  }

  /** Pastes text into a CodeMirror editor the way a user's paste does (a clipboard event carrying the text). */
  async function paste(page: Page, editorScope: Locator, text: string): Promise<void> {
    const editor = editorScope.locator('.cm-content[role="textbox"]').first();
    await editor.click();
    await editor.evaluate((element: { dispatchEvent(event: Event): boolean }, content: string) => {
      const dom = globalThis as unknown as BrowserGlobals;
      const clipboardData = new dom.DataTransfer();
      clipboardData.setData('text/plain', content);
      element.dispatchEvent(new dom.ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
    }, text);
    await page.waitForFunction((element) => (element?.textContent ?? '').length > 0, await editor.elementHandle());
  }

  /**
   * More Actions → Send a Signal → pick `name` → paste `{}` → Submit, on the page of the run that is open now. The run
   * continues as new between polls, so the page can close under the dialog (the UI then hides the action or refuses
   * the signal): then open the new run's page and send it again.
   */
  async function sendSignal(page: Page, uiUrl: string, handle: WorkflowHandle, name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { runId } = await handle.describe();
      if (!page.url().includes(runId)) await page.goto(`${uiUrl}/namespaces/default/workflows/${handle.workflowId}/${runId}/history`);
      try {
        await page.getByRole('button', { name: 'More Actions' }).click();
        await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
        const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
        await dialog.getByTestId('signal-select-button').click();
        await dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) }).click();
        await paste(page, dialog, '{}');
        await screenshot(page, `signal-${name}`);
        await dialog.getByRole('button', { name: 'Submit' }).click();
        await dialog.waitFor({ state: 'hidden' });
        return;
      } catch (err) {
        const { runId: latest, status } = await handle.describe();
        if (attempt >= 3 || latest === runId || status.name !== 'RUNNING') throw err;
        await page.goto(`${uiUrl}/namespaces/default/workflows/${handle.workflowId}/${latest}/history`);
      }
    }
  }

  it('starts a run from the Start Workflow form, pauses and resumes it from the signal dialog, and shows it completed', { timeout: 150_000 }, async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const input = readmeInput();
    input.runName = `ui-${randomUUID().slice(0, 8)}`;
    resolvedForWorker(input.training);
    resolvedForWorker(input.validation);
    const workflowId = `ftpipe-${input.runName}`;
    const uiUrl = env.temporal.server.uiUrl;
    assert.ok(uiUrl, 'the dev server was started without its Web UI');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(15_000);
    const failureDump = async (): Promise<void> => {
      writeFileSync(join(ARTIFACTS, 'failure.html'), await page.content());
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png') });
    };

    // The worker stops before the stack's own `after` hooks close its connection.
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      try {
        await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow?workflowType=fineTunePipeline&taskQueue=${TASK_QUEUE}&workflowId=${workflowId}`);
        await page.getByTestId('workflowId').waitFor();
        assert.equal(await page.getByTestId('workflowId').inputValue(), workflowId);
        assert.equal(await page.getByTestId('workflowType').inputValue(), 'fineTunePipeline');
        assert.equal(await page.getByTestId('taskQueue').inputValue(), TASK_QUEUE);
        await page.getByText('Task Queue is Active').waitFor();
        await paste(page, page.locator('main'), JSON.stringify(input, null, 2));
        await screenshot(page, 'start-form');
        await page.getByTestId('start-workflow-button').click();
        await page.getByRole('link', { name: 'Workflow started successfully' }).click();
        await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();
        await screenshot(page, 'run-started');

        const handle = env.temporal.client.workflow.getHandle(workflowId);
        const started = await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1, 45_000);
        assert.equal(started.runName, input.runName);

        await sendSignal(page, uiUrl, handle, 'pause');
        const paused = await env.waitForStatus(handle, (s) => s.job?.status === 'paused', 15_000);
        assert.deepEqual(paused.requests.map((r) => [r.kind, r.via, r.state]), [['pause', 'signal', 'done']]);
        await screenshot(page, 'paused');

        await sendSignal(page, uiUrl, handle, 'resume');
        const resumed = await env.waitForStatus(handle, (s: PipelineStatus) => s.requests.length === 2 && s.requests[1]?.state !== 'pending', 15_000);
        assert.deepEqual(resumed.requests.map((r) => [r.kind, r.via, r.state]), [['pause', 'signal', 'done'], ['resume', 'signal', 'done']]);
        await env.waitForStatus(handle, (s) => s.job?.status === 'running' || s.job?.status === 'succeeded', 15_000);

        const result = await handle.result();
        assert.equal(result.outcome, 'succeeded');
        // Long runs continue as new (history budget): the page opened at start shows the first run, so follow its link to the latest.
        const latestRunId = (await handle.describe()).runId;
        if (!page.url().includes(latestRunId)) await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}/${latestRunId}/history`);
        // The run's page refreshes itself; a reload covers a missed refresh.
        const completed = page.locator('header').getByText('Completed', { exact: true }).first();
        await completed.waitFor({ timeout: 10_000 }).catch(async () => {
          await page.reload();
          await completed.waitFor();
        });
        await screenshot(page, 'completed');
        const routes = env.emulator.control.requests().filter((r) => r.route === 'jobs.pause' || r.route === 'jobs.resume').map((r) => `${r.route} ${r.status}`);
        assert.deepEqual(routes, ['jobs.pause 200', 'jobs.resume 200']);
      } catch (err) {
        await failureDump();
        throw err;
      }
    });
  });
});
