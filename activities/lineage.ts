import { Context } from '@temporalio/activity';
import { DATA_HASH, LINEAGE, PROMOTED_MODEL } from '../src/temporal/search-attributes';

export interface LineageState {
  /** The latest promoted model of the lineage (a checkpoint or fine-tuned model name), or null before the first. */
  promotedModel: string | null;
  /** The data hash of the lineage's latest completed run that recorded one. */
  lastDataHash: string | null;
  completedRuns: number;
}

/** How many completed runs of a lineage are read: the newest ones decide, older ones only cost time. */
const RUNS_READ = 200;

/**
 * What Temporal remembers of a lineage: its completed runs' search attributes (kept by the visibility store, so no
 * database of ftpipe's own). The newest run by close time with a promoted model, and with a data hash, decide.
 */
export function lineageActivities() {
  return {
    async lineageState(input: { lineage: string }): Promise<LineageState> {
      const client = Context.current().client;
      const query = `${LINEAGE.name} = '${input.lineage.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Completed'`;
      let promoted: { at: number; model: string } | undefined;
      let hashed: { at: number; hash: string } | undefined;
      let completedRuns = 0;
      for await (const run of client.workflow.list({ query })) {
        const at = run.closeTime?.getTime() ?? 0;
        const model = run.typedSearchAttributes.get(PROMOTED_MODEL);
        const hash = run.typedSearchAttributes.get(DATA_HASH);
        if (model && (!promoted || at > promoted.at)) promoted = { at, model };
        if (hash && (!hashed || at > hashed.at)) hashed = { at, hash };
        if (++completedRuns >= RUNS_READ) break;
      }
      return { promotedModel: promoted?.model ?? null, lastDataHash: hashed?.hash ?? null, completedRuns };
    },
  };
}
