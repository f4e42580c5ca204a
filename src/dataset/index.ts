/**
 * Dataset validation for fine-tuning: the API the pipeline's first activity and `ftpipe validate` use.
 * No Temporal imports: reports are plain JSON, small, and free of training content.
 */
export { validateDataset, DatasetUsageError } from './validate';
export type { ValidateDatasetOptions, ValidationProgress, ValidationReport, FileReport, FileRole, TokenStatistics } from './validate';
export { openUploadStream, startsWithBom } from './upload';
export { formatIssue, formatSummary } from './summary';
export { ERROR_CODES, WARNING_CODES, severityOf } from './issues';
export type { Issue, IssueCode, ErrorCode, WarningCode, Severity } from './issues';
export { autoEpochs } from './statistics';
export * as limits from './limits';
