/** Renders the report in headless Chromium (Debian's package) and checks the page and its screenshot are not blank. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { renderReport } from '../../src/report/html';
import { ROOT } from '../helpers/cli';
import { sampleReport } from './fixture';

/** Debian's package; FTPIPE_CHROMIUM points elsewhere (another distribution's path). */
const CHROMIUM = process.env.FTPIPE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

describe('report in headless Chromium', () => {
  let context: BrowserContext | undefined;
  let profileDir: string | undefined;

  before(async () => {
    // Without Chromium the test below fails, counted as a failure, saying how to install it.
    if (!existsSync(CHROMIUM)) return;
    profileDir = mkdtempSync(join(tmpdir(), 'ftpipe-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1024, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('draws both charts with non-empty curves and markers, fetches nothing, and screenshots to a non-blank PNG', async () => {
    assert.ok(context, `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (Debian's package; the test never downloads a browser)`);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    mkdirSync(ARTIFACTS, { recursive: true });
    const htmlPath = join(ARTIFACTS, 'report.html');
    writeFileSync(htmlPath, renderReport(sampleReport({ runName: 'render <test> & "run"' })));
    await page.goto(`file://${htmlPath}`, { waitUntil: 'load' });

    assert.equal(await page.title(), 'ftpipe report: render <test> & "run"');
    assert.equal(await page.locator('h1 code').textContent(), 'render <test> & "run"');
    assert.equal(await page.locator('script').count(), 0);
    // Browser-side code as text: this project compiles without the DOM library.
    const boxes = await page.evaluate<{ cls: string; series: string | null; width: number; height: number }[]>(`
      [...document.querySelectorAll('svg path.series, svg line.checkpoint')].map((e) => {
        const box = e.getBBox();
        return { cls: e.getAttribute('class') ?? '', series: e.getAttribute('data-series'), width: box.width, height: box.height };
      })`);
    const paths = boxes.filter((b) => b.cls === 'series');
    assert.equal(paths.length, 6, JSON.stringify(boxes));
    for (const p of paths) assert.ok(p.width > 100 && p.height > 5, `curve ${p.series} spans the chart: ${JSON.stringify(p)}`);
    const markers = boxes.filter((b) => b.cls.startsWith('checkpoint'));
    assert.equal(markers.length, 6);
    assert.equal(markers.filter((m) => m.cls === 'checkpoint chosen').length, 2);
    for (const m of markers) assert.ok(m.height > 100, JSON.stringify(m));
    const chartSize = await page.locator('#loss-chart svg').boundingBox();
    assert.ok(chartSize && chartSize.width > 300 && chartSize.height > 100, JSON.stringify(chartSize));
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'the report fetches nothing');

    // The whole run is on the page: what is final, hyperparameters, stages, pauses, a failed copy, what is billed.
    assert.match((await page.locator('#state').textContent()) ?? '', /^final Final: the run completed/);
    assert.equal(await page.locator('table.hyperparameters tr').count(), 3);
    assert.equal(await page.locator('table.stages tbody tr').count(), 5);
    assert.match((await page.locator('table.requests tbody tr').first().textContent()) ?? '', /pausealiceupdatedone/);
    assert.ok(await page.locator('table.copies tr.failed').isVisible(), 'the failed copy is visible');
    assert.match((await page.locator('table.copies tr.failed').textContent()) ?? '', /eastus2.*Failed.*no fine-tuning job yet/);

    const png = await page.screenshot({ fullPage: true, path: join(ARTIFACTS, 'report.png') });
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');

    // Count colours in the screenshot with the browser's own PNG decoder, on a blank page.
    const inspector = await context.newPage();
    const pixels = await inspector.evaluate<{ width: number; height: number; colours: number; nonWhiteShare: number }>(`(async () => {
      const image = new Image();
      image.src = 'data:image/png;base64,${png.toString('base64')}';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(image, 0, 0);
      const data = ctx.getImageData(0, 0, image.width, image.height).data;
      const colours = new Set();
      let nonWhite = 0;
      for (let i = 0; i < data.length; i += 4) {
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        if (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240) nonWhite++;
      }
      return { width: image.width, height: image.height, colours: colours.size, nonWhiteShare: nonWhite / (data.length / 4) };
    })()`);
    assert.ok(pixels.width >= 900 && pixels.height > 900, JSON.stringify(pixels));
    assert.ok(pixels.colours > 50, `the screenshot has colour: ${JSON.stringify(pixels)}`);
    assert.ok(pixels.nonWhiteShare > 0.03, `the screenshot is not blank: ${JSON.stringify(pixels)}`);
  });
});
