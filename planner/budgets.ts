// PodDisruptionBudget arithmetic, as the disruption controller computes it (drain-spec §6), kept as
// running counts so the planner can spend and recover budgets pod by pod across the whole roll (the pods
// that give a budget its healthy pods back are tracked in roll-state.ts).
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Workload } from "./workloads";
import type { BudgetReport } from "./types";
import { budgetRule, compileSelector, desiredHealthy, type BudgetRule, type CompiledSelector } from "../kube-rules";

/** One PodDisruptionBudget with live counts. */
export class Budget {
    readonly key: string;
    readonly selector: CompiledSelector;
    readonly rule: BudgetRule;
    readonly alwaysAllowUnhealthy: boolean;
    /** Pods the selector matches right now (all phases, as the controller counts them). */
    matchedPods = 0;
    healthy = 0;
    /** Set when the controller would fail to sync (failSafe): no disruption is ever allowed. */
    syncError?: string;
    /** Σ replicas of the controllers of matched pods; used for percentages and maxUnavailable. */
    private scaleSum = 0;
    private readonly scaleSeen = new Set<string>();
    private readonly needsScale: boolean;
    private scaleFromStatus = false;

    constructor(readonly pdb: V1PodDisruptionBudget) {
        this.key = `${pdb.metadata?.namespace ?? "default"}/${pdb.metadata?.name}`;
        this.selector = compileSelector(pdb.spec?.selector);
        // Unknown policy values are treated like IfHealthyBudget, as the server does.
        this.alwaysAllowUnhealthy = pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow";
        const rule = budgetRule(pdb);
        if ("error" in rule) {
            this.syncError = rule.error;
            this.rule = {
                field: "none",
                text: `${pdb.spec?.maxUnavailable !== undefined ? "maxUnavailable" : "minAvailable"} ${String(pdb.spec?.maxUnavailable ?? pdb.spec?.minAvailable)}`,
            };
        } else this.rule = rule;
        this.needsScale = this.rule.field === "maxUnavailable" || (this.rule.field === "minAvailable" && this.rule.percent);
        // A controller that already failed to sync keeps allowing nothing until it syncs again.
        const failed = (pdb.status?.conditions ?? []).find(
            (c) => c.type === "DisruptionAllowed" && c.status === "False" && c.reason === "SyncFailed",
        );
        if (failed && !this.syncError) this.syncError = failed.message || "the disruption controller failed to sync it";
    }

    /** Counts one matched pod of the snapshot (called once per pod before planning). */
    addSnapshotPod(pod: V1Pod, workload: Workload | undefined, healthy: boolean): void {
        this.matchedPods++;
        if (healthy) this.healthy++;
        if (!this.needsScale || !workload) return; // pods without a controller are skipped (UnmanagedPods event)
        if (this.scaleSeen.has(workload.id)) return;
        this.scaleSeen.add(workload.id);
        if (workload.replicas !== undefined) {
            this.scaleSum += workload.replicas;
        } else if (typeof this.pdb.status?.expectedPods === "number") {
            // Jobs, custom controllers with a /scale, owners missing from the snapshot: the controller's own
            // figure in the status is the best we have.
            this.scaleFromStatus = true;
        } else {
            // No scale and no status: the real controller fails the same way and allows nothing (failSafe).
            this.syncError ??= `found no controllers for pod "${pod.metadata?.name}"`;
        }
    }

    get expectedPods(): number {
        if (this.rule.field === "none") return 0;
        if (!this.needsScale) return this.matchedPods;
        return this.scaleFromStatus && typeof this.pdb.status?.expectedPods === "number" ? this.pdb.status.expectedPods : this.scaleSum;
    }

    get desiredHealthy(): number {
        return desiredHealthy(this.rule, this.expectedPods);
    }

    get disruptionsAllowed(): number {
        if (this.syncError || this.expectedPods <= 0) return 0;
        return Math.max(0, this.healthy - this.desiredHealthy);
    }

    /** True when no number of Ready replacements can ever make room: fixing it needs a spec change. */
    get neverAllows(): boolean {
        if (this.syncError || this.expectedPods <= 0) return true;
        // At best every matched pod is healthy.
        return this.desiredHealthy >= this.matchedPods;
    }

    /**
     * An unready pod is evicted without spending the budget under AlwaysAllow, or under IfHealthyBudget
     * when the budget is already satisfied (currentHealthy ≥ desiredHealthy > 0).
     */
    unhealthyPodEvictable(): boolean {
        if (this.alwaysAllowUnhealthy) return true;
        return !this.syncError && this.healthy >= this.desiredHealthy && this.desiredHealthy > 0;
    }

    /**
     * The numbers now, with the rule and the key. The same object comes back while the numbers do not change
     * (a roll reports each budget once per node it drains), so a plan must be treated as read-only.
     */
    report(): BudgetReport {
        const expectedPods = this.expectedPods;
        const last = this.lastReport;
        if (last && last.currentHealthy === this.healthy && last.expectedPods === expectedPods) return last;
        const desired = desiredHealthy(this.rule, expectedPods);
        return (this.lastReport = {
            namespace: this.pdb.metadata?.namespace ?? "default",
            name: this.pdb.metadata?.name ?? "",
            desiredHealthy: desired,
            currentHealthy: this.healthy,
            expectedPods,
            disruptionsAllowed: this.syncError || expectedPods <= 0 ? 0 : Math.max(0, this.healthy - desired),
            rule: this.rule.text,
            key: this.key,
        });
    }

    private lastReport?: BudgetReport;

    /** [this], for the many pods this budget alone matches (one shared list, never changed). */
    readonly alone: Budget[] = [this];
    /** The outcome of an eviction this budget allows (plan-node.ts), shared by all of them. */
    readonly evicts: { readonly kind: "evict"; readonly budget: Budget } = Object.freeze({ kind: "evict" as const, budget: this });
}

/**
 * All budgets of the snapshot, indexed so a pod's budgets are found without testing every budget of
 * its namespace: a budget with a required "key=value" is filed under that pair.
 */
export class BudgetIndex {
    readonly all: Budget[] = [];
    /** Per namespace: budgets filed under a label their selector requires (key, then value), and the others. */
    private readonly byNamespace = new Map<string, { byLabel: Map<string, Map<string, Budget[]>>; unindexed: Budget[] }>();

    constructor(pdbs: V1PodDisruptionBudget[]) {
        for (const pdb of pdbs) {
            const budget = new Budget(pdb);
            this.all.push(budget);
            const ns = pdb.metadata?.namespace ?? "default";
            let entry = this.byNamespace.get(ns);
            if (!entry) this.byNamespace.set(ns, (entry = { byLabel: new Map(), unindexed: [] }));
            const pair = budget.selector.requiredPair;
            if (pair) {
                // A label key has no "=", so the first one splits "key=value".
                const eq = pair.indexOf("=");
                const key = pair.slice(0, eq);
                let byValue = entry.byLabel.get(key);
                if (!byValue) entry.byLabel.set(key, (byValue = new Map()));
                const list = byValue.get(pair.slice(eq + 1));
                if (list) list.push(budget);
                else byValue.set(pair.slice(eq + 1), [budget]);
            } else entry.unindexed.push(budget);
        }
    }

    /** Budgets whose selector matches the pod. Pods that match none or one share one list per case (never changed). */
    matching(pod: V1Pod): Budget[] {
        const entry = this.byNamespace.get(pod.metadata?.namespace ?? "default");
        if (!entry) return NO_BUDGETS;
        const labels = pod.metadata?.labels ?? {};
        let found: Budget[] | undefined;
        let first: Budget | undefined;
        for (const b of entry.unindexed) {
            if (!b.selector.matches(labels)) continue;
            if (!first) first = b;
            else (found ??= [first]).push(b);
        }
        for (const k in labels) {
            const list = entry.byLabel.get(k)?.get(labels[k]);
            if (!list) continue;
            for (const b of list) {
                if (b === first || found?.includes(b) || !b.selector.matches(labels)) continue;
                if (!first) first = b;
                else (found ??= [first]).push(b);
            }
        }
        return found ?? first?.alone ?? NO_BUDGETS;
    }
}

/** Shared by every pod no budget matches; never changed. */
const NO_BUDGETS: Budget[] = [];
