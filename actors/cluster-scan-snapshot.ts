import type { Redis } from 'ioredis';
import { EDGE_RECORDS, nodeEdgesOf, readEdges, type ClusterNodeEdges } from './cluster-wait-edges';
import { MEMBER_RECORDS, readMemberRecord } from './cluster-membership';
import { parseRecords, READ_RECORDS_LUA, recordKeys } from './node-records';
import { CLUSTER_PREFIX } from './cluster-redis';
import { clusterSlotCapacity, type ClusterSlots } from '../src/cluster/cluster-slots';

/** What a scan of the cluster's deadlocks reads, at one instant of Redis. @internal */
export interface ClusterScanSnapshot {
  /** Every live node's published edges, ordered by node, but those this version cannot read. */
  readonly nodes: readonly ClusterNodeEdges[];
  /**
   * The nodes whose edges' record this version cannot read: left out, as if they published none
   * (their waits unknown, which errs towards "not deadlocked").
   */
  readonly unreadableEdges: readonly string[];
  /** The nodes whose membership record this version cannot read (the slots' capacity is then unknown). */
  readonly unreadableMembers: readonly string[];
  /** The cluster's job slots, and which of the awaited cluster tasks are queued. */
  readonly slots: ClusterSlots;
}

// One instant of Redis: the nodes' edges and membership records, the queue's global concurrency,
// and, for each cluster task an edge awaits, whether BullMQ has it queued (in its prioritized set or
// its wait list; not delayed, not waiting for children, not active). A paused queue starts nothing
// for lack of a slot: no task is queued for one then. ARGV: the edges' set of nodes and key prefix,
// the members' set of nodes and key prefix, the queue's key prefix (BullMQ's `<prefix>:<name>:`).
// Returns { edges (flat), members (flat), global concurrency or false, queued job ids }.
const SNAPSHOT = `${READ_RECORDS_LUA}
local edges = readRecords(ARGV[1], ARGV[2])
local members = readRecords(ARGV[3], ARGV[4])
local queue = ARGV[5]
local meta = redis.call('HMGET', queue .. 'meta', 'paused', 'concurrency')
local queued = {}
if not meta[1] then
  local seen = {}
  for index = 2, #edges, 2 do
    local stored = edges[index]
    local newline = string.find(stored, '\\n', 1, true)
    local ok, list = pcall(cjson.decode, string.sub(stored, newline + 1))
    if ok and type(list) == 'table' then
      for _, edge in ipairs(list) do
        if type(edge) == 'table' and edge.kind == 'awaits' and edge.job == true and type(edge.awaited) == 'string' and not seen[edge.awaited] then
          seen[edge.awaited] = true
          if redis.call('ZSCORE', queue .. 'prioritized', edge.awaited) or redis.call('LPOS', queue .. 'wait', edge.awaited) then
            table.insert(queued, edge.awaited)
          end
        end
      end
    end
  end
end
return { edges, members, meta[2] or false, queued }
`;

/**
 * Reads what a scan of cluster `cluster`'s deadlocks needs, at one instant of Redis: the nodes'
 * edges, and the cluster's job slots (their capacity from the live nodes' membership records and
 * the queue's global concurrency; the awaited cluster tasks BullMQ has queued).
 * @internal
 */
export async function readClusterScanSnapshot(redis: Redis, cluster: string): Promise<ClusterScanSnapshot> {
  const edgeKeys = recordKeys(cluster, EDGE_RECORDS);
  const memberKeys = recordKeys(cluster, MEMBER_RECORDS);
  const [edges, members, globalConcurrency, queued] = (await redis.eval(
    SNAPSHOT,
    0,
    edgeKeys.nodesKey,
    edgeKeys.prefix,
    memberKeys.nodesKey,
    memberKeys.prefix,
    `${CLUSTER_PREFIX}:${cluster}:`,
  )) as [string[], string[], string | null, string[]];
  const memberRecords = parseRecords(members, readMemberRecord);
  // A member whose record cannot be read has a concurrency unknown: so is the capacity, and no queued task is in the scan.
  const concurrencies = [...memberRecords.records.map(({ payload }) => payload.concurrency), ...memberRecords.unreadable.map(() => undefined)];
  const capacity = clusterSlotCapacity(concurrencies, globalConcurrency === null ? undefined : Number(globalConcurrency));
  const edgeRecords = parseRecords(edges, readEdges);
  return {
    nodes: nodeEdgesOf(edgeRecords.records),
    unreadableEdges: edgeRecords.unreadable,
    unreadableMembers: memberRecords.unreadable,
    slots: { capacity, queued: new Set(queued) },
  };
}
