import { readCancelMessage } from '../../actors/cluster-redis';

describe('readCancelMessage', () => {
  it('reads a cancellation', () => {
    expect(readCancelMessage('{"jobId":"a-1","reason":"stop"}')).toEqual({ jobId: 'a-1', reason: 'stop' });
    expect(readCancelMessage('{"jobId":"a-1"}')).toEqual({ jobId: 'a-1', reason: undefined });
  });

  it.each(['null', '1', '"a-1"', '[]', '["a-1"]', 'true', '{"jobId":1}', '{}', 'not json', ''])(
    'takes %p, which anyone with the cluster’s Redis may publish, for no cancellation, without throwing',
    (message) => {
      expect(readCancelMessage(message)).toBeUndefined();
    },
  );
});
