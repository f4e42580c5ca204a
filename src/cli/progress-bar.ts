/**
 * The progress line of `ftpipe run --wait` and `ftpipe watch`: what the run is doing now (src/pipeline/progress.ts)
 * with a bar when the task has a count. The bar is drawn by cli-progress's own formatter, which also redraws it in
 * place on a terminal.
 */
import { Format, type Options } from 'cli-progress';
import type { ProgressView } from '../pipeline/progress';

const BAR: Options = { barsize: 24, barCompleteString: '█'.repeat(24), barIncompleteString: '░'.repeat(24), barGlue: '' };

/** `stage | task | [bar] n/N unit | ETA`: the bar only when the total is known, the count whenever there is one. */
export function barLine(view: ProgressView): string {
  const count = view.unit ? `${view.total !== null && view.total > 0 ? `|${Format.BarFormat(Math.min(1, (view.done ?? 0) / view.total), BAR)}| ` : ''}${view.done ?? 0}/${view.total ?? '?'} ${view.unit}` : '';
  return [view.stage.padEnd(10), view.doing !== view.stage ? view.doing : '', count, view.eta ?? ''].filter((part) => part.trim() !== '').join(' | ').trimEnd();
}

/** What changes a piped (non-terminal) progress log by a line: anything but the ETA counting down between polls. */
export function pipedKey(view: ProgressView, etaSeconds: number | null): string {
  return JSON.stringify([view.stage, view.doing, view.done, view.total, etaSeconds]);
}
