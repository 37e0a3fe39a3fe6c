import { attachDetectionMeter } from '../../bench/detection-meter';
import { WaitForGraph } from '../../src/detection/wait-for-graph';

function deadlockedPair(): WaitForGraph {
  const graph = new WaitForGraph();
  graph.addResource('db', 1);
  graph.addResource('gpu', 1);
  graph.setHold('t1', 'db', 1);
  graph.setHold('t2', 'gpu', 1);
  graph.setRequest('t1', 'gpu', 1);
  graph.setRequest('t2', 'db', 1);
  return graph;
}

describe('attachDetectionMeter', () => {
  it('counts the calls of detectFrom and detect in every graph, and passes their results through', () => {
    const graph = deadlockedPair();
    const meter = attachDetectionMeter();
    try {
      expect(graph.detectFrom('t2').deadlocked).toEqual(['t1', 't2']);
      expect(graph.detect().deadlocked).toEqual(['t1', 't2']);
      expect(new WaitForGraph().detect().deadlocked).toEqual([]);
      const time = meter.read();
      expect(time.calls).toBe(3);
      expect(time.ms).toBeGreaterThanOrEqual(0);
    } finally {
      meter.detach();
    }
  });

  it('restores the detector when detached', () => {
    const { detectFrom, detect } = WaitForGraph.prototype;
    const meter = attachDetectionMeter();
    meter.detach();
    expect(WaitForGraph.prototype.detectFrom).toBe(detectFrom);
    expect(WaitForGraph.prototype.detect).toBe(detect);
    deadlockedPair().detect();
    expect(meter.read().calls).toBe(0);
  });
});
