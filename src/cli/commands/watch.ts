/**
 * `ftpipe watch <run>`: the run's training curves in the terminal, redrawn as metrics arrive, until the run closes.
 * Charts by asciichart (a kept, dependency-free library): train and validation loss, and token accuracy.
 */
import { plot, blue, yellow, type PlotConfig } from 'asciichart';
import type { Command } from 'commander';
import type { PipelineStatus, TrainingMetrics } from '../../pipeline/types';
import { formatSeconds, type ProgressView } from '../../pipeline/progress';
import { withConnectionFlags, withPipeline, type ConnectionFlags } from '../connection';
import { barLine } from '../progress-bar';
import { parseSeconds } from '../usage';
import { detachOnInterrupt } from './runs';

type Pick = (row: TrainingMetrics) => number | null;

interface SeriesSpec {
  label: string;
  pick: Pick;
  color: string;
}

const LOSS: SeriesSpec[] = [
  { label: 'train loss', pick: (r) => r.trainLoss, color: blue },
  { label: 'validation loss', pick: (r) => r.fullValidLoss ?? r.validLoss, color: yellow },
];
const ACCURACY: SeriesSpec[] = [
  { label: 'train token accuracy', pick: (r) => r.trainMeanTokenAccuracy, color: blue },
  { label: 'validation token accuracy', pick: (r) => r.fullValidMeanTokenAccuracy ?? r.validMeanTokenAccuracy, color: yellow },
];

/**
 * One value per column: the curve's steps split into `width` equal buckets, each showing the last value seen up to
 * its end (validation metrics come only every few steps, so they hold between evaluations). Null before the first value.
 */
export function columns(curve: TrainingMetrics[], pick: Pick, width: number): (number | null)[] {
  if (curve.length === 0) return [];
  const first = curve[0]!.step;
  const last = curve[curve.length - 1]!.step;
  const count = Math.min(width, last - first + 1);
  const out: (number | null)[] = [];
  let held: number | null = null;
  let i = 0;
  for (let c = 0; c < count; c++) {
    const end = count === 1 ? last : first + ((last - first) * (c + 1)) / count;
    for (; i < curve.length && curve[i]!.step <= end; i++) held = pick(curve[i]!) ?? held;
    out.push(held);
  }
  return out;
}

/** asciichart labels a flat chart (one point, or a constant) by the rounded value: such a chart gets a range around it. */
function plotted(series: number[][], config: PlotConfig): string {
  const all = series.flat();
  const [low, high] = [Math.min(...all), Math.max(...all)];
  const flat = high - low < 1e-9 ? { min: low - (Math.abs(low) * 0.05 || 0.01), max: high + (Math.abs(high) * 0.05 || 0.01) } : {};
  return plot(series, { ...config, ...flat });
}

function chart(title: string, curve: TrainingMetrics[], series: SeriesSpec[], options: { color: boolean; width: number; height: number }): string {
  const drawn = series.map((s) => ({ ...s, values: columns(curve, s.pick, options.width) })).filter((s) => s.values.some((v) => v !== null));
  if (drawn.length === 0) return `${title}: no values yet`;
  // asciichart draws from the first column: start every series where all have a value.
  const start = Math.max(...drawn.map((s) => s.values.findIndex((v) => v !== null)));
  const values = drawn.map((s) => s.values.slice(start) as number[]);
  const config: PlotConfig = { height: options.height, format: (x) => x.toFixed(3).padStart(8), ...(options.color ? { colors: drawn.map((s) => s.color) } : {}) };
  const legend = drawn.map((s) => `${options.color ? `${s.color}──\u001b[0m` : '──'} ${s.label}`).join('   ');
  const steps = `steps ${curve[0]!.step}..${curve[curve.length - 1]!.step}`;
  if (options.color || drawn.length === 1) return `${title} (${steps})   ${legend}\n${plotted(values, config)}`;
  // Without colour two series on one chart cannot be told apart: one chart each.
  return drawn.map((s, i) => `${title}: ${s.label} (${steps})\n${plotted([values[i]!], config)}`).join('\n');
}

/** The curves of a run's status as text: loss and token accuracy, train and validation. */
export function renderCurves(curve: TrainingMetrics[], options: { color?: boolean; width?: number; height?: number } = {}): string {
  const opts = { color: options.color ?? false, width: options.width ?? 60, height: options.height ?? 8 };
  if (curve.length === 0) return 'no training metrics yet (they arrive once the job trains)';
  return [chart('loss', curve, LOSS, opts), chart('token accuracy', curve, ACCURACY, opts)].join('\n\n');
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(4));

/** The head line of a frame: the run, what it does now (the progress line), its latest losses. */
export function statusLine(status: PipelineStatus, view: ProgressView): string {
  const m = status.latestMetrics;
  const job = status.job ? `job ${status.job.id} ${status.job.status}` : 'no job yet';
  return [`run ${status.runName}`, barLine(view), job, m ? `train loss ${fmt(m.trainLoss)}, valid loss ${fmt(m.fullValidLoss ?? m.validLoss)}` : ''].filter(Boolean).join('  |  ');
}

export function registerWatchCommand(program: Command): void {
  withConnectionFlags(program.command('watch <run>'))
    .description('Draw the run\'s train/validation loss and token accuracy in the terminal as they arrive, until the run closes')
    .option('--interval <seconds>', 'how often to ask the run for news', parseSeconds, 2)
    .action(async (run: string, opts: ConnectionFlags & { interval: number }) => {
      await withPipeline(opts, run, async ({ handle }) => {
        const tty = process.stdout.isTTY === true;
        let shown = '';
        await detachOnInterrupt(handle.workflowId, async () => {
          for await (const { status, view } of handle.watchProgress({ intervalMs: opts.interval * 1000 })) {
            const width = Math.max(20, Math.min(120, (process.stdout.columns ?? 80) - 14));
            // Piped, the ETA's countdown would print a frame per interval: there it shows as measured at the poll.
            const head = tty ? view : { ...view, eta: view.eta && status.progress.etaSeconds !== null ? `ETA ${formatSeconds(status.progress.etaSeconds)} at the last poll` : view.eta };
            const frame = `${statusLine(status, head)}\n\n${renderCurves(status.curve ?? [], { color: tty, width })}`;
            if (frame === shown) continue;
            shown = frame;
            // On a terminal the frame is redrawn in place; piped, each new frame is printed below the last.
            process.stdout.write(tty ? `\u001b[2J\u001b[H${frame}\n` : `${frame}\n\n`);
          }
        });
        const { status: execution } = await handle.workflow.describe();
        console.log(`run ${handle.workflowId} closed: ${execution.name.toLowerCase()}; its report: ftpipe report ${run}`);
      });
    });
}
