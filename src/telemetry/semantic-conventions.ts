/**
 * OpenTelemetry's semantic conventions (thousands of constants), which the workflow interceptors' span code imports.
 * The workflow bundle preloads this module (WORKFLOW_PRELOAD_MODULES in src/stack/workflow-bundle.ts), so the
 * constants are evaluated once per worker rather than once per execution (about a third of what an execution start
 * still evaluated, docs/benchmarks.md). The package declares itself free of side effects, so webpack drops a bare
 * preloaded `require` of it: this module keeps a reference. Pinned to the version the OpenTelemetry SDK packages pin,
 * so there is one copy to share.
 */
import * as semanticConventions from '@opentelemetry/semantic-conventions';

export const SEMANTIC_CONVENTIONS = semanticConventions;
