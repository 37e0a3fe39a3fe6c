import { parseRecords, UnreadableRecordsLog, type RecordReader } from '../../actors/node-records';
import { readMemberRecord } from '../../actors/cluster-membership';
import { readEdges } from '../../actors/cluster-wait-edges';
import { readDeadlockCandidates } from '../../src/cluster/cluster-deadlock-scan';
import { recordingLogger } from '../fixtures/engine-harness';
import { memberRecord } from '../fixtures/cluster-member-record';

// Reading the records every node keeps under `mezan:<cluster>:` (Redis's raw values, as the read
// script returns them): one that this version cannot read is left out and named, never a throw.

const anything: RecordReader<unknown> = (value) => value;

const member = (node: string): Record<string, unknown> =>
  memberRecord(node, { workers: [{ id: 'main', slots: 2, running: 0, state: 'idle' }], tasks: ['t'], pools: [{ name: 'db', capacity: 1 }] });

describe('parseRecords', () => {
  it('reads each record’s version and JSON payload, ordered by node', () => {
    expect(parseRecords(['b', '7\n[1]', 'a', '12\n{"x":1}'], anything)).toEqual({
      records: [
        { node: 'a', version: 12, payload: { x: 1 } },
        { node: 'b', version: 7, payload: [1] },
      ],
      unreadable: [],
    });
  });

  it.each([
    ['no version line', '{"x":1}'],
    ['a version that is no integer', 'v1\n{}'],
    ['an empty version', '\n{}'],
    ['a version past the safe integers', '99999999999999999999\n{}'],
    ['a payload that is no JSON', '1\nnot json'],
    ['an empty payload', '1\n'],
  ])('leaves out a record with %s, and names its node', (_case, stored) => {
    expect(parseRecords(['bad', stored, 'good', '1\n{}'], anything)).toEqual({
      records: [{ node: 'good', version: 1, payload: {} }],
      unreadable: ['bad'],
    });
  });

  it('leaves out what its reader refuses', () => {
    const flat = [
      'c',
      '1\nnull',
      'b',
      '1\n[]',
      'a',
      '1\n[{"kind":"later","task":"a/1"}]',
      'd',
      '1\n[{"kind":"holds","task":"d/1","resource":"db","units":1}]',
    ];
    expect(parseRecords(flat, readEdges)).toEqual({
      records: [
        { node: 'b', version: 1, payload: [] },
        { node: 'd', version: 1, payload: [{ kind: 'holds', task: 'd/1', resource: 'db', units: 1 }] },
      ],
      unreadable: ['a', 'c'],
    });
  });
});

describe('readMemberRecord', () => {
  it('reads a record with every field of a member, and only as the node it names', () => {
    expect(readMemberRecord(member('a'), 'a')).toEqual(member('a'));
    expect(readMemberRecord(member('a'), 'b')).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'a'],
    ['an array', [member('a')]],
    ['no pools', { ...member('a'), pools: undefined }],
    ['pools that are no list', { ...member('a'), pools: {} }],
    ['a pool without a capacity', { ...member('a'), pools: [{ name: 'db' }] }],
    ['a worker without slots', { ...member('a'), workers: [{ id: 'main', running: 0, state: 'idle' }] }],
    ['a concurrency that is no count', { ...member('a'), concurrency: -1 }],
    ['tasks that are not names', { ...member('a'), tasks: [1] }],
    ['another version’s shape', { node: 'a' }],
  ])('refuses %s', (_case, value) => {
    expect(readMemberRecord(value, 'a')).toBeUndefined();
  });
});

describe('readDeadlockCandidates', () => {
  it('keeps the candidates that fit, and none of what does not', () => {
    expect(readDeadlockCandidates(null)).toEqual({});
    expect(readDeadlockCandidates('not json')).toEqual({});
    expect(readDeadlockCandidates('null')).toEqual({});
    expect(readDeadlockCandidates('[1]')).toEqual({});
    expect(readDeadlockCandidates('{"a/1":{"edges":"[]","since":5},"a/2":null,"a/3":{"edges":1,"since":5},"a/4":{"edges":"[]"}}')).toEqual({
      'a/1': { edges: '[]', since: 5 },
    });
  });
});

describe('UnreadableRecordsLog', () => {
  it('warns once per kind, naming the nodes, and not at all when none was left out', () => {
    const { logger, records } = recordingLogger();
    const log = new UnreadableRecordsLog(logger);
    log.note('c', 'edges', []);
    log.note('c', 'edges', ['x']);
    log.note('c', 'edges', ['y']);
    log.note('c', 'members', ['x']);
    expect(records.map(({ level, nodes }) => ({ level, nodes }))).toEqual([
      { level: 'warn', nodes: ['x'] },
      { level: 'warn', nodes: ['x'] },
    ]);
    expect(records.map(({ message }) => message)).toEqual([expect.stringContaining('mezan:c:edges:'), expect.stringContaining('mezan:c:members:')]);
  });
});
