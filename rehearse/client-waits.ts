// When the roll's drains are about to act on their own. A drain that waits on a budget or on its workload's
// replacements normally hears of the change through a watch, but it may also learn it a moment later, on a
// short real-time retry (its copy of the budget lagged, or a refused eviction raced another one). Jumping the
// simulated clock then would make that moment look like minutes. So while a waiting pod could already go (its
// budget allows a disruption, its workload has the Ready replicas it needs), or a drain has nothing left to
// wait for but has not returned, the clock driver does not jump: real time runs, as it would for a real roll.
// Each such state holds the clock for at most HOLD_LIMIT_MS of real time (a drain that keeps being refused
// for another reason must not stop the fast-forward).
import { performance } from "node:perf_hooks";
import type { ProgressEvent } from "../drain";
import type { SimCluster } from "../sim";
import { budgetAllowsDisruption } from "../kube-rules";
import type { WorkloadTally } from "./observer";

const HOLD_LIMIT_MS = 5000;

interface WaitingPod {
    budget?: { namespace: string; name: string };
    workload?: { id: string; requiredReady: number };
    releasableSince?: number;
}

interface DrainState {
    toEvict?: number;
    started: Set<string>;
    gone: Set<string>;
    idleSince?: number;
}

export class ClientWaits {
    private readonly waiting = new Map<string, WaitingPod>();
    private readonly drains = new Map<string, DrainState>();

    constructor(
        private readonly cluster: Pick<SimCluster, "get">,
        private readonly tallies: Map<string, WorkloadTally>,
    ) {}

    drainStarted(node: string): void {
        this.drains.set(node, { started: new Set(), gone: new Set() });
    }

    drainEnded(node: string): void {
        const d = this.drains.get(node);
        if (d) for (const pod of d.started) this.waiting.delete(pod);
        this.drains.delete(node);
    }

    onProgress(e: ProgressEvent): void {
        const d = this.drains.get(e.node);
        switch (e.type) {
            case "classified":
                if (d) d.toEvict = e.evict;
                return;
            case "evicting":
                d?.started.add(e.pod);
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
                d?.gone.add(e.pod);
                return;
            case "pod-failed":
                this.waiting.delete(e.pod);
                return;
        }
    }

    /** From the store: the pod's eviction was accepted (it is terminating), or it is gone. */
    onPod(key: string, deleted: boolean): void {
        this.waiting.delete(key);
        if (deleted) for (const d of this.drains.values()) if (d.started.has(key)) d.gone.add(key);
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
            const done = d.toEvict !== undefined && d.started.size >= d.toEvict && [...d.started].every((p) => d.gone.has(p));
            if (!done) {
                d.idleSince = undefined;
                continue;
            }
            d.idleSince ??= now;
            if (now - d.idleSince < HOLD_LIMIT_MS) return true;
        }
        return false;
    }

    private releasable(w: WaitingPod): boolean {
        if (w.budget) {
            const pdb = this.cluster.get("poddisruptionbudgets", w.budget.namespace, w.budget.name);
            return !pdb || budgetAllowsDisruption(pdb);
        }
        if (w.workload) {
            const t = this.tallies.get(w.workload.id);
            return !!t && t.ready >= w.workload.requiredReady;
        }
        return false;
    }
}
