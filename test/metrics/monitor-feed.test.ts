import { VirtualClock, type EngineEvent } from '../../src';
import type { EventSink } from '../../src/internal/event-sink';
import { MAX_BATCH, MonitorFeed, SAMPLE_FLUSH_MS, type MonitorObserveEvent } from '../../src/metrics/monitor-feed';

const idle = (at: number): EngineEvent => ({ type: 'engine.idle', at });

function connectedFeed(): { feed: MonitorFeed; batches: MonitorObserveEvent[]; clock: VirtualClock } {
  const clock = new VirtualClock();
  const feed = new MonitorFeed(clock);
  const batches: MonitorObserveEvent[] = [];
  feed.connect({ send: (event) => batches.push(event) });
  return { feed, batches, clock };
}

function listeningSink(): EventSink & { listening: boolean; received: EngineEvent[] } {
  const received: EngineEvent[] = [];
  return {
    listening: false,
    received,
    get active() {
      return this.listening;
    },
    publish(event) {
      received.push(event);
    },
  };
}

describe('MonitorFeed', () => {
  it('hands what one turn observed to the monitor as one batch, in a microtask', async () => {
    const { feed, batches } = connectedFeed();
    feed.push(idle(1));
    feed.push({ type: 'deadlock.cleared', at: 2 });
    feed.nudge();
    expect(batches).toEqual([]);
    await Promise.resolve();
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(1), { type: 'deadlock.cleared', at: 2 }] }]);
    await Promise.resolve();
    expect(batches).toHaveLength(1);
  });

  it("on a simulation's clock, hands what every round of end-of-turn calls of one instant observed to the monitor as one batch", async () => {
    const clock = new VirtualClock({ settle: 'each-instant' });
    const feed = new MonitorFeed(clock);
    const batches: MonitorObserveEvent[] = [];
    feed.connect({ send: (event) => batches.push(event) });
    clock.setTimeout(() => {
      feed.push(idle(1));
      clock.setImmediate!(() => clock.setImmediate!(() => feed.push({ type: 'deadlock.cleared', at: 1 })));
    }, 1);
    clock.setTimeout(() => feed.nudge(), 2);
    await clock.step();
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(1), { type: 'deadlock.cleared', at: 1 }] }]);
    await clock.step();
    expect(batches).toEqual([
      { type: 'monitor.observe', observations: [idle(1), { type: 'deadlock.cleared', at: 1 }] },
      { type: 'monitor.observe', observations: [] },
    ]);
  });

  it('sends an empty batch for a nudge, and nothing when nothing is due', async () => {
    const { feed, batches } = connectedFeed();
    feed.flush();
    feed.nudge();
    await Promise.resolve();
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [] }]);
  });

  it('delivers at once on flush, and the pending microtask then sends nothing more', async () => {
    const { feed, batches } = connectedFeed();
    feed.push(idle(1));
    feed.flush();
    expect(batches).toHaveLength(1);
    await Promise.resolve();
    expect(batches).toHaveLength(1);
  });

  it('delivers what is left on close and nothing after', async () => {
    const { feed, batches } = connectedFeed();
    feed.push(idle(1));
    feed.close();
    feed.push(idle(2));
    feed.nudge();
    await Promise.resolve();
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(1)] }]);
  });

  it('lets task events wait for company on the clock, and sends them with anything sent sooner', async () => {
    const { feed, batches, clock } = connectedFeed();
    feed.pushSample(idle(1));
    await clock.advanceBy(SAMPLE_FLUSH_MS - 1);
    feed.pushSample(idle(2));
    expect(batches).toEqual([]);
    await clock.advanceBy(1);
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(1), idle(2)] }]);

    feed.pushSample(idle(3));
    feed.push({ type: 'deadlock.cleared', at: 4 });
    await Promise.resolve();
    expect(batches[1]).toEqual({ type: 'monitor.observe', observations: [idle(3), { type: 'deadlock.cleared', at: 4 }] });
    expect(clock.pendingTimers).toBe(0);
  });

  it('sends task events at the end of the turn once a full batch piled up', async () => {
    const { feed, batches } = connectedFeed();
    for (let i = 0; i < MAX_BATCH; i++) feed.pushSample(idle(i));
    await Promise.resolve();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.observations).toHaveLength(MAX_BATCH);
  });

  it('sends a full batch of system events after the current burst of promise jobs, without waiting for the end of the turn', async () => {
    const clock = new VirtualClock({ settle: 'each-instant' });
    const feed = new MonitorFeed(clock);
    const batches: MonitorObserveEvent[] = [];
    feed.connect({ send: (event) => batches.push(event) });
    for (let i = 0; i < MAX_BATCH + 1; i++) feed.push(idle(i));
    expect(batches).toHaveLength(0);
    await Promise.resolve();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.observations).toHaveLength(MAX_BATCH + 1);
    feed.close();
  });

  it('leaves no timer behind when closed', () => {
    const { feed, batches, clock } = connectedFeed();
    feed.pushSample(idle(1));
    expect(clock.pendingTimers).toBe(1);
    feed.close();
    expect(clock.pendingTimers).toBe(0);
    expect(batches).toHaveLength(1);
  });

  it('builds task events only for a listener or while the monitor collects them', () => {
    const { feed, batches } = connectedFeed();
    const inner = listeningSink();
    const sink = feed.taskSink(inner);
    expect(sink.active).toBe(false);

    inner.listening = true;
    expect(sink.active).toBe(true);
    sink.publish(idle(1));
    expect(inner.received).toEqual([idle(1)]);

    inner.listening = false;
    feed.collectTasks = true;
    expect(sink.active).toBe(true);
    sink.publish(idle(2));
    expect(inner.received).toEqual([idle(1)]);
    feed.flush();
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(2)] }]);
  });

  it('always builds the supervisor’s events, for the monitor and for a listener', () => {
    const { feed, batches } = connectedFeed();
    const inner = listeningSink();
    const sink = feed.systemSink(inner);
    expect(sink.active).toBe(true);
    sink.publish(idle(1));
    inner.listening = true;
    sink.publish(idle(2));
    feed.flush();
    expect(inner.received).toEqual([idle(2)]);
    expect(batches).toEqual([{ type: 'monitor.observe', observations: [idle(1), idle(2)] }]);
  });
});
