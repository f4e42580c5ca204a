/**
 * The failure converter of every ftpipe client, worker and workflow bundle. A failure's message and stack trace go
 * into its encoded attributes, a payload, so the payload codec encrypts them like any input or result: an error that
 * quotes a value (an Azure message, a path) is not plain text in history. Loaded by path (`FAILURE_CONVERTER_PATH`),
 * because workflow code gets it compiled into its bundle.
 */
import { ApplicationFailure, DefaultFailureConverter, type PayloadConverter, type ProtoFailure } from '@temporalio/common';

/**
 * Refusals of a request's shape (workflows/boundary.ts) and of a request the run's state does not allow
 * (RequestRefused: they name the stage, the job and the state Azure reported): their messages name fields, ids and
 * reasons, never values, and they answer a query or an update, not history. Kept readable because a failed query
 * reaches its caller as the failure's message alone, and the Web UI's update dialog shows only the message: encoded,
 * both would say "Encoded failure".
 */
const READABLE_FAILURE_TYPES: ReadonlySet<string> = new Set(['InvalidRequest', 'RequestRefused']);

/**
 * The SDK's answer to the Stack Trace query on a worker run with `--workflow-stack-traces off` (workers/stack-traces.ts):
 * a fixed text, kept readable so that the Web UI's Stack Trace tab says why there is none.
 */
const STACK_TRACES_NOT_ENABLED = 'Workflow stack traces are not enabled on this worker';

class FtpipeFailureConverter extends DefaultFailureConverter {
  override errorToFailure(err: unknown, payloadConverter: PayloadConverter, context?: Parameters<DefaultFailureConverter['errorToFailure']>[2]): ProtoFailure {
    if (err instanceof ApplicationFailure && err.type && READABLE_FAILURE_TYPES.has(err.type)) return this.errorToFailureInner(err, payloadConverter, context);
    if (err instanceof Error && err.message === STACK_TRACES_NOT_ENABLED && (err.name === 'IllegalStateError' || (err instanceof ApplicationFailure && err.type === 'IllegalStateError'))) return this.errorToFailureInner(err, payloadConverter, context);
    return super.errorToFailure(err, payloadConverter, context);
  }
}

export const failureConverter = new FtpipeFailureConverter({ encodeCommonAttributes: true });
