import { performance } from 'node:perf_hooks';
import { WaitForGraph } from '../src/detection/wait-for-graph';

/** Time spent in the wait-for graph's detection since a {@link DetectionMeter} was attached. */
export interface DetectionTime {
  readonly ms: number;
  /** Calls of `detectFrom` and `detect`. */
  readonly calls: number;
}

/** A meter on every engine's deadlock detector; `detach` before attaching another. */
export interface DetectionMeter {
  readonly read: () => DetectionTime;
  readonly detach: () => void;
}

/**
 * Times every call of `WaitForGraph.prototype.detectFrom` and `detect`, in every graph (the
 * detector actors' included), until detached. A benchmark-only probe: the actor's time around the
 * detector (bookkeeping, resolution) is not in it, which is why the engine runs are also timed with
 * detection off.
 */
export function attachDetectionMeter(): DetectionMeter {
  const prototype = WaitForGraph.prototype;
  const originals = { detectFrom: prototype.detectFrom, detect: prototype.detect };
  let ms = 0;
  let calls = 0;
  prototype.detectFrom = function timedDetectFrom(this: WaitForGraph, task: string) {
    const start = performance.now();
    try {
      return originals.detectFrom.call(this, task);
    } finally {
      ms += performance.now() - start;
      calls++;
    }
  };
  prototype.detect = function timedDetect(this: WaitForGraph) {
    const start = performance.now();
    try {
      return originals.detect.call(this);
    } finally {
      ms += performance.now() - start;
      calls++;
    }
  };
  return {
    read: () => ({ ms, calls }),
    detach: () => {
      prototype.detectFrom = originals.detectFrom;
      prototype.detect = originals.detect;
    },
  };
}
