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
    assert.deepEqual(html.match(/https?:\/\/[^"\s]+/g), ['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg'], 'only the SVG namespace');
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

  it('reads a report from JSON, naming the fields that are wrong', () => {
    const report = sampleReport();
    assert.deepEqual(parseRunReport(JSON.parse(JSON.stringify(report)), 'r.json'), report);
    assert.throws(() => parseRunReport({ ...report, decision: { promoted: 'yes' }, jobId: 3 }, 'r.json'), /^Error: r\.json: not a run report: jobId: .*; decision\.promoted: .*; decision\.reason: /);
  });
});
