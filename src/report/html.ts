/**
 * Renders a run's report as one self-contained HTML file: inline CSS and SVG, no scripts, no external assets (a
 * Content-Security-Policy forbids fetching any). Every piece of text from the run is escaped.
 */
import type { CheckpointSummary, EvalScore, ResultsRow, RunReport } from '../pipeline/types';
import { HOSTING_PRICES, priceSourceText } from '../catalog/prices';
import { deployCost } from '../pipeline/approval';
import { deploymentTypeOf } from '../pipeline/cost';
import { billedHourly, deploymentNotes, hourlyFee, usd } from './notes';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const num = (value: number | null | undefined, digits = 4): string => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

interface Point {
  x: number;
  y: number;
}

interface Series {
  label: string;
  color: string;
  points: Point[];
  /** Sparse series (one value per epoch) get dots on their points. */
  dots: boolean;
  dashed: boolean;
}

interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  series: Series[];
  checkpoints: CheckpointSummary[];
  chosenStep: number | null;
}

const WIDTH = 760;
const HEIGHT = 300;
const MARGIN = { left: 60, right: 40, top: 40, bottom: 42 };
const COLORS = { train: '#1f6fb4', valid: '#e07b12', fullValid: '#c62828', chosen: '#2e7d32', marker: '#8a8f98', grid: '#e3e6ea', axis: '#59606b' };

/** Tick values at a "nice" spacing (1, 2, 5 x 10^n) covering [min, max]. */
function ticks(min: number, max: number, count = 5): number[] {
  if (max <= min) return [min];
  const rough = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(value: number): string {
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(value) : value.toPrecision(3).replace(/\.?0+$/, '');
}

function series(rows: ResultsRow[], pick: (r: ResultsRow) => number | null, label: string, color: string, dots: boolean, dashed = false): Series {
  return { label, color, dots, dashed, points: rows.flatMap((r) => (pick(r) === null ? [] : [{ x: r.step, y: pick(r)! }])) };
}

function lineChart(spec: ChartSpec): string {
  const drawn = spec.series.filter((s) => s.points.length > 0);
  const head = `<figure class="chart" id="${spec.id}"><figcaption>${escapeHtml(spec.title)}</figcaption>`;
  if (drawn.length === 0) return `${head}<p class="empty">No ${escapeHtml(spec.yLabel)} values were recorded for this job.</p></figure>`;
  const all = drawn.flatMap((s) => s.points);
  const steps = [...all.map((p) => p.x), ...spec.checkpoints.map((c) => c.step)];
  const [xMin, xMax] = [Math.min(...steps), Math.max(...steps)];
  let [yMin, yMax] = [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
  const pad = (yMax - yMin || Math.abs(yMax) || 1) * 0.08;
  [yMin, yMax] = [yMin - pad, yMax + pad];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number): number => MARGIN.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [];
  for (const t of ticks(yMin, yMax)) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(sy(t))}" y2="${f(sy(t))}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end" class="tick">${escapeHtml(tickLabel(t))}</text>`);
  }
  for (const t of ticks(xMin, xMax, 8).filter((t) => Number.isInteger(t))) {
    parts.push(`<text x="${f(sx(t))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" class="tick">${t}</text>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="${COLORS.axis}"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${COLORS.axis}"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle" class="axis-label">training step</text>`);
  parts.push(`<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(spec.yLabel)}</text>`);

  for (const c of spec.checkpoints) {
    const chosen = c.step === spec.chosenStep;
    const x = f(sx(c.step));
    parts.push(
      `<line class="checkpoint${chosen ? ' chosen' : ''}" data-step="${c.step}" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${chosen ? COLORS.chosen : COLORS.marker}" stroke-width="${chosen ? 3 : 1.5}"${chosen ? '' : ' stroke-dasharray="5 4"'}><title>${escapeHtml(`checkpoint step ${c.step}: ${c.model}${chosen ? ' (chosen)' : ''}`)}</title></line>`,
    );
    parts.push(`<text x="${x}" y="${MARGIN.top - 4}" text-anchor="middle" class="marker-label${chosen ? ' chosen' : ''}">${chosen ? `★ step ${c.step}` : `step ${c.step}`}</text>`);
  }

  for (const s of drawn) {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(sx(p.x))} ${f(sy(p.y))}`).join(' ');
    parts.push(`<path class="series" data-series="${escapeHtml(s.label)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.dots ? 2 : 1.5}"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    if (s.dots) for (const p of s.points) parts.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="3.5" fill="${s.color}"/>`);
  }

  let legendX = MARGIN.left + 8;
  for (const s of drawn) {
    parts.push(`<rect x="${legendX}" y="6" width="14" height="4" fill="${s.color}"/><text x="${legendX + 18}" y="12" class="legend">${escapeHtml(s.label)}</text>`);
    legendX += 26 + s.label.length * 6.4;
  }

  return `${head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(spec.title)}">${parts.join('')}</svg></figure>`;
}

/** What the approver decides on (the run's ApprovalEvidence): the lift against the baseline and what approving deploys at what cost. */
function approvalEvidenceRows(report: RunReport): [string, string][] {
  const e = report.approvalEvidence;
  if (!e) return [];
  const scores = e.score === null
    ? 'no eval set: the checkpoint was chosen by its training metrics'
    : e.baseline
      ? `the chosen checkpoint scores ${pct(e.score)} vs baseline <code>${escapeHtml(e.baseline.name)}</code> ${pct(e.baseline.score)}: lift ${(e.lift ?? 0) >= 0 ? '+' : '−'}${(Math.abs(e.lift ?? 0) * 100).toFixed(1)} pts (required ${(e.minLift * 100).toFixed(1)} pts)`
      : `the chosen checkpoint scores ${pct(e.score)}; no baseline, so no lift`;
  const waiting = report.state?.stage === 'await_approval';
  return [
    [waiting ? 'the approver sees' : 'the approver saw', `<code>${escapeHtml(e.chosen.model)}</code> (step ${e.chosen.step}); ${scores}`],
    ['approving deploys', `a new version of <code>${escapeHtml(e.deploy.name)}</code> (${escapeHtml(e.deploy.type)} x${e.deploy.capacity}): ${escapeHtml(deployCost(e.deploy))}`],
  ];
}

function definitionList(entries: [string, string][]): string {
  return `<dl>${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function checkpointTable(report: RunReport): string {
  if (report.checkpoints.length === 0) return '<p class="empty">The job kept no checkpoints.</p>';
  const chosen = report.metrics?.chosen.step ?? null;
  const rows = report.checkpoints
    .map((c) => {
      const m = c.step === chosen && report.metrics ? report.metrics.chosen.metrics : c.metrics;
      return `<tr${c.step === chosen ? ' class="chosen"' : ''}><td>${c.step}</td><td><code>${escapeHtml(c.model)}</code></td><td>${num(m.trainLoss)}</td><td>${num(m.fullValidLoss ?? m.validLoss)}</td><td>${num(m.fullValidMeanTokenAccuracy ?? m.validMeanTokenAccuracy)}</td><td>${c.step === chosen ? '★ chosen' : ''}</td></tr>`;
    })
    .join('');
  return `<table class="checkpoints"><thead><tr><th>step</th><th>model</th><th>train loss</th><th>validation loss</th><th>validation token accuracy</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Azure's own evaluation of the job: its full validation pass at each epoch's checkpoint, and why the run stopped it, if it did. */
function automaticEvaluationTable(report: RunReport): string {
  const evaluations = report.automaticEvaluations ?? [];
  const stopped = report.stoppedBy ? `<p class="reason" id="stopped-by">Stopped by ${report.stoppedBy.kind === 'budget' ? 'the budget' : 'evaluation.stopEarly'}: ${escapeHtml(report.stoppedBy.explanation)}</p>` : '';
  if (evaluations.length === 0) return `<p class="empty">No automatic evaluation: Azure evaluates a job on its validation file, at each epoch's checkpoint.</p>${stopped}`;
  const rows = evaluations.map((e) => `<tr><td>${e.step}</td><td><code>${escapeHtml(e.checkpointId)}</code></td><td>${num(e.fullValidLoss)}</td><td>${num(e.fullValidMeanTokenAccuracy)}</td></tr>`).join('');
  return `<table class="automatic-evaluations"><thead><tr><th>step</th><th>checkpoint</th><th>full validation loss</th><th>full validation token accuracy</th></tr></thead><tbody>${rows}</tbody></table>${stopped}`;
}

function evalTable(scores: EvalScore[]): string {
  if (scores.length === 0) return '<p class="empty">No eval set was given: the decision rests on the training metrics.</p>';
  const graders = [...new Set(scores.flatMap((s) => Object.keys(s.perGrader)))];
  const baseline = scores.find((s) => s.kind === 'baseline');
  const bestCandidate = scores.filter((s) => s.kind === 'candidate').reduce<EvalScore | undefined>((best, s) => (!best || s.score > best.score ? s : best), undefined);
  const rows = scores
    .map((s) => {
      const lift = baseline && s.kind === 'candidate' ? `${s.score - baseline.score >= 0 ? '+' : '−'}${(Math.abs(s.score - baseline.score) * 100).toFixed(1)} pts` : '';
      const cls = s === bestCandidate ? ' class="best"' : s.kind === 'baseline' ? ' class="baseline"' : '';
      return `<tr${cls}><td><code>${escapeHtml(s.candidate)}</code></td><td>${escapeHtml(s.kind)}</td><td>${s.items}</td><td><strong>${pct(s.score)}</strong></td>${graders.map((g) => `<td>${s.perGrader[g] === undefined ? '–' : pct(s.perGrader[g])}</td>`).join('')}<td>${lift}</td></tr>`;
    })
    .join('');
  return `<table class="scores"><thead><tr><th>evaluated</th><th>role</th><th>items</th><th>score</th>${graders.map((g) => `<th>${escapeHtml(g)}</th>`).join('')}<th>lift vs baseline</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The hosting fee cell: the amount per hour, or why there is none. */
function feeCell(d: RunReport['deployments'][number]): string {
  if (!billedHourly(d)) return 'no';
  const { usdPerHour, note } = hourlyFee(d);
  return usdPerHour === null ? `yes (${escapeHtml(note)})` : `<strong>${usd(usdPerHour)}/hour</strong>`;
}

const money = (amount: number | null): string => (amount === null ? '–' : usd(amount));

/** The cost ledger (src/pipeline/cost.ts): training estimated and billed, the evaluation, hosting accrued and per hour. */
function costSection(report: RunReport): string {
  const cost = report.cost;
  if (!cost) return '<p class="empty">This report predates ftpipe\'s cost ledger: see Azure OpenAI pricing.</p>';
  const rows = [
    `<tr><th>training, estimated before upload</th><td>${money(cost.training.estimatedUsd)}</td><td></td></tr>`,
    `<tr><th>training, billed</th><td>${money(cost.training.billedUsd ?? cost.training.countedUsd ?? null)}${cost.training.billedUsd === null && (cost.training.countedUsd ?? null) !== null ? ' (counted so far)' : ''}</td><td>${escapeHtml(cost.training.basis)}</td></tr>`,
  ];
  const e = cost.evaluation;
  if (e) rows.push(`<tr><th>evaluation deployments</th><td>${money(e.usd)}</td><td>${e.deployments} on ${escapeHtml(e.sku)} for ${num(e.hours, 2)} h at ${e.usdPerHour === null ? 'a rate not in the catalogue' : `${usd(e.usdPerHour)}/hour`} each</td></tr>`);
  for (const h of cost.hosting) {
    const rate = h.usdPerHour === null ? 'a rate not in the catalogue' : `${usd(h.usdPerHour)}/hour`;
    const accrued = h.since === null ? 'kept from an earlier run (its hosting so far is billed to that run)' : `${num(h.hours, 2)} h since ${escapeHtml(h.since)} at ${rate}`;
    rows.push(`<tr><th>hosting <code>${escapeHtml(h.name)}</code> (${escapeHtml(h.sku)})</th><td>${h.since === null ? '–' : money(h.usd)}</td><td>${accrued}</td></tr>`);
  }
  rows.push(`<tr class="total"><th>total so far</th><td><strong id="total-cost">${money(cost.totalUsd)}</strong></td><td>as of ${escapeHtml(cost.asOf)}; token charges of inference are billed apart</td></tr>`);
  const hourly = cost.hosting.length === 0
    ? 'Nothing stays live: no hosting fee accrues from this run.'
    : cost.hourlyUsdWhileLive === null
      ? 'What stays live is billed partly at rates not in ftpipe\'s catalogue (PTU-hours or an unknown SKU).'
      : `What stays live costs <strong id="hourly-total">${usd(cost.hourlyUsdWhileLive)}/hour</strong> (${cost.hosting.length} deployment${cost.hosting.length === 1 ? '' : 's'}) until deleted.`;
  const sources = [...new Set(cost.hosting.flatMap((h) => {
    const type = deploymentTypeOf(h.sku);
    return type ? [priceSourceText(HOSTING_PRICES[type].source)] : [];
  }))];
  const notes = cost.notes.length ? `<ul class="cost-notes">${cost.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<table class="cost"><tbody>${rows.join('')}</tbody></table><p class="reason">${hourly}</p>${notes}<p class="reason">Prices: ${sources.length ? sources.map(escapeHtml).join('; ') : 'src/catalog/prices.ts'}. Check Azure OpenAI pricing for your region before relying on a figure.</p>`;
}

function deploymentsSection(report: RunReport): string {
  const live =
    report.deployments.length === 0
      ? '<p class="empty">Nothing this run created is live.</p>'
      : `<table class="deployments"><thead><tr><th>deployment</th><th>model</th><th>type</th><th>capacity</th><th>profile</th><th>state</th><th>hosting fee</th><th>cost and lifetime</th></tr></thead><tbody>${report.deployments
          .map(
            (d) =>
              `<tr><td><code>${escapeHtml(d.name)}</code></td><td><code>${escapeHtml(d.model)}</code></td><td>${escapeHtml(d.sku)}</td><td>${d.capacity}</td><td>${escapeHtml(d.profile)}</td><td>${escapeHtml(d.provisioningState)}</td><td>${feeCell(d)}</td><td>${deploymentNotes(d).map(escapeHtml).join('<br>')}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const deleted = report.deleted.length === 0 ? '<p class="empty">Nothing was deleted.</p>' : `<ul class="deleted">${report.deleted.map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join('')}</ul>`;
  return `<h3>Live</h3>${live}<h3>Deleted by this run</h3>${deleted}`;
}

const int = (value: number | null | undefined): string => (value === null || value === undefined ? '–' : value.toLocaleString('en-US'));

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

function stateBanner(report: RunReport): string {
  const state = report.state;
  if (!state) return '';
  const label = state.final ? (state.execution === 'COMPLETED' ? 'final' : `final: ${state.execution.toLowerCase().replace(/_/g, ' ')}`) : state.stage === 'await_approval' ? 'awaiting approval' : 'in progress';
  const cls = !state.final ? 'running' : state.execution === 'COMPLETED' ? 'ok' : 'warn';
  return `<p class="state" id="state"><span class="badge ${cls}">${escapeHtml(label)}</span> ${escapeHtml(state.summary)}</p>`;
}

/** How long the run waited for its resource's slots (the await_slot stage), or where it stands while it waits. */
function queueLine(queue: RunReport['queue']): string {
  if (queue === undefined) return '<p class="empty">This report predates the queue wait.</p>';
  if (queue === null) return '<p class="empty">The run did not reach its resource\'s admission queue.</p>';
  const where = `for slots on <code>${escapeHtml(queue.resource)}</code>`;
  const waited = queue.waitedSeconds === null ? '' : duration(queue.waitedSeconds);
  if (queue.state === 'requested' || queue.state === 'waiting') {
    return `<p id="queue-wait">Waiting ${where} since ${escapeHtml(queue.requestedAt)} (${waited} so far${queue.position !== null ? `, position ${queue.position}` : ''}): ${escapeHtml(queue.reason)}</p>`;
  }
  if (queue.grantedAt === null) return `<p id="queue-wait">Asked ${where} at ${escapeHtml(queue.requestedAt)} and ended before they were granted.</p>`;
  return `<p id="queue-wait">Waited ${waited} ${where}: asked at ${escapeHtml(queue.requestedAt)}, granted at ${escapeHtml(queue.grantedAt)}${queue.state === 'released' ? ', given back since' : ''}.</p>`;
}

function runSection(report: RunReport): string {
  const parts: string[] = [];
  const hp = report.hyperparameters;
  parts.push('<h3>Hyperparameters (as Azure resolved them)</h3>');
  parts.push(hp && Object.keys(hp).length > 0
    ? `<table class="hyperparameters"><tbody>${Object.entries(hp).map(([k, v]) => `<tr><th><code>${escapeHtml(k)}</code></th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="empty">Not known yet: Azure reports them once the job exists.</p>');
  const d = report.dataset;
  parts.push('<h3>Dataset</h3>');
  parts.push(d
    ? `<table class="dataset"><thead><tr><th></th><th>examples</th><th>tokens</th></tr></thead><tbody>
<tr><th>training</th><td>${int(d.trainingExamples)}</td><td>${int(d.trainingTokens)} (${int(d.trainableTokens)} trained on)</td></tr>
<tr><th>validation</th><td>${int(d.validationExamples)}</td><td>${int(d.validationTokens)}</td></tr>
</tbody></table><p>Epochs: ${int(d.epochs)}. Billed tokens (validator's estimate): ${int(d.billedTokensEstimate)}. Trained tokens (Azure): ${int(d.trainedTokens)}.</p>`
    : '<p class="empty">Not validated by ftpipe (files given by id or URL) and not trained yet.</p>');
  const stages = report.stages ?? [];
  parts.push('<h3>Stages</h3>');
  parts.push(stages.length > 0
    ? `<table class="stages"><thead><tr><th>stage</th><th>started</th><th>duration</th></tr></thead><tbody>${stages
        .map((st) => `<tr${st.ongoing ? ' class="ongoing"' : ''}><td>${escapeHtml(st.stage)}</td><td>${escapeHtml(st.startedAt)}</td><td>${st.ongoing ? `${duration(st.seconds)} so far` : ['completed', 'failed', 'cancelled'].includes(st.stage) ? '' : duration(st.seconds)}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="empty">No stage recorded.</p>');
  parts.push('<h3>Admission queue</h3>');
  parts.push(queueLine(report.queue));
  const requests = report.requests ?? [];
  parts.push('<h3>Pauses and resumes</h3>');
  parts.push(requests.length > 0
    ? `<table class="requests"><thead><tr><th>asked</th><th>what</th><th>by</th><th>via</th><th>outcome</th></tr></thead><tbody>${requests
        .map((r) => `<tr><td>${escapeHtml(r.requestedAt)}</td><td>${escapeHtml(r.kind)}</td><td>${escapeHtml(r.by ?? 'not given')}</td><td>${escapeHtml(r.via)}</td><td>${escapeHtml(r.state)}${r.reason ? `: ${escapeHtml(r.reason)}` : ''}</td></tr>`)
        .join('')}</tbody></table>`
    : '<p class="empty">Nobody paused or resumed the job.</p>');
  return parts.join('\n');
}

function copiesSection(report: RunReport): string {
  const copies = report.copies ?? [];
  if (copies.length === 0) return '<p class="empty">No copies to other regions were asked for.</p>';
  return `<table class="copies"><thead><tr><th>region</th><th>destination</th><th>checkpoint</th><th>status</th><th>deployment there</th><th>error</th></tr></thead><tbody>${copies
    .map((c) => `<tr${c.status === 'Failed' ? ' class="failed"' : ''}><td>${escapeHtml(c.region)}</td><td><code>${escapeHtml(c.destinationResourceId)}</code></td><td><code>${escapeHtml(c.checkpoint || '–')}</code></td><td>${escapeHtml(c.status)}</td><td>${c.deployment ? `<code>${escapeHtml(c.deployment.name)}</code>` : '–'}</td><td>${c.error ? escapeHtml(c.error) : ''}</td></tr>`)
    .join('')}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#fff;margin:0 auto;max-width:980px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dt{color:#59606b}dd{margin:0}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f5f7;padding:1px 4px;border-radius:3px;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}th{background:#f6f8fa;font-weight:600}
tr.chosen,tr.best{background:#e8f5e9}tr.baseline{background:#f6f8fa}tr.failed{background:#fdecea}tr.ongoing{background:#fff8e1}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff}.promoted{background:#2e7d32}.not-promoted{background:#b26a00}.warn{background:#c62828}.ok{background:#59606b}.running{background:#1f6fb4}
.state{margin:10px 0;padding:8px 12px;background:#f6f8fa;border-radius:6px}
.chart{margin:12px 0}.chart figcaption{font-weight:600;margin-bottom:4px}svg{max-width:100%;height:auto;background:#fff}
svg text{font:11px system-ui,sans-serif;fill:#59606b}svg .legend{fill:#1d2430}svg .marker-label.chosen{fill:#2e7d32;font-weight:700}
.empty{color:#59606b;font-style:italic}.reason{margin:6px 0}footer{margin-top:32px;color:#8a8f98;font-size:12px}`;

/** The report as one self-contained HTML document. */
export function renderReport(report: RunReport): string {
  const analysis = report.metrics;
  // Before results.csv is read (a running or failed run), the curves are what the job's polls saw.
  const curve = analysis?.curve ?? report.liveCurve ?? [];
  const chosenStep = analysis?.chosen.step ?? null;
  const charts = [
    lineChart({
      id: 'loss-chart',
      title: 'Loss',
      yLabel: 'loss',
      chosenStep,
      checkpoints: report.checkpoints,
      series: [
        series(curve, (r) => r.trainLoss, 'train loss', COLORS.train, false),
        series(curve, (r) => r.validLoss, 'validation loss', COLORS.valid, false, true),
        series(curve, (r) => r.fullValidLoss, 'full validation loss', COLORS.fullValid, true),
      ],
    }),
    lineChart({
      id: 'accuracy-chart',
      title: 'Token accuracy',
      yLabel: 'token accuracy',
      chosenStep,
      checkpoints: report.checkpoints,
      series: [
        series(curve, (r) => r.trainMeanTokenAccuracy, 'train token accuracy', COLORS.train, false),
        series(curve, (r) => r.validMeanTokenAccuracy, 'validation token accuracy', COLORS.valid, false, true),
        series(curve, (r) => r.fullValidMeanTokenAccuracy, 'full validation token accuracy', COLORS.fullValid, true),
      ],
    }),
  ].join('');

  const choice = analysis
    ? `<p class="reason"><strong>Chosen:</strong> <code>${escapeHtml(analysis.chosen.model)}</code> (step ${analysis.chosen.step}). ${escapeHtml(analysis.reason)}.</p>
<p class="reason"><span class="badge ${analysis.overfitting.detected ? 'warn' : 'ok'}">${analysis.overfitting.detected ? 'overfitting' : 'no overfitting flagged'}</span> ${escapeHtml(analysis.overfitting.detail)}.</p>`
    : `<p class="empty">${report.state && !report.state.final ? 'The checkpoint is chosen once training ends; the curves show the metrics seen so far.' : 'The run ended before its training metrics were analysed.'}</p>`;

  const approval = report.approval
    ? `${escapeHtml(report.approval.decision)} by ${escapeHtml(report.approval.by)} at ${escapeHtml(report.approval.at)}${report.approval.comment ? `: “${escapeHtml(report.approval.comment)}”` : ''}`
    : 'not required, or not reached';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>ftpipe report: ${escapeHtml(report.runName)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Fine-tuning run <code>${escapeHtml(report.runName)}</code></h1>
${definitionList([
  ['job', report.jobId ? `<code>${escapeHtml(report.jobId)}</code>` : '– (none created)'],
  ['base model', `<code>${escapeHtml(report.baseModel)}</code>`],
  ...(report.trainedFrom ? [['trained from', `<code>${escapeHtml(report.trainedFrom)}</code>`] as [string, string]] : []),
  ['fine-tuned model', report.fineTunedModel ? `<code>${escapeHtml(report.fineTunedModel)}</code>` : '–'],
  ['decision', `<span class="badge ${report.decision.promoted ? 'promoted' : 'not-promoted'}" id="decision">${report.decision.promoted ? 'promoted' : 'not promoted'}</span>`],
])}
${stateBanner(report)}
</header>
<section id="run"><h2>The run</h2>
${runSection(report)}
</section>
<section id="training"><h2>Training curves and checkpoint choice</h2>
${choice}
${charts}
${checkpointTable(report)}
</section>
<section id="evaluation"><h2>Evaluation</h2>
<h3>Azure's automatic evaluations</h3>
${automaticEvaluationTable(report)}
<h3>Eval set</h3>
${evalTable(report.evalScores)}
</section>
<section id="decision-section"><h2>Decision</h2>
<p class="reason"><span class="badge ${report.decision.promoted ? 'promoted' : 'not-promoted'}">${report.decision.promoted ? 'promoted' : 'not promoted'}</span> ${escapeHtml(report.decision.reason)}</p>
${definitionList([['approval', approval], ...approvalEvidenceRows(report)])}
</section>
<section id="copies"><h2>Copies to other regions</h2>
${copiesSection(report)}
</section>
<section id="cost"><h2>Cost</h2>
${costSection(report)}
</section>
<section id="deployments"><h2>What was deployed, deleted and remains</h2>
${deploymentsSection(report)}
</section>
<footer>Generated by ftpipe at ${escapeHtml(report.generatedAt)}.</footer>
</body>
</html>
`;
}
