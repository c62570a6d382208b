// PodDisruptionBudget arithmetic and wording, shared by the drain (which reads the disruption controller's
// status) and the planner (which computes the same numbers from the spec, drain-spec §6).
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { selectorMatches } from "./label-selector";
import { isPodReady } from "./pods";

/** Numbers of a PodDisruptionBudget, as reported in errors and plans. */
export interface BudgetNumbers {
    namespace: string;
    name: string;
    desiredHealthy: number;
    currentHealthy: number;
    expectedPods: number;
    disruptionsAllowed: number;
}

export function budgetKey(pdb: V1PodDisruptionBudget): string {
    return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

export function budgetNumbers(pdb: V1PodDisruptionBudget): BudgetNumbers {
    const s = pdb.status;
    return {
        namespace: pdb.metadata?.namespace ?? "",
        name: pdb.metadata?.name ?? "",
        desiredHealthy: s?.desiredHealthy ?? 0,
        currentHealthy: s?.currentHealthy ?? 0,
        expectedPods: s?.expectedPods ?? 0,
        disruptionsAllowed: s?.disruptionsAllowed ?? 0,
    };
}

/** The disruption controller has not caught up with the latest spec (the server answers 429 + Retry-After then). */
export function budgetIsStale(pdb: V1PodDisruptionBudget): boolean {
    const generation = pdb.metadata?.generation;
    const observed = pdb.status?.observedGeneration;
    return generation !== undefined && (observed === undefined || observed < generation);
}

/** Whether the server would (as far as this copy knows) accept one more eviction of a healthy matched pod. */
export function budgetAllowsDisruption(pdb: V1PodDisruptionBudget): boolean {
    return !budgetIsStale(pdb) && (pdb.status?.disruptionsAllowed ?? 0) > 0;
}

export function budgetMatchesPod(pdb: V1PodDisruptionBudget, pod: V1Pod): boolean {
    return (pdb.metadata?.namespace ?? "") === (pod.metadata?.namespace ?? "") && selectorMatches(pdb.spec?.selector, pod.metadata?.labels);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "PodDisruptionBudget default/web-pdb allows no disruption (needs 10 healthy pods and has 10; 0 disruptions allowed)" */
export function describeBudgetBlock(pdb: V1PodDisruptionBudget): string {
    const n = budgetNumbers(pdb);
    if (budgetIsStale(pdb)) {
        return `PodDisruptionBudget ${n.namespace}/${n.name} is still being processed by the disruption controller (generation ${pdb.metadata?.generation}, observed ${pdb.status?.observedGeneration ?? "none"})`;
    }
    const failed = (pdb.status?.conditions ?? []).find(
        (c) => c.type === "DisruptionAllowed" && c.status === "False" && c.reason === "SyncFailed",
    );
    if (failed)
        return `PodDisruptionBudget ${n.namespace}/${n.name} allows no disruption because the disruption controller failed to sync it: ${failed.message ?? ""}`.trim();
    return `PodDisruptionBudget ${n.namespace}/${n.name} allows no disruption (needs ${plural(n.desiredHealthy, "healthy pod")} and has ${n.currentHealthy}; ${plural(n.disruptionsAllowed, "disruption")} allowed)`;
}

/** Shorter progress text: "PodDisruptionBudget default/web-pdb (needs 10 healthy pods, has 10)". */
export function describeBudgetWait(pdb: V1PodDisruptionBudget): string {
    const n = budgetNumbers(pdb);
    if (budgetIsStale(pdb)) return `PodDisruptionBudget ${n.namespace}/${n.name} (being processed by the disruption controller)`;
    // "needs 2, has 3" yet refused: the server spent the budget on an eviction the controller has not counted yet.
    const pending = n.currentHealthy > n.desiredHealthy && n.disruptionsAllowed === 0 ? "; its last disruption is still being counted" : "";
    return `PodDisruptionBudget ${n.namespace}/${n.name} (needs ${plural(n.desiredHealthy, "healthy pod")}, has ${n.currentHealthy}${pending})`;
}

/** What the budget's spec asks for. */
export type BudgetRule =
    { field: "minAvailable" | "maxUnavailable"; value: number; percent: boolean; text: string } | { field: "none"; text: string };

/** Parses minAvailable/maxUnavailable; a string must be an integer percentage ("50%"). */
export function budgetRule(pdb: V1PodDisruptionBudget): BudgetRule | { error: string } {
    const spec = pdb.spec ?? {};
    const field =
        spec.maxUnavailable !== undefined && spec.maxUnavailable !== null
            ? "maxUnavailable"
            : spec.minAvailable !== undefined && spec.minAvailable !== null
              ? "minAvailable"
              : undefined;
    if (!field) return { field: "none", text: "neither minAvailable nor maxUnavailable set" };
    const raw = spec[field] as number | string;
    if (typeof raw === "number") return { field, value: raw, percent: false, text: `${field} ${raw}` };
    const m = String(raw).match(/^(\d+)%$/);
    if (!m) return { error: "invalid value for IntOrString: invalid type: string is not a percentage" };
    return { field, value: parseInt(m[1], 10), percent: true, text: `${field} ${raw}` };
}

/** desiredHealthy for a rule and an expected pod count (§6.1). */
export function desiredHealthy(rule: BudgetRule, expectedPods: number): number {
    if (rule.field === "none") return 0;
    const scaled = rule.percent ? Math.ceil((rule.value * expectedPods) / 100) : rule.value;
    return rule.field === "minAvailable" ? scaled : Math.max(0, expectedPods - scaled);
}

/** A pod counts as healthy for budgets when it is Ready, not terminating, and not just evicted. */
export function countsAsHealthy(pod: V1Pod, recentlyDisrupted: boolean): boolean {
    if (pod.metadata?.deletionTimestamp || recentlyDisrupted) return false;
    return isPodReady(pod);
}
