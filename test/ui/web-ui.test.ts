/**
 * The Temporal Web UI as an MLOps user drives it: start a pipeline from the Start Workflow form with the README's input,
 * steer it from the Send an Update dialog (pauseRun, resumeRun, copyToRegionRun, approveRun; a refusal shows inline in
 * the dialog) across a continue-as-new, see it complete. Debian's Chromium through playwright-core (no browser
 * downloads); screenshots of each step go to test-artifacts/ui/.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { DevServerOptions } from '../../src/devserver/dev-server';
import { freePort } from '../../src/devserver/free-port';
import type { PipelineInputDraft } from '../../src/pipeline/input';
import type { PipelineStatus } from '../../src/pipeline/types';
import type { fineTunePipeline } from '../../workflows';
import { approveUpdate, copyToRegionUpdate, pauseUpdate, PIPELINE_WORKFLOW_TYPE, resumeUpdate, statusQuery } from '../../workflows/messages';
import { ROOT } from '../helpers/cli';
import { holdClockOnceTraining } from '../helpers/emulator-state';
import { SHORT_PREPARATION, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
const TASK_QUEUE = 'fine-tuning';
const STEERING_CLOCK = 25;
/** Dialog passes for one update, each on the newest run's page (see sendUpdate). */
const UPDATE_ATTEMPTS = 20;
/**
 * How long one browser action (a click, a wait for the dialog's answer) may take. Generous: at load 50+ a click on a
 * visible, stable "More Actions" button did not finish in 20 s.
 */
const BROWSER_ACTION_MS = 60_000;
/** How long a submit may show nothing (no answer, no "In Progress") before it is taken as lost and repeated. */
const SUBMIT_SEEN_MS = 10_000;

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
  // Temporal suggests a continue-as-new early (its default is thousands of events), so the run continues as new
  // while the user steers it, as a long run does.
  const temporalOptions: DevServerOptions = { dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 120 } };
  before(async () => {
    temporalOptions.uiPort = await freePort();
  });
  // A clock slow enough that the probe sees the job's first step; stopped while the pause is driven by hand, fast
  // while nothing in Azure needs to wait for the user (pausing, paused, resuming, after the resume).
  const env = usePipelineStack({ clockScale: STEERING_CLOCK, timings: SHORT_PREPARATION }, ownServer('opens its Web UI and changes its dynamic config', temporalOptions));
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
   * Submits the update dialog: null when it closes (the update succeeded), else the error it shows inline (not its
   * "In Progress" note). A click the page swallowed while it re-rendered is repeated once the dialog has shown no sign
   * of it for SUBMIT_SEEN_MS (the approval's first click was lost in 3 of 3 runs, and waiting BROWSER_ACTION_MS for its
   * answer cost the test 60 s each time): the dialog keeps its update id until it has an answer, and Temporal runs an
   * update id once. A submit the dialog shows in progress gets the whole BROWSER_ACTION_MS for its answer.
   */
  async function submitUpdate(dialog: Locator): Promise<string | null> {
    const refusal = dialog.getByRole('alert').filter({ hasText: /\S/ }).filter({ hasNotText: 'In Progress' }).first();
    const inProgress = dialog.getByText('In Progress');
    const answer = (timeout: number): Promise<'done' | 'refused' | 'no answer'> => Promise.race([
      dialog.waitFor({ state: 'hidden', timeout }).then(() => 'done' as const),
      refusal.waitFor({ timeout }).then(() => 'refused' as const),
    ].map((wait) => wait.catch(() => 'no answer' as const)));
    const deadline = Date.now() + 3 * BROWSER_ACTION_MS;
    for (let submits = 1; ; submits++) {
      await dialog.getByRole('button', { name: 'Submit' }).click();
      let outcome = await answer(SUBMIT_SEEN_MS);
      if (outcome === 'no answer' && await inProgress.isVisible()) outcome = await answer(BROWSER_ACTION_MS);
      if (outcome === 'done') return null;
      if (outcome === 'refused') return (await refusal.innerText()).trim();
      if (Date.now() > deadline || await inProgress.isVisible()) throw new Error(`the update dialog did not answer after ${submits} submits`);
    }
  }

  /**
   * More Actions → Send an Update → pick the update by its name → paste `input` → Submit, on the page of the run that is open now.
   * Returns the refusal the dialog shows inline, or null when the update succeeded (the dialog closes). The run
   * continues as new between polls, so the page can close under the dialog (the UI then hides the action or the
   * server refuses the closed run): then, as a user would, open the new run's page and send it again, unless
   * `done` says the first one took effect.
   */
  async function sendUpdate<Result, Input extends object>(page: Page, uiUrl: string, handle: WorkflowHandle, update: UpdateDefinition<Result, [Input]>, input: Input, done: (s: PipelineStatus) => boolean): Promise<string | null> {
    const { name } = update;
    for (let attempt = 1; ; attempt++) {
      const { runId } = await handle.describe();
      if (!page.url().includes(runId)) await page.goto(`${uiUrl}/namespaces/default/workflows/${handle.workflowId}/${runId}/history`);
      try {
        await page.getByRole('button', { name: 'More Actions' }).click();
        await page.getByRole('menuitem', { name: 'Send an Update' }).click();
        const dialog = page.getByRole('dialog', { name: 'Send an Update' });
        await dialog.getByTestId('update-select-button').click();
        await dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) }).click();
        await paste(page, dialog, JSON.stringify(input));
        await screenshot(page, `update-${name}`);
        const text = await submitUpdate(dialog);
        if (text === null) return null;
        // Temporal's answer for the run the page shows when that run has continued as new since the page opened.
        if (text.includes('workflow execution already completed')) throw new Error(`${name} reached a closed run: ${text}`);
        await screenshot(page, `update-${name}-refused`);
        await dialog.getByRole('button', { name: 'Cancel' }).first().click();
        await dialog.waitFor({ state: 'hidden' });
        return text;
      } catch (err) {
        const description = await handle.describe();
        if (done(await handle.query(statusQuery))) return null;
        // A retry needs a newer run than the page showed, so each one follows a continue-as-new; a paused run continues
        // every few polls, and on a loaded machine one pass through the dialog can take longer than that (5 attempts
        // lost 5 times at load 33-36), so the bound is generous.
        if (attempt >= UPDATE_ATTEMPTS || description.runId === runId || description.status.name !== 'RUNNING') throw err;
        await page.goto(`${uiUrl}/namespaces/default/workflows/${handle.workflowId}/${description.runId}/history`);
      }
    }
  }

  it('starts a run from the Start Workflow form, steers it from the update dialogs across a continue-as-new, and shows it completed', async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const input = readmeInput();
    input.runName = `ui-${randomUUID().slice(0, 8)}`;
    resolvedForWorker(input.training);
    resolvedForWorker(input.validation);
    // What a user adds to the README's input to have the run wait for their approval before it deploys.
    const deploymentName = `ui-${input.runName.slice(3)}`;
    input.deployment = { name: deploymentName, type: 'GlobalStandard', requireApproval: true };
    const workflowId = `ftpipe-${input.runName}`;
    const uiUrl = env.temporal.ownServer().uiUrl;
    assert.ok(uiUrl, 'the dev server was started without its Web UI');
    const ncus = env.emulator.account('ftpipe-ncus');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(BROWSER_ACTION_MS);
    const failureDump = async (): Promise<void> => {
      writeFileSync(join(ARTIFACTS, 'failure.html'), await page.content());
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png') });
    };

    // The worker stops before the stack's own `after` hooks close its connection.
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      // The copy API needs a fine-tuning job in the destination account: one runs there beside the user's run.
      const destinationRun = await env.start(TASK_QUEUE, env.input({ profile: 'ftpipe-ncus', polling: input.polling as PipelineInputDraft['polling'] }));
      try {
        await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow?workflowType=${PIPELINE_WORKFLOW_TYPE}&taskQueue=${TASK_QUEUE}&workflowId=${workflowId}`);
        await page.getByTestId('workflowId').waitFor();
        assert.equal(await page.getByTestId('workflowId').inputValue(), workflowId);
        assert.equal(await page.getByTestId('workflowType').inputValue(), PIPELINE_WORKFLOW_TYPE);
        assert.equal(await page.getByTestId('taskQueue').inputValue(), TASK_QUEUE);
        await page.getByText('Task Queue is Active').waitFor();
        await paste(page, page.locator('main'), JSON.stringify(input, null, 2));
        await screenshot(page, 'start-form');
        await page.getByTestId('start-workflow-button').click();
        await page.getByRole('link', { name: 'Workflow started successfully' }).click();
        await page.getByTestId('workflow-id-heading').filter({ hasText: workflowId }).waitFor();
        await screenshot(page, 'run-started');

        const handle = env.temporal.client.workflow.getHandle<typeof fineTunePipeline>(workflowId);
        // The pause must land while the job runs: Azure's clock stands still from the job's first step (read from the
        // emulator's own state, in the same tick) while the dialog is driven, however loaded the machine is.
        await holdClockOnceTraining(env.emulator, workflowId, 8 * 60_000);
        const started = await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
        assert.equal(started.runName, input.runName);
        const byUpdate = (kind: string) => (s: PipelineStatus): boolean => s.requests.some((r) => r.kind === kind && r.via === 'update' && r.state === 'done');
        const never = (): boolean => false;

        assert.equal(await sendUpdate(page, uiUrl, handle, pauseUpdate, { by: 'ui-user' }, byUpdate('pause')), null);
        // A pausing job trains no further: the clock runs fast from here.
        env.emulator.control.setClockScale(1000);
        const paused = await env.waitForStatus(handle, (s) => s.job?.status === 'paused');

        // Refusals show in the dialog, with the reason, and change nothing.
        const alreadyPaused = await sendUpdate(page, uiUrl, handle, pauseUpdate, { by: 'ui-user' }, never);
        assert.match(alreadyPaused ?? '', /cannot pause: Azure pauses only running jobs; Azure reports job ftjob-\S+ is paused/);
        const notAwaiting = await sendUpdate(page, uiUrl, handle, approveUpdate, { by: 'ui-user' }, never);
        assert.match(notAwaiting ?? '', /the run is not awaiting approval \(stage train\)/);
        assert.equal((await handle.query(statusQuery)).approval, null);

        // While the job is paused, the run continues as new (Temporal suggests it): the user steers the new run.
        await env.waitForStatus(handle, (s) => s.continuations > paused.continuations);
        const continued = await env.waitForStatus(handle, (s) => s.job?.status === 'paused');
        assert.deepEqual(continued.requests.filter((r) => r.state === 'done').map((r) => [r.kind, r.via]), [['pause', 'update']]);
        await screenshot(page, 'paused');

        assert.equal(await sendUpdate(page, uiUrl, handle, resumeUpdate, { by: 'ui-user' }, byUpdate('resume')), null);
        const resumed = await env.waitForStatus(handle, (s) => s.job?.status !== 'paused');
        assert.ok(resumed.continuations > paused.continuations, 'resumed in a later execution than the pause');
        assert.equal(await sendUpdate(page, uiUrl, handle, copyToRegionUpdate, { destinationResourceId: ncus.armId, region: 'northcentralus' }, (s) => s.copies.length > 0), null);

        await env.waitForStatus(handle, (s) => s.stage === 'await_approval');
        assert.equal(await sendUpdate(page, uiUrl, handle, approveUpdate, { by: 'ui-user', comment: 'from the Web UI' }, (s) => s.approval !== null), null);

        const result = await handle.result();
        assert.equal(result.outcome, 'succeeded');
        assert.deepEqual([result.approval?.decision, result.approval?.by, result.approval?.comment], ['approved', 'ui-user', 'from the Web UI']);
        assert.ok(result.deployments.some((d) => d.name === `${deploymentName}-v1`), JSON.stringify(result.deployments));
        assert.deepEqual(result.copies.map((c) => [c.region, c.status]), [['northcentralus', 'Completed']]);
        // The page the user is on may be an earlier execution's: open the latest, as its "Continued as New" link does.
        const latestRunId = (await handle.describe()).runId;
        if (!page.url().includes(latestRunId)) await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}/${latestRunId}/history`);
        // The run's page refreshes itself; a reload covers a missed refresh.
        const completed = page.locator('header').getByText('Completed', { exact: true }).first();
        await completed.waitFor({ timeout: 10_000 }).catch(async () => {
          await page.reload();
          await completed.waitFor();
        });
        await screenshot(page, 'completed');
        // The refused resume never reached Azure.
        const routes = env.emulator.control.requests().filter((r) => r.route === 'jobs.pause' || r.route === 'jobs.resume').map((r) => `${r.route} ${r.status}`);
        assert.deepEqual(routes, ['jobs.pause 200', 'jobs.resume 200']);
        assert.equal((await destinationRun.result()).outcome, 'succeeded');
      } catch (err) {
        await failureDump();
        throw err;
      }
    });
  });
});
