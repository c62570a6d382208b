// Watches the simulated cluster's store (its synchronous change events) for two things:
//  - what is due when, for the clock driver: a pod's end of grace period (its deletionTimestamp), a pod's
//    start-up (its delay after the kubelet's first status);
//  - every workload's Ready replicas (Ready and not terminating, as a PodDisruptionBudget counts them), and the
//    lowest count during the roll.
import type { SimCluster, StoreEvent } from "../sim";
import { budgetRule, isPodReady, selectorMatches } from "../kube-rules";
import { CONTAINER_START_SECONDS, EXIT_AFTER_KNOB, START_DELAY_KNOB, TERMINATION_DELAY_KNOB, type WorkloadIndex } from "./scenario";
import type { SimTime } from "./sim-time";

/** The simulator arms its timers a moment after the write the observer sees. */
const SLACK_MS = 2;

function knob(pod: any, key: string): number | undefined {
    const v = pod?.metadata?.annotations?.[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
}

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
        this.trackTimers(e, pod, uid);
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

    /** What the simulated kubelet will do, and when (the clock driver stops there). */
    private trackTimers(e: StoreEvent, pod: any, uid: string): void {
        if (e.type === "DELETED") {
            this.time.forget(`start:${uid}`);
            this.time.forget(`stop:${uid}`);
            return;
        }
        if (!pod.spec?.nodeName) return;
        const deletion = pod.metadata?.deletionTimestamp;
        if (deletion) {
            // The kubelet removes the pod at its deletionTimestamp, or earlier when its containers exit early.
            const at = Date.parse(deletion);
            const grace = pod.metadata?.deletionGracePeriodSeconds ?? 0;
            let exitAt = at;
            const exitAfter = knob(pod, EXIT_AFTER_KNOB);
            if (exitAfter !== undefined) exitAt = Math.min(exitAt, at - grace * 1000 + exitAfter * 1000);
            exitAt += (knob(pod, TERMINATION_DELAY_KNOB) ?? 0) * 1000;
            this.time.expect(`stop:${uid}`, exitAt + SLACK_MS);
            this.time.forget(`start:${uid}`);
            return;
        }
        // The kubelet's first status of a pod (Pending, ContainerCreating) starts its start-up delay.
        const waiting = (pod.status?.containerStatuses ?? []).some((c: any) => c.state?.waiting?.reason === "ContainerCreating");
        const wasWaiting = (e.old?.status?.containerStatuses ?? []).some((c: any) => c.state?.waiting?.reason === "ContainerCreating");
        if (waiting && !wasWaiting) {
            const delay = knob(pod, START_DELAY_KNOB) ?? CONTAINER_START_SECONDS;
            // The kubelet read the clock just before this write and arms its timer just after it.
            this.time.expect(`start:${uid}`, this.time.nowMs() + delay * 1000 + SLACK_MS);
        } else if (!waiting && wasWaiting) {
            this.time.forget(`start:${uid}`);
        }
    }
}
