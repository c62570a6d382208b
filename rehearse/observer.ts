// Watches the simulated cluster's store (its synchronous change events): every write is activity for the
// clock driver, and every workload's Ready replicas (Ready and not terminating, as a PodDisruptionBudget counts
// them) are counted, with the lowest count during the roll.
import type { SimCluster, StoreEvent } from "../sim";
import { budgetRule, isPodReady, selectorMatches } from "../kube-rules";
import type { WorkloadIndex } from "./scenario";
import type { SimTime } from "./sim-time";

/** Ready and not terminating: what a budget counts as healthy, and what serves. */
function counts(pod: any): boolean {
    if (!pod || pod.metadata?.deletionTimestamp) return false;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return false;
    return isPodReady(pod);
}

export interface WorkloadTally {
    id: string;
    kind: "Deployment" | "StatefulSet" | "ReplicaSet";
    namespace: string;
    name: string;
    replicas: number;
    ready: number;
    readyAtStart: number;
    minReady: number;
    minReadyAtMs?: number;
    minReadyDuring?: string[];
    /** Had a pod on a node of the roll when it started. */
    onRolledNode: boolean;
    budget?: { name: string; desiredHealthy: number; rule: string };
}

export class ClusterObserver {
    readonly tallies = new Map<string, WorkloadTally>();
    private readonly podState = new Map<string, { id?: string; counted: boolean }>();
    private unsubscribe?: () => void;
    private recording = false;
    /** Called when a pod starts terminating (its eviction was accepted) or is gone: "namespace/name". */
    onPod?: (key: string, deleted: boolean) => void;

    constructor(
        private readonly cluster: SimCluster,
        private readonly index: WorkloadIndex,
        private readonly time: SimTime,
        /** The nodes being rolled right now (for "minimum reached during ..."). */
        private readonly activeNodes: () => string[],
    ) {}

    start(): void {
        this.unsubscribe = this.cluster.subscribe((e) => this.onEvent(e));
    }

    stop(): void {
        this.unsubscribe?.();
    }

    /** Counts every workload's Ready replicas now and starts recording minimums. */
    baseline(rolledNodes: Set<string>): void {
        const pdbs = this.cluster.list("poddisruptionbudgets");
        for (const [id, w] of this.index.workloads) {
            const obj = w.obj;
            const namespace = obj.metadata?.namespace ?? "default";
            const labels = obj.spec?.template?.metadata?.labels;
            const live = this.cluster.get(w.kind, namespace, obj.metadata?.name);
            const t: WorkloadTally = {
                id,
                kind: w.kind,
                namespace,
                name: obj.metadata?.name ?? "",
                replicas: live?.spec?.replicas ?? obj.spec?.replicas ?? 1,
                ready: 0,
                readyAtStart: 0,
                minReady: 0,
                onRolledNode: false,
            };
            const pdb = pdbs.find(
                (p: any) => (p.metadata?.namespace ?? "default") === namespace && selectorMatches(p.spec?.selector, labels),
            );
            if (pdb) {
                const rule = budgetRule(pdb);
                t.budget = {
                    name: `${namespace}/${pdb.metadata.name}`,
                    desiredHealthy: pdb.status?.desiredHealthy ?? 0,
                    rule: "text" in rule ? rule.text : rule.error,
                };
            }
            this.tallies.set(id, t);
        }
        this.podState.clear();
        for (const pod of this.cluster.list("pods")) {
            const id = this.index.ofPod(pod);
            const counted = counts(pod);
            this.podState.set(pod.metadata.uid, { id, counted });
            const t = id ? this.tallies.get(id) : undefined;
            if (!t) continue;
            if (counted) t.ready++;
            if (rolledNodes.has(pod.spec?.nodeName)) t.onRolledNode = true;
        }
        for (const t of this.tallies.values()) {
            t.readyAtStart = t.ready;
            t.minReady = t.ready;
        }
        this.recording = true;
    }

    private onEvent(e: StoreEvent): void {
        this.time.activity();
        if (e.resource !== "pods") return;
        const pod = e.object;
        const uid: string = pod?.metadata?.uid;
        if (!uid) return;
        if (this.onPod && (e.type === "DELETED" || (pod.metadata?.deletionTimestamp && !e.old?.metadata?.deletionTimestamp)))
            this.onPod(`${pod.metadata.namespace}/${pod.metadata.name}`, e.type === "DELETED");
        if (!this.recording) return;
        const prev = this.podState.get(uid);
        const id = prev?.id ?? this.index.ofPod(pod);
        const counted = e.type !== "DELETED" && counts(pod);
        if (e.type === "DELETED") this.podState.delete(uid);
        else this.podState.set(uid, { id, counted });
        if (!id || (prev?.counted ?? false) === counted) return;
        const t = this.tallies.get(id);
        if (!t) return;
        t.ready += counted ? 1 : -1;
        if (t.ready < t.minReady) {
            t.minReady = t.ready;
            t.minReadyAtMs = this.time.nowMs();
            t.minReadyDuring = this.activeNodes();
        }
    }
}
