import { realClock } from '../src';

describe('realClock', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs a timer after its delay', () => {
    const fn = jest.fn();
    realClock.setTimeout(fn, 50);
    jest.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('honours a delay longer than the host allows (which Node would fire after 1 ms)', () => {
    const fn = jest.fn();
    const delay = 3_000_000_000;
    realClock.setTimeout(fn, delay);
    jest.advanceTimersByTime(10);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(delay - 11);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('cancels a long timer at any point of its wait', () => {
    const fn = jest.fn();
    const timer = realClock.setTimeout(fn, 3_000_000_000);
    jest.advanceTimersByTime(2_500_000_000);
    realClock.clearTimeout(timer);
    jest.advanceTimersByTime(1_000_000_000);
    expect(fn).not.toHaveBeenCalled();
  });
});
