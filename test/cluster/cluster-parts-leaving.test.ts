import { ClusterPartsLeaving } from '../../src/cluster/cluster-parts-leaving';

describe('ClusterPartsLeaving', () => {
  it('drops the connections of the parts that left, and at once those of a part that leaves after', async () => {
    const leaving = new ClusterPartsLeaving();
    const dropped: string[] = [];
    leaving.left(Promise.resolve(), () => dropped.push('first'));
    leaving.disconnect();
    expect(dropped).toEqual(['first']);
    // A node Redis refused drops its connections before its replaced working side has left: that one must not keep the process alive.
    leaving.left(Promise.resolve(), () => dropped.push('late'));
    expect(dropped).toEqual(['first', 'late']);
    await expect(leaving.closed(false)).resolves.toBeUndefined();
  });
});
