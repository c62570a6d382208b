// Where replacement pods can run while nodes are drained: a small scheduler model.
//
// Each node has allocatable cpu/memory/pod slots and what is already placed on it. Replacements go to
// the schedulable node with the most room (kube-scheduler's default LeastAllocated scoring), among the
// nodes whose taints and labels the pod accepts. Nodes that look the same to every pod (same taints,
// same values of the labels any pod selects on) form a group with one heap ordered by free room, so a
// placement costs O(log n) instead of a scan of every node.
import type { V1Node, V1Pod, V1Taint } from "@kubernetes/client-node";
import { IndexedHeap, type HeapItem } from "./indexed-heap";
import { formatCpu, formatMemory, nodeAllocatable, type NodeAllocatable } from "./resources";
import { constraintSignature, matchesNodeConstraints, schedulingTaints, toleratesAll } from "./scheduling";
import type { ResourceAmount } from "./types";

interface NodeSlot extends HeapItem {
    name: string;
    allocatable: NodeAllocatable;
    used: ResourceAmount & { pods: number };
    group: NodeGroup;
    schedulable: boolean;
}

interface NodeGroup {
    labels: Record<string, string>;
    taints: V1Taint[];
    heap: IndexedHeap<NodeSlot>;
    /** Requests that found no room in this group since its room last grew; a bigger request fails at once. */
    failed: ResourceAmount[];
}

export type PlacementResult = { node: string } | { node: null; reason: string };

/** Fraction of a node left free, averaged over cpu and memory (1 when a figure is unknown). */
function freeFraction(slot: NodeSlot): number {
    const part = (used: number, total: number) => (Number.isFinite(total) && total > 0 ? Math.max(0, total - used) / total : 1);
    return (part(slot.used.cpuMillis, slot.allocatable.cpuMillis) + part(slot.used.memoryBytes, slot.allocatable.memoryBytes)) / 2;
}

function fits(slot: NodeSlot, req: ResourceAmount): boolean {
    return (
        slot.used.cpuMillis + req.cpuMillis <= slot.allocatable.cpuMillis &&
        slot.used.memoryBytes + req.memoryBytes <= slot.allocatable.memoryBytes &&
        slot.used.pods + 1 <= slot.allocatable.pods
    );
}

function roomier(a: NodeSlot, b: NodeSlot): boolean {
    const fa = freeFraction(a);
    const fb = freeFraction(b);
    return fa !== fb ? fa > fb : a.name < b.name;
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
     * @param nodes every node of the cluster
     * @param selectorKeys label keys any replaceable pod selects nodes on (nodeSelector/affinity)
     * @param isSchedulable whether a node takes new pods at the start of the roll
     */
    constructor(nodes: V1Node[], selectorKeys: Set<string>, isSchedulable: (node: V1Node) => boolean) {
        const groupsBySignature = new Map<string, NodeGroup>();
        const keys = [...selectorKeys].sort();
        for (const node of nodes) {
            const name = node.metadata?.name ?? "";
            const labels = node.metadata?.labels ?? {};
            const taints = schedulingTaints(node);
            const signature = JSON.stringify([keys.map((k) => labels[k] ?? null), taints.map((t) => [t.key, t.value ?? "", t.effect]).sort()]);
            let group = groupsBySignature.get(signature);
            if (!group) {
                group = { labels, taints, heap: new IndexedHeap<NodeSlot>(roomier), failed: [] };
                groupsBySignature.set(signature, group);
                this.groups.push(group);
            }
            const slot: NodeSlot = {
                name,
                allocatable: nodeAllocatable(node),
                used: { cpuMillis: 0, memoryBytes: 0, pods: 0 },
                group,
                schedulable: false,
                heapIndex: -1,
            };
            this.slots.set(name, slot);
            if (isSchedulable(node)) this.setSchedulable(name, true);
        }
    }

    private freeOf(slot: NodeSlot): ResourceAmount {
        return {
            cpuMillis: Math.max(0, slot.allocatable.cpuMillis - slot.used.cpuMillis),
            memoryBytes: Math.max(0, slot.allocatable.memoryBytes - slot.used.memoryBytes),
        };
    }

    /** Adds (sign 1) or removes (sign -1) a schedulable slot's free room from the totals. */
    private count(slot: NodeSlot, sign: 1 | -1): void {
        const free = this.freeOf(slot);
        if (!Number.isFinite(free.cpuMillis) || !Number.isFinite(free.memoryBytes)) {
            this.unlimitedNodes += sign;
            if (Number.isFinite(free.cpuMillis)) this.freeCpu += sign * free.cpuMillis;
            if (Number.isFinite(free.memoryBytes)) this.freeMemory += sign * free.memoryBytes;
        } else {
            this.freeCpu += sign * free.cpuMillis;
            this.freeMemory += sign * free.memoryBytes;
        }
    }

    private change(name: string, delta: ResourceAmount, pods: number): void {
        const slot = this.slots.get(name);
        if (!slot) return;
        if (slot.schedulable) this.count(slot, -1);
        slot.used.cpuMillis += delta.cpuMillis;
        slot.used.memoryBytes += delta.memoryBytes;
        slot.used.pods += pods;
        if (slot.schedulable) {
            this.count(slot, 1);
            slot.group.heap.update(slot);
            if (pods < 0) slot.group.failed = []; // room grew
        }
    }

    /** A pod now runs on `node` (from the snapshot, or a replacement that landed there). */
    addPod(node: string, req: ResourceAmount): void {
        this.change(node, req, 1);
    }

    removePod(node: string, req: ResourceAmount): void {
        this.change(node, { cpuMillis: -req.cpuMillis, memoryBytes: -req.memoryBytes }, -1);
    }

    /** Cordon (false) or uncordon (true) a node in the model. */
    setSchedulable(name: string, schedulable: boolean): void {
        const slot = this.slots.get(name);
        if (!slot || slot.schedulable === schedulable) return;
        slot.schedulable = schedulable;
        if (schedulable) {
            slot.group.heap.push(slot);
            slot.group.failed = [];
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

    private feasibleGroups(pod: V1Pod): NodeGroup[] {
        const signature = constraintSignature(pod);
        let groups = this.feasibleGroupsCache.get(signature);
        if (!groups) {
            groups = this.groups.filter((g) => toleratesAll(pod, g.taints) && matchesNodeConstraints(pod, g.labels));
            this.feasibleGroupsCache.set(signature, groups);
        }
        return groups;
    }

    /** Picks a node for a replacement pod and books its requests there. */
    place(pod: V1Pod, req: ResourceAmount): PlacementResult {
        if (this.schedulableCount === 0) return { node: null, reason: "no other node is schedulable" };
        const groups = this.feasibleGroups(pod).filter((g) => g.heap.size > 0);
        if (groups.length === 0) {
            return { node: null, reason: "no schedulable node matches its nodeSelector/affinity and tolerates the node taints" };
        }
        let best: NodeSlot | undefined;
        for (const g of groups) {
            const top = g.heap.peek()!;
            if (fits(top, req) && (!best || roomier(top, best))) best = top;
        }
        if (!best) {
            // The roomiest node is short in one dimension; another may still fit. Scan, unless a smaller
            // request already failed in this group since its room last grew.
            for (const g of groups) {
                if (g.failed.some((f) => f.cpuMillis <= req.cpuMillis && f.memoryBytes <= req.memoryBytes)) continue;
                let found: NodeSlot | undefined;
                for (const slot of g.heap.items) if (fits(slot, req) && (!found || roomier(slot, found))) found = slot;
                if (found) {
                    if (!best || roomier(found, best)) best = found;
                } else g.failed.push({ ...req });
            }
        }
        if (!best) {
            return {
                node: null,
                reason: `no schedulable node has cpu ${formatCpu(req.cpuMillis)}, memory ${formatMemory(req.memoryBytes)} and a pod slot free`,
            };
        }
        this.addPod(best.name, req);
        return { node: best.name };
    }
}
