/** Names shared by clients, workers and workflows. Workflow-safe: no Node imports. */
export const TASK_QUEUE = 'fine-tuning';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
