// When the roll's clients are about to act on their own. A drain that waits on a budget or on its workload's
// replacements normally hears of the change through a watch, but it may also learn it a moment later, on a
// short real-time retry (its copy of the budget lagged, or a refused eviction raced another one); a wait for a
// node hears through its watch that the node is Ready, a moment after the store says so (longer on a busy
// machine). Jumping the simulated clock then would make that moment look like minutes. So while a waiting pod
// could already go (its budget allows a disruption, its workload has the Ready replicas it needs), a drain has
// nothing left to wait for but has not returned, or a node is Ready at its target but its wait has not returned,
// the clock driver does not jump: real time runs, as it would for a real roll. Each such state holds the clock
// for at most HOLD_LIMIT_MS of real time (a drain that keeps being refused for another reason must not stop the
// fast-forward).
//
// The clock driver asks imminent() every few real milliseconds, so it reads only what this class keeps up to
// date from events: whether each budget allows a disruption and whether each awaited node is Ready at its
// target (from the store's change events, which hand over the stored object, no copy), the workloads' Ready
// counts (the observer's tallies), each drain's pods not yet gone.
import { performance } from "node:perf_hooks";
import type { ProgressEvent } from "../drain";
import type { SimCluster, StoreEvent } from "../sim";
import { budgetAllowsDisruption, isNodeReady, versionSatisfiesTarget } from "../kube-rules";
import type { WorkloadTally } from "./observer";

const HOLD_LIMIT_MS = 5000;

interface WaitingPod {
    budget?: { namespace: string; name: string };
    workload?: { id: string; requiredReady: number };
    releasableSince?: number;
}

interface DrainState {
    toEvict?: number;
    /** Pods whose eviction started. */
    started: Set<string>;
    /** Pods gone, whether or not their eviction started here. */
    gone: Set<string>;
    /** Started and not gone yet. */
    leaving: Set<string>;
    idleSince?: number;
}

interface NodeWait {
    version: string;
    /** Ready at the version in the store. */
    there: boolean;
    thereSince?: number;
}

const readyAt = (node: any, version: string) =>
    !!node && isNodeReady(node) && versionSatisfiesTarget(node.status?.nodeInfo?.kubeletVersion, version);

export class ClientWaits {
    private readonly waiting = new Map<string, WaitingPod>();
    private readonly drains = new Map<string, DrainState>();
    /** "namespace/name" of a budget → it allows a disruption now; filled on first use, then kept by store events. */
    private readonly budgetAllows = new Map<string, boolean>();
    private readonly nodeWaits = new Map<string, NodeWait>();
    private unsubscribe?: () => void;

    constructor(
        private readonly cluster: Pick<SimCluster, "get" | "subscribe">,
        private readonly tallies: Map<string, WorkloadTally>,
    ) {}

    start(): void {
        this.unsubscribe = this.cluster.subscribe((e) => this.onStoreEvent(e));
    }

    stop(): void {
        this.unsubscribe?.();
    }

    drainStarted(node: string): void {
        this.drains.set(node, { started: new Set(), gone: new Set(), leaving: new Set() });
    }

    drainEnded(node: string): void {
        const d = this.drains.get(node);
        if (d) for (const pod of d.started) this.waiting.delete(pod);
        this.drains.delete(node);
    }

    /** The roll waits for `node` to be Ready at `version` (waitForNode). */
    nodeWaitStarted(node: string, version: string): void {
        this.nodeWaits.set(node, { version, there: readyAt(this.cluster.get("nodes", undefined, node), version) });
    }

    nodeWaitEnded(node: string): void {
        this.nodeWaits.delete(node);
    }

    onProgress(e: ProgressEvent): void {
        const d = this.drains.get(e.node);
        switch (e.type) {
            case "classified":
                if (d) d.toEvict = e.evict;
                return;
            case "evicting":
                if (d && !d.started.has(e.pod)) {
                    d.started.add(e.pod);
                    if (!d.gone.has(e.pod)) d.leaving.add(e.pod);
                }
                return;
            case "waiting-on-budget":
                if (e.budget) this.waiting.set(e.pod, { budget: { namespace: e.budget.namespace, name: e.budget.name } });
                return;
            case "waiting-on-workload":
                this.waiting.set(e.pod, {
                    workload: {
                        id: `${e.workload.kind} ${e.workload.namespace}/${e.workload.name}`,
                        requiredReady: e.workload.requiredReady,
                    },
                });
                return;
            case "pod-gone":
                this.waiting.delete(e.pod);
                if (d) this.markGone(d, e.pod);
                return;
            case "pod-failed":
                this.waiting.delete(e.pod);
                return;
        }
    }

    /** From the store: the pod's eviction was accepted (it is terminating), or it is gone. */
    onPod(key: string, deleted: boolean): void {
        this.waiting.delete(key);
        if (deleted) for (const d of this.drains.values()) if (d.started.has(key)) this.markGone(d, key);
    }

    private markGone(d: DrainState, pod: string): void {
        d.gone.add(pod);
        d.leaving.delete(pod);
    }

    private onStoreEvent(e: StoreEvent): void {
        if (e.resource === "nodes") {
            const w = this.nodeWaits.get(e.object.metadata?.name);
            if (w) w.there = e.type !== "DELETED" && readyAt(e.object, w.version);
            return;
        }
        if (e.resource !== "poddisruptionbudgets") return;
        const key = `${e.object.metadata?.namespace}/${e.object.metadata?.name}`;
        if (e.type === "DELETED") this.budgetAllows.delete(key);
        else this.budgetAllows.set(key, budgetAllowsDisruption(e.object));
    }

    /** True while a drain is expected to act without anything else happening first. */
    imminent(): boolean {
        const now = performance.now();
        for (const w of this.waiting.values()) {
            if (!this.releasable(w)) {
                w.releasableSince = undefined;
                continue;
            }
            w.releasableSince ??= now;
            if (now - w.releasableSince < HOLD_LIMIT_MS) return true;
        }
        for (const d of this.drains.values()) {
            const done = d.toEvict !== undefined && d.started.size >= d.toEvict && d.leaving.size === 0;
            if (!done) {
                d.idleSince = undefined;
                continue;
            }
            d.idleSince ??= now;
            if (now - d.idleSince < HOLD_LIMIT_MS) return true;
        }
        for (const w of this.nodeWaits.values()) {
            if (!w.there) {
                w.thereSince = undefined;
                continue;
            }
            w.thereSince ??= now;
            if (now - w.thereSince < HOLD_LIMIT_MS) return true;
        }
        return false;
    }

    private releasable(w: WaitingPod): boolean {
        if (w.budget) {
            const key = `${w.budget.namespace}/${w.budget.name}`;
            let allows = this.budgetAllows.get(key);
            if (allows === undefined) {
                // Not written since the roll started: read it once (a copy), then events keep it.
                const pdb = this.cluster.get("poddisruptionbudgets", w.budget.namespace, w.budget.name);
                allows = !pdb || budgetAllowsDisruption(pdb);
                this.budgetAllows.set(key, allows);
            }
            return allows;
        }
        if (w.workload) {
            const t = this.tallies.get(w.workload.id);
            return !!t && t.ready >= w.workload.requiredReady;
        }
        return false;
    }
}
