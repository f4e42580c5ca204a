/**
 * ftpipe's custom search attributes, so users filter runs in the Web UI and `ftpipe list`.
 * Workflow-safe. The dev server registers them at start (see src/devserver); on a cluster, scripts/temporal-setup.sh
 * registers them (docker-compose.yml's temporal-setup service runs it).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const RUN_NAME = defineSearchAttributeKey('FtpipeRunName', SearchAttributeType.KEYWORD);
export const STAGE = defineSearchAttributeKey('FtpipeStage', SearchAttributeType.KEYWORD);
export const BASE_MODEL = defineSearchAttributeKey('FtpipeBaseModel', SearchAttributeType.KEYWORD);
export const JOB_ID = defineSearchAttributeKey('FtpipeJobId', SearchAttributeType.KEYWORD);
export const FINE_TUNED_MODEL = defineSearchAttributeKey('FtpipeFineTunedModel', SearchAttributeType.KEYWORD);
export const PROFILE = defineSearchAttributeKey('FtpipeProfile', SearchAttributeType.KEYWORD);
export const LINEAGE = defineSearchAttributeKey('FtpipeLineage', SearchAttributeType.KEYWORD);
/** Set when a run succeeded (promoted, or trained with no deployment asked for): the model its lineage continues from. */
export const PROMOTED_MODEL = defineSearchAttributeKey('FtpipePromotedModel', SearchAttributeType.KEYWORD);
/** Hash of the run's training and validation data, so a lineage's next run can tell whether the data changed. */
export const DATA_HASH = defineSearchAttributeKey('FtpipeDataHash', SearchAttributeType.KEYWORD);

/**
 * Keyword attributes a namespace may have on SQL visibility (PostgreSQL, MySQL, SQLite): each maps to one of the
 * visibility table's 10 Keyword columns. Elasticsearch has no such limit, but ftpipe must fit the smaller store.
 */
export const SQL_VISIBILITY_KEYWORD_SLOTS = 10;

/**
 * A run's place in its resource's admission queue (1 = next), unset once it holds its slots. An Int, not a Keyword:
 * PostgreSQL visibility allows 10 Keyword attributes per namespace and the nine above take nine of them.
 */
export const QUEUE_POSITION = defineSearchAttributeKey('FtpipeQueuePosition', SearchAttributeType.INT);

export const SEARCH_ATTRIBUTES = [RUN_NAME, STAGE, BASE_MODEL, JOB_ID, FINE_TUNED_MODEL, PROFILE, LINEAGE, PROMOTED_MODEL, DATA_HASH, QUEUE_POSITION] as const;

/** The type's name as `temporal` takes it (`Keyword`, `Int`). */
export function searchAttributeTypeName(key: (typeof SEARCH_ATTRIBUTES)[number]): string {
  return key.type === SearchAttributeType.INT ? 'Int' : 'Keyword';
}

/** How scripts/temporal-setup.sh takes an attribute: its name for a Keyword, `Name=Type` otherwise. */
export function searchAttributeSpec(key: (typeof SEARCH_ATTRIBUTES)[number]): string {
  const type = searchAttributeTypeName(key);
  return type === 'Keyword' ? key.name : `${key.name}=${type}`;
}

/** `Name=Type` pairs as `temporal server start-dev --search-attribute` takes them. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${searchAttributeTypeName(key)}`]);
}

/** The search attributes a pipeline run starts with, whoever starts it (the client, a schedule); the run moves STAGE on. */
export function startingSearchAttributes(run: { runName: string; baseModel: string; profile: string }): SearchAttributePair[] {
  return [
    { key: RUN_NAME, value: run.runName },
    { key: STAGE, value: 'preflight' },
    { key: BASE_MODEL, value: run.baseModel },
    { key: PROFILE, value: run.profile },
  ];
}
