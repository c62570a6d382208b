// Where replacement pods run while nodes are drained: a model of kube-scheduler's default placement.
//
// Filters, as kube-scheduler's: the node takes new pods (Ready, not cordoned, not in the batch), the pod
// tolerates its taints and matches its nodeSelector and required node affinity, and it fits (cpu, memory, a
// pod slot). Among the nodes left, kube-scheduler's default scores spread the pods of one controller over the
// nodes (PodTopologySpread's system defaults, by hostname) and prefer the least loaded node; the model ranks
// by pods of the same controller, then pods on the node, then name (the simulated cluster's scheduler, the
// tests' referee, does the same). The real scheduler adds resource scores and breaks ties at random, so
// single placements can differ on a real cluster; how a controller's pods spread is what the model gets right.
//
// Nodes that look the same to every pod (same taints, same values of the labels any pod selects on) form a
// group with one heap ordered by (pods, name). A placement walks each group's heap in that order and stops at
// the first node that fits and has none of the controller's pods: a controller has few pods, so a placement
// costs a few heap steps instead of a scan of every node.
import type { V1Node, V1Pod, V1Taint } from "@kubernetes/client-node";
import { IndexedHeap, type HeapItem } from "./indexed-heap";
import {
    formatCpu,
    formatMemory,
    nodeAllocatable,
    type NodeAllocatable,
    constraintSignature,
    matchesNodeConstraints,
    schedulingTaints,
    toleratesAll,
    type ResourceAmount,
} from "../kube-rules";

interface NodeSlot extends HeapItem {
    name: string;
    /** Position of the name in name order: ties are broken by it without comparing strings. */
    order: number;
    allocatable: NodeAllocatable;
    used: ResourceAmount & { pods: number };
    group: NodeGroup;
    schedulable: boolean;
}

export interface NodeGroup {
    labels: Record<string, string>;
    taints: V1Taint[];
    heap: IndexedHeap<NodeSlot>;
    /** Requests that found no room in this group since its room last grew; a bigger request fails at once. */
    failed: ResourceAmount[];
}

/**
 * Pods of one controller per node, for spreading. The caller keeps one map per controller (roll-state.ts) and
 * passes it with each of its pods; capacity.ts keeps it up to date.
 */
export type PodsPerNode = Map<string, number>;

export type PlacementResult = { node: string } | { node: null; reason: string };

/** The node groups a pod may run on (taints, selectors); the same for every pod of a controller's template. */
export type PlacementClass = readonly NodeGroup[];

function fits(slot: NodeSlot, req: ResourceAmount): boolean {
    return (
        slot.used.cpuMillis + req.cpuMillis <= slot.allocatable.cpuMillis &&
        slot.used.memoryBytes + req.memoryBytes <= slot.allocatable.memoryBytes &&
        slot.used.pods + 1 <= slot.allocatable.pods
    );
}

/** Fewer pods first, then name: the order of nodes among those with as many of the controller's pods. */
function lessLoaded(a: NodeSlot, b: NodeSlot): boolean {
    return a.used.pods !== b.used.pods ? a.used.pods < b.used.pods : a.order < b.order;
}

export class ClusterCapacity {
    private readonly slots = new Map<string, NodeSlot>();
    private readonly groups: NodeGroup[] = [];
    private readonly feasibleGroupsCache = new Map<string, NodeGroup[]>();
    /** Running totals over schedulable nodes (finite figures only; infinite ones are counted apart). */
    private schedulableCount = 0;
    private freeCpu = 0;
    private freeMemory = 0;
    private unlimitedNodes = 0;

    /**
     * Every node starts unschedulable: add the pods already running, then open the nodes that take new pods
     * (setSchedulable), so that loading a snapshot does not reorder heaps pod by pod.
     * @param nodes every node of the cluster
     * @param selectorKeys label keys any replaceable pod selects nodes on (nodeSelector/affinity)
     */
    constructor(nodes: V1Node[], selectorKeys: Set<string>) {
        const groupsBySignature = new Map<string, NodeGroup>();
        const keys = [...selectorKeys].sort();
        const names = nodes.map((n) => n.metadata?.name ?? "").sort();
        const order = new Map(names.map((n, i) => [n, i]));
        for (const node of nodes) {
            const name = node.metadata?.name ?? "";
            const labels = node.metadata?.labels ?? {};
            const taints = schedulingTaints(node);
            const signature = JSON.stringify([
                keys.map((k) => labels[k] ?? null),
                taints.map((t) => [t.key, t.value ?? "", t.effect]).sort(),
            ]);
            let group = groupsBySignature.get(signature);
            if (!group) {
                group = { labels, taints, heap: new IndexedHeap<NodeSlot>(lessLoaded), failed: [] };
                groupsBySignature.set(signature, group);
                this.groups.push(group);
            }
            const slot: NodeSlot = {
                name,
                order: order.get(name)!,
                allocatable: nodeAllocatable(node),
                used: { cpuMillis: 0, memoryBytes: 0, pods: 0 },
                group,
                schedulable: false,
                heapIndex: -1,
            };
            this.slots.set(name, slot);
        }
    }

    /** Adds (sign 1) or removes (sign -1) a schedulable slot's free room from the totals. */
    private count(slot: NodeSlot, sign: 1 | -1): void {
        const freeCpu = Math.max(0, slot.allocatable.cpuMillis - slot.used.cpuMillis);
        const freeMemory = Math.max(0, slot.allocatable.memoryBytes - slot.used.memoryBytes);
        if (!Number.isFinite(freeCpu) || !Number.isFinite(freeMemory)) this.unlimitedNodes += sign;
        if (Number.isFinite(freeCpu)) this.freeCpu += sign * freeCpu;
        if (Number.isFinite(freeMemory)) this.freeMemory += sign * freeMemory;
    }

    private change(name: string, cpuMillis: number, memoryBytes: number, pods: number): void {
        const slot = this.slots.get(name);
        if (!slot) return;
        if (slot.schedulable) this.count(slot, -1);
        slot.used.cpuMillis += cpuMillis;
        slot.used.memoryBytes += memoryBytes;
        slot.used.pods += pods;
        if (slot.schedulable) {
            this.count(slot, 1);
            slot.group.heap.update(slot);
            if (pods < 0 && slot.group.failed.length > 0) slot.group.failed = []; // room grew
        }
    }

    /** A pod now runs on `node` (from the snapshot, or a replacement that landed there); `spread` is its controller's. */
    addPod(node: string, req: ResourceAmount, spread?: PodsPerNode): void {
        this.change(node, req.cpuMillis, req.memoryBytes, 1);
        if (spread) spread.set(node, (spread.get(node) ?? 0) + 1);
    }

    removePod(node: string, req: ResourceAmount, spread?: PodsPerNode): void {
        this.change(node, -req.cpuMillis, -req.memoryBytes, -1);
        if (spread) {
            const n = (spread.get(node) ?? 0) - 1;
            if (n > 0) spread.set(node, n);
            else spread.delete(node);
        }
    }

    /** Cordon (false) or uncordon (true) a node in the model. */
    setSchedulable(name: string, schedulable: boolean): void {
        const slot = this.slots.get(name);
        if (!slot || slot.schedulable === schedulable) return;
        slot.schedulable = schedulable;
        if (schedulable) {
            slot.group.heap.push(slot);
            if (slot.group.failed.length > 0) slot.group.failed = [];
            this.schedulableCount++;
            this.count(slot, 1);
        } else {
            slot.group.heap.remove(slot);
            this.schedulableCount--;
            this.count(slot, -1);
        }
    }

    isSchedulable(name: string): boolean {
        return this.slots.get(name)?.schedulable ?? false;
    }

    /** Number of schedulable nodes and their total free room. */
    totals(): { schedulableNodes: number; free: ResourceAmount } {
        const unlimited = this.unlimitedNodes > 0;
        return {
            schedulableNodes: this.schedulableCount,
            free: {
                cpuMillis: unlimited ? Number.POSITIVE_INFINITY : this.freeCpu,
                memoryBytes: unlimited ? Number.POSITIVE_INFINITY : this.freeMemory,
            },
        };
    }

    /** The groups of nodes whose taints the pod tolerates and whose labels match its selectors; keep it per controller. */
    placementClass(pod: V1Pod): PlacementClass {
        const signature = constraintSignature(pod);
        let groups = this.feasibleGroupsCache.get(signature);
        if (!groups) {
            groups = this.groups.filter((g) => toleratesAll(pod, g.taints) && matchesNodeConstraints(pod, g.labels));
            this.feasibleGroupsCache.set(signature, groups);
        }
        return groups;
    }

    /** Picks a node for a replacement pod and books it there; `spread` is its controller's pods per node. */
    place(pod: V1Pod, req: ResourceAmount, spread?: PodsPerNode, placement = this.placementClass(pod)): PlacementResult {
        if (this.schedulableCount === 0) return { node: null, reason: "no other node is schedulable" };
        let best: NodeSlot | undefined;
        let bestCount = Number.POSITIVE_INFINITY;
        let feasible = false;
        for (const g of placement) {
            if (g.heap.size === 0) continue;
            feasible = true;
            // A request at least as big as one that found no room here since the room last grew fails at once.
            if (g.failed.length > 0 && g.failed.some((f) => f.cpuMillis <= req.cpuMillis && f.memoryBytes <= req.memoryBytes)) continue;
            let found: NodeSlot | undefined;
            let foundCount = Number.POSITIVE_INFINITY;
            const top = g.heap.peek()!;
            if (fits(top, req) && !spread?.get(top.name)) {
                // The usual case: the least loaded node of the group fits and runs none of the controller's pods.
                found = top;
                foundCount = 0;
            } else {
                g.heap.visitInOrder((slot) => {
                    if (!fits(slot, req)) return false;
                    const count = spread?.get(slot.name) ?? 0;
                    // Visited in (pods, name) order: the first node with fewer of the controller's pods wins.
                    if (count < foundCount) {
                        found = slot;
                        foundCount = count;
                    }
                    return count === 0;
                });
            }
            if (!found) g.failed.push({ ...req });
            else if (foundCount < bestCount || (foundCount === bestCount && lessLoaded(found, best!))) {
                best = found;
                bestCount = foundCount;
            }
        }
        if (!feasible) {
            return { node: null, reason: "no schedulable node matches its nodeSelector/affinity and tolerates the node taints" };
        }
        if (!best) {
            return {
                node: null,
                reason: `no schedulable node has cpu ${formatCpu(req.cpuMillis)}, memory ${formatMemory(req.memoryBytes)} and a pod slot free`,
            };
        }
        this.addPod(best.name, req, spread);
        return { node: best.name };
    }
}
