import { createEngine, VirtualClock } from '../../src';

describe('engine.serveDashboard', () => {
  it('serves the dashboard of this engine on 127.0.0.1, with its state and its Prometheus metrics', async () => {
    const engine = createEngine({ workers: 2, clock: new VirtualClock() });
    const dashboard = await engine.serveDashboard({ port: 0 });
    try {
      expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?$/);
      const state = await fetch(new URL('/state', dashboard.url));
      expect(state.status).toBe(200);
      const metrics = await fetch(new URL('/metrics', dashboard.url));
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('mezan_');
    } finally {
      await dashboard.close();
      await engine.shutdown();
    }
  });

  it("counts the page's times from when it began, on the engine's clock", async () => {
    const clock = new VirtualClock();
    const engine = createEngine({ clock, logger: false });
    await clock.advanceBy(1_000);
    const dashboard = await engine.serveDashboard({ port: 0 });
    try {
      await clock.advanceBy(250);
      const state = (await (await fetch(new URL('/state', dashboard.url))).json()) as { origin: number; at: number };
      expect(state).toMatchObject({ origin: 1_000, at: 1_250 });
    } finally {
      await dashboard.close();
      await engine.shutdown();
    }
  });
});
