import { DeferredLogger } from '../src/deferred-logger';
import type { LogDetails, Logger } from '../src/logger';

/** A logger that records its lines and the children made of it. */
function recordingLogger(lines: string[], inherited: LogDetails = {}): Logger {
  const write =
    (level: string) =>
    (message: string, details?: LogDetails): void => {
      lines.push(`${level} ${message} ${JSON.stringify({ ...inherited, ...details })}`);
    };
  return {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    child: (details) => recordingLogger(lines, { ...inherited, ...details }),
  };
}

/** A factory of `target` that counts how many times it was called. */
function countingFactory(target: Logger): { readonly make: () => Logger; readonly made: () => number } {
  let made = 0;
  return {
    make: () => {
      made += 1;
      return target;
    },
    made: () => made,
  };
}

describe('DeferredLogger', () => {
  it('makes its logger on the first line at its level, once, and never for the lines below it', () => {
    const lines: string[] = [];
    const factory = countingFactory(recordingLogger(lines));
    const logger = new DeferredLogger('warn', factory.make);
    logger.debug('not written');
    logger.info('not written either');
    expect(factory.made()).toBe(0);
    logger.warn('written', { taskId: 't1' });
    logger.error('written too');
    expect(factory.made()).toBe(1);
    expect(lines).toEqual(['warn written {"taskId":"t1"}', 'error written too {}']);
  });

  it('answers isLevelEnabled by severity without making its logger', () => {
    const factory = countingFactory(recordingLogger([]));
    const logger = new DeferredLogger('info', factory.make);
    expect(['error', 'warn', 'info', 'http', 'debug', 'silly', 'nonsense'].map((level) => logger.isLevelEnabled(level))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(factory.made()).toBe(0);
  });

  it("makes a child's logger from its parent's on the child's first line, with the child's details", () => {
    const lines: string[] = [];
    const factory = countingFactory(recordingLogger(lines));
    const parent = new DeferredLogger('debug', factory.make);
    const child = parent.child({ actor: 'executor' }).child({ taskId: 't2' });
    expect(factory.made()).toBe(0);
    child.debug('from the grandchild');
    parent.info('from the parent');
    expect(factory.made()).toBe(1);
    expect(lines).toEqual(['debug from the grandchild {"actor":"executor","taskId":"t2"}', 'info from the parent {}']);
  });

  it('passes a line without details on without details', () => {
    const calls: unknown[][] = [];
    const target: Logger = {
      error: (...args: unknown[]) => calls.push(args),
      warn: (...args: unknown[]) => calls.push(args),
      info: (...args: unknown[]) => calls.push(args),
      debug: (...args: unknown[]) => calls.push(args),
      child: () => target,
    };
    const logger = new DeferredLogger('debug', () => target);
    logger.info('bare');
    logger.info('with', { a: 1 });
    expect(calls).toEqual([['bare'], ['with', { a: 1 }]]);
  });
});
