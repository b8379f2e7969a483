// pino: JSON lines on stdout for the machine; readable lines when a person watches a terminal.
import pino, { type Logger } from 'pino';

export function createLogger(
  level: string | undefined,
  pretty = process.stdout.isTTY === true,
): Logger {
  return pino({
    level: level || 'info',
    base: undefined,
    // Secrets must never reach a log line, whatever object is logged.
    redact: {
      paths: [
        'password',
        '*.password',
        '*.*.password',
        'pass',
        '*.pass',
        'auth.pass',
        '*.auth.pass',
      ],
      censor: '[redacted]',
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss', ignore: 'event' },
          },
        }
      : {}),
  });
}
