import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, renderReport } from '../../src/report/html';
import { DEVELOPER_TIER_NOTE, HOSTING_FEE_NOTE, INACTIVITY_NOTE } from '../../src/report/notes';
import { parseRunReport } from '../../src/report/parse';
import { sampleReport } from './fixture';

const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&\'';

describe('report HTML', () => {
  it('escapes every piece of run text, so names cannot inject markup', () => {
    const base = sampleReport();
    const html = renderReport({
      ...base,
      runName: HOSTILE,
      baseModel: HOSTILE,
      checkpoints: base.checkpoints.map((c) => ({ ...c, model: `${c.model}${HOSTILE}` })),
      evalScores: base.evalScores.map((s) => ({ ...s, candidate: HOSTILE, perGrader: { [HOSTILE]: 0.5 } })),
      decision: { promoted: false, reason: HOSTILE },
      deployments: base.deployments.map((d) => ({ ...d, name: HOSTILE, sku: HOSTILE, profile: HOSTILE })),
      deleted: [HOSTILE],
      approval: { decision: 'rejected', by: HOSTILE, at: HOSTILE, comment: HOSTILE },
    });
    assert.doesNotMatch(html, /<script|<img|onerror=alert\(1\)>/i);
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;'));
    assert.equal(escapeHtml('a<b>"c"&\'d\''), 'a&lt;b&gt;&quot;c&quot;&amp;&#39;d&#39;');
  });

  it('is self-contained: no scripts, links or external URLs, and a policy that forbids fetching any', () => {
    const html = renderReport(sampleReport());
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script|<link|<iframe|url\(|src=/i);
    // The prices' sources are named as text, not linked.
    const outsideText = html.replace(/<p class="reason">Prices: [^<]*<\/p>/, '');
    assert.deepEqual(outsideText.match(/https?:\/\/[^"\s]+/g), ['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg'], 'only the SVG namespace');
  });

  it('shows the curves with checkpoint markers (the chosen one highlighted), scores, decision and what remains', () => {
    const report = sampleReport();
    const html = renderReport(report);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.equal((html.match(/class="checkpoint"/g) ?? []).length, 4, 'two unchosen checkpoints per chart');
    assert.equal((html.match(/class="checkpoint chosen" data-step="50"/g) ?? []).length, 2);
    for (const series of ['train loss', 'validation loss', 'full validation loss', 'train token accuracy', 'full validation token accuracy']) assert.ok(html.includes(`data-series="${series}"`), series);
    assert.match(html, /step 50 has the lowest full validation loss/);
    assert.match(html, /class="badge warn">overfitting/);
    assert.match(html, /<tr class="best"><td><code>[^<]*ckpt-step-50<\/code><\/td><td>candidate<\/td><td>60<\/td><td><strong>82\.0%<\/strong><\/td><td>75\.0%<\/td><td>89\.0%<\/td><td>\+12\.0 pts<\/td>/);
    assert.match(html, /−6\.0 pts/);
    assert.match(html, /id="decision">promoted/);
    assert.match(html, /approved by maria at 2026-11-22T00:10:00\.000Z/);
    assert.ok(html.includes(escapeHtml(HOSTING_FEE_NOTE)) && html.includes(escapeHtml(INACTIVITY_NOTE)));
    for (const name of report.deleted) assert.ok(html.includes(`<li><code>${name}</code></li>`), name);
  });

  it('renders the sparse cases: no evals, no metrics, nothing live, Developer tier notes', () => {
    const html = renderReport(
      sampleReport({
        metrics: null,
        evalScores: [],
        decision: { promoted: false, reason: 'the run was cancelled' },
        deployments: [{ profile: 'dev', name: 'eval-x', model: 'm', sku: 'DeveloperTier', capacity: 1, provisioningState: 'Succeeded' }],
        deleted: [],
        approval: null,
      }),
    );
    assert.match(html, /No eval set was given/);
    assert.match(html, /ended before its training metrics were analysed/);
    assert.match(html, /No loss values were recorded/);
    assert.ok(html.includes(escapeHtml(DEVELOPER_TIER_NOTE)));
    assert.match(html, /Nothing was deleted/);
    assert.match(html, /not required, or not reached/);
    assert.match(html, /not promoted/);
  });

  it('carries the whole run: state, hyperparameters, dataset, stage durations, pauses and who asked, copies (a failed one too), what is billed', () => {
    const html = renderReport(sampleReport());
    assert.match(html, /id="state"><span class="badge ok">final<\/span> Final: the run completed \(succeeded\)\./);
    assert.match(html, /<tr><th><code>n_epochs<\/code><\/th><td>4<\/td><\/tr><tr><th><code>batch_size<\/code><\/th><td>2<\/td><\/tr>/);
    assert.match(html, /<tr><th>training<\/th><td>50<\/td><td>6,210 \(2,480 trained on\)<\/td><\/tr>/);
    assert.match(html, /Trained tokens \(Azure\): 9,920/);
    assert.match(html, /<td>train<\/td><td>2026-11-21T22:00:03\.000Z<\/td><td>1 h 30 min<\/td>/);
    assert.match(html, /<td>evaluate<\/td><td>[^<]+<\/td><td>30 min 0 s<\/td>/);
    assert.match(html, /<p id="queue-wait">Waited 4 min 44 s for slots on <code>\/subscriptions\/0000\/[^<]+\/accounts\/prod-swc<\/code>: asked at 2026-11-21T22:00:03\.000Z, granted at 2026-11-21T22:04:47\.000Z, given back since\.<\/p>/);
    const waiting = renderReport(sampleReport({ queue: { resource: 'r', state: 'waiting', position: 2, reason: 'job slots (3 of 3 in use)', requestedAt: '2026-11-21T22:00:03.000Z', grantedAt: null, waitedSeconds: 90 } }));
    assert.match(waiting, /<p id="queue-wait">Waiting for slots on <code>r<\/code> since 2026-11-21T22:00:03\.000Z \(1 min 30 s so far, position 2\): job slots \(3 of 3 in use\)<\/p>/);
    assert.match(renderReport(sampleReport({ queue: null })), /did not reach its resource's admission queue/);
    assert.match(html, /<td>2026-11-21T22:40:00\.000Z<\/td><td>pause<\/td><td>alice<\/td><td>update<\/td><td>done<\/td>/);
    assert.match(html, /<tr class="failed"><td>eastus2<\/td>.*<td>Failed<\/td><td>–<\/td><td>The destination account has no fine-tuning job yet<\/td><\/tr>/);
    assert.match(html, /<td>Completed<\/td>/);
    assert.equal((html.match(/hosting fee<\/th>/g) ?? []).length, 1);
    assert.equal((html.match(/<td><strong>\$1\.70\/hour<\/strong><\/td>/g) ?? []).length, 2, 'both GlobalStandard versions are billed $1.70 an hour (prices.ts)');
    assert.match(html, /What stays live costs <strong id="hourly-total">\$3\.40\/hour<\/strong> \(2 deployments\) until deleted\./);
    assert.match(html, /<tr><th>training, billed<\/th><td>\$0\.05<\/td><td>9920 billed tokens x \$5\.5 per 1M<\/td><\/tr>/);
    assert.match(html, /<tr><th>hosting <code>bikes-v3<\/code> \(GlobalStandard\)<\/th><td>–<\/td><td>kept from an earlier run/);
    assert.match(html, /<strong id="total-cost">\$0\.10<\/strong>/);
    assert.match(html, /Prices: https:\/\/learn\.microsoft\.com\/azure\/ai-foundry\/openai\/how-to\/fine-tuning-cost-management, 2026-02-11 \(unverified: /, "an unverified price says so");
  });

  it('the overfitting note quotes the training losses the checkpoint table shows', () => {
    const report = sampleReport();
    const html = renderReport(report);
    const note = report.metrics!.overfitting.detail;
    const quoted = /\((\d\.\d{4}) at step (\d+) to (\d\.\d{4}) at step (\d+);/.exec(note);
    assert.ok(quoted, note);
    for (const [loss, step] of [[quoted[1]!, quoted[2]!], [quoted[3]!, quoted[4]!]]) {
      const row = new RegExp(`<tr(?: class="chosen")?><td>${step}</td><td><code>[^<]+</code></td><td>${loss!.replace('.', '\\.')}</td>`);
      assert.match(html, row, `the table's row for step ${step} shows train loss ${loss} (note: ${note})`);
    }
  });

  it('renders a run still going: the live curve, what is not final, no checkpoint yet', () => {
    const live = sampleReport().metrics!.curve.slice(0, 40);
    const html = renderReport(sampleReport({
      state: { execution: 'RUNNING', stage: 'train', outcome: null, final: false, failure: null, summary: 'Running (stage train): this is the run as of now.' },
      metrics: null, checkpoints: [], evalScores: [], liveCurve: live, deployments: [], deleted: [], approval: null, copies: [],
      decision: { promoted: false, reason: 'not decided yet: the run is in stage train' },
    }));
    assert.match(html, /class="badge running">in progress<\/span> Running \(stage train\)/);
    assert.match(html, /The checkpoint is chosen once training ends; the curves show the metrics seen so far/);
    assert.ok(html.includes('data-series="train loss"'), 'the live curve is drawn');
    assert.match(html, /No copies to other regions were asked for/);
  });

  it('reads a report from JSON, naming the fields that are wrong', () => {
    const report = sampleReport();
    assert.deepEqual(parseRunReport(JSON.parse(JSON.stringify(report)), 'r.json'), report);
    assert.throws(() => parseRunReport({ ...report, decision: { promoted: 'yes' }, jobId: 3 }, 'r.json'), /^Error: r\.json: not a run report: jobId: .*; decision\.promoted: .*; decision\.reason: /);
  });
});
