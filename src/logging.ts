/**
 * Structured logging (pino, JSON lines). Secret-looking fields are redacted as a second line of defence: the first is
 * that secrets are read from the environment at the point of use and never passed around.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'apiKey', '*.apiKey', 'api-key', '*["api-key"]', 'authorization', '*.authorization', 'token', '*.token',
  'headers.authorization', 'headers["api-key"]', 'password', '*.password', 'secret', '*.secret',
];

export interface LoggerOptions {
  level?: string;
  /** Where to write; stdout by default. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'ftpipe',
      level: options.level ?? process.env.FTPIPE_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
