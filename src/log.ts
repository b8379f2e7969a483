// pino: JSON lines on stdout for the machine; readable lines when a person watches a terminal.
import pino, { type DestinationStream, type Logger } from 'pino';

/** Wherever a secret could sit in a logged object: config sections, imapflow/nodemailer auth. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'pass',
  '*.pass',
  '*.*.pass',
  'authorization',
  '*.authorization',
];

export function createLogger(
  level: string | undefined,
  pretty = process.stdout.isTTY === true,
  destination?: DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level: level || 'info',
    base: undefined,
    // Secrets must never reach a log line, whatever object is logged.
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  if (pretty) {
    options.transport = {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss', ignore: 'event' },
    };
  }
  return pino(options);
}
