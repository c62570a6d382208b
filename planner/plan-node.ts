// What draining one node does, given the simulated cluster at that point of the roll:
// kubectl's filters decide which pods go, then each eviction is checked against its budget the way
// the API server's eviction handler does (drain-spec §5), spending and recovering budgets as it goes.
import { classifyPod, MESSAGES } from "../drain/filters";
import { DEFAULT_DRAIN_TIMEOUT_SECONDS, type DrainOptions } from "../drain/types";
import type { Budget, Recovery } from "./budgets";
import type { CompiledSelector } from "./label-selector";
import { formatCpu, formatMemory } from "./resources";
import type { RollState, SimPod } from "./roll-state";
import type { BlockedPod, BudgetReport, CapacityReport, NodePlan, PlannedEviction, SkippedPod, WaitingPod } from "./types";

export type NodeDrainPlan = Pick<NodePlan, "verdict" | "reasons" | "evict" | "skip" | "blocked" | "waits" | "budgets" | "capacity" | "warnings">;

const SHORT_SKIP_REASONS: Record<string, string> = {
    [MESSAGES.daemonSetWarning]: "DaemonSet-managed",
    "mirror pod (static pod managed by the kubelet)": "mirror pod",
};

/** kubectl's "message: ns/a, ns/b" lines, in order of first appearance. */
function groupByMessage(items: { message: string; pod: string }[]): string[] {
    const groups = new Map<string, string[]>();
    for (const { message, pod } of items) {
        const list = groups.get(message);
        if (list) list.push(pod);
        else groups.set(message, [pod]);
    }
    return [...groups].map(([message, pods]) => `${message}: ${pods.join(", ")}`);
}

/** How the eviction of one pod turns out. */
type Outcome =
    | { kind: "evict"; budget?: Budget; note?: string; waitedFor: Recovery[]; refusedAt?: BudgetReport }
    | { kind: "blocked"; budget?: Budget; reason: string; numbers?: BudgetReport };

/** Pods the API server deletes without looking at any budget (canIgnorePDB). */
function bypassReason(sim: SimPod): string | undefined {
    const phase = sim.pod.status?.phase;
    if (phase === "Pending") return "Pending: budgets do not apply";
    if (phase === "Succeeded" || phase === "Failed") return `${phase}: budgets do not apply`;
    if (sim.pod.metadata?.deletionTimestamp) return "already terminating: budgets do not apply";
    return undefined;
}

function timeoutPhrase(drain: DrainOptions): string {
    const t = drain.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    return t === 0 ? "the drain would wait forever (timeout 0)" : `the drain would wait until its timeout (${t}s)`;
}

function budgetFigures(b: BudgetReport, would: number | undefined): string {
    const have = would === undefined ? `has ${b.currentHealthy}` : `would have ${would}`;
    return `PodDisruptionBudget ${b.key} needs ${b.desiredHealthy} healthy pods and ${have} (${b.disruptionsAllowed} disruptions allowed, ${b.rule} of ${b.expectedPods} replicas)`;
}

/** Why a refused eviction can never go through. */
function whyNoRecovery(sim: SimPod, b: Budget, state: RollState): string {
    if (b.syncError) return `the disruption controller cannot compute it (${b.syncError}), so it allows no disruptions`;
    if (b.rule.field === "none") return "it sets neither minAvailable nor maxUnavailable, so it expects 0 pods and allows no disruptions";
    if (b.expectedPods <= 0) return "it expects 0 pods (none of its pods has a controller with a replica count), so it allows no disruptions";
    if (b.neverAllows) {
        const pods = `${b.matchedPods} pod${b.matchedPods === 1 ? "" : "s"}`;
        return `it can never allow a disruption (${b.rule.text}: needs ${b.desiredHealthy} healthy of ${pods})`;
    }
    const stranded = state.strandedReplacements().find((r) => r.original.budgets.includes(b));
    if (stranded) {
        const reason = state.unplacedReason.get(stranded) ?? "no room";
        return `the replacement for ${stranded.original.key} has nowhere to run (${reason}), so the budget cannot recover while this node is drained`;
    }
    const unhealthy = b.matchedPods - b.healthy;
    const hint = !sim.podReady && !b.alwaysAllowUnhealthy ? " (unhealthyPodEvictionPolicy: AlwaysAllow would let not-Ready pods go)" : "";
    return `${unhealthy} of its ${b.matchedPods} pods are not healthy and no replacement is on its way${hint}`;
}

function decide(sim: SimPod, drain: DrainOptions, state: RollState): Outcome {
    if (drain.disableEviction) return { kind: "evict", note: "deleted (--disable-eviction): budgets are not consulted", waitedFor: [] };
    const bypass = bypassReason(sim);
    if (bypass) return { kind: "evict", note: bypass, waitedFor: [] };
    if (sim.budgets.length > 1) {
        return {
            kind: "blocked",
            reason: `matches ${sim.budgets.length} PodDisruptionBudgets (${sim.budgets.map((b) => b.key).join(", ")}): the API server refuses to evict it (HTTP 500, more than one PodDisruptionBudget) and drain does not retry`,
        };
    }
    if (sim.budgets.length === 0) return { kind: "evict", waitedFor: [] };
    const budget = sim.budgets[0];
    const waitedFor: Recovery[] = [];
    let refusedAt: BudgetReport | undefined;
    for (;;) {
        if (!sim.podReady && budget.unhealthyPodEvictable()) {
            const note = budget.alwaysAllowUnhealthy ? "not Ready; AlwaysAllow lets it go" : "not Ready; the budget is already met, so it goes without spending it";
            return { kind: "evict", budget, note, waitedFor, refusedAt };
        }
        if (budget.disruptionsAllowed > 0) return { kind: "evict", budget, waitedFor, refusedAt };
        refusedAt ??= budget.report();
        const recovery = budget.recoverOne();
        if (!recovery) break;
        waitedFor.push(recovery);
    }
    const numbers = budget.report();
    const would = sim.healthy ? numbers.currentHealthy - 1 : undefined;
    return {
        kind: "blocked",
        budget,
        numbers,
        reason: `${budgetFigures(numbers, would)}: ${whyNoRecovery(sim, budget, state)}; ${timeoutPhrase(drain)}`,
    };
}

function waitReason(budget: BudgetReport, waitedFor: Recovery[]): string {
    const which =
        waitedFor.length === 1
            ? waitedFor[0].describe()
            : `${waitedFor.length} pods are Ready (${waitedFor.map((r) => r.label()).join(", ")})`;
    return `${budgetFigures(budget, undefined)}: evictions serialise; it goes once ${which}`;
}

/** Plans the drain of one node and applies its evictions to the simulated cluster. */
export function planNodeDrain(state: RollState, node: string, drain: DrainOptions, podSelector?: CompiledSelector): NodeDrainPlan {
    const plan: NodeDrainPlan = { verdict: "ok", reasons: [], evict: [], skip: [], blocked: [], waits: [], budgets: [], warnings: [] };
    const onNode = state.podsOn(node);
    const selected: SimPod[] = [];
    const stays: SimPod[] = [];
    for (const sim of onNode) {
        if (podSelector && !podSelector.matches(sim.pod.metadata?.labels)) {
            plan.skip.push({ pod: sim.key, reason: "not matched by --pod-selector" });
            stays.push(sim);
        } else selected.push(sim);
    }
    // kubectl's filter chain, pod by pod (classifyPod from drain/filters), grouped the way kubectl prints it.
    const filterContext = { now: state.now, daemonSetExists: (ns: string, name: string) => state.workloads.daemonSetExists(ns, name) };
    const evictable: SimPod[] = [];
    const warnings: { message: string; pod: string }[] = [];
    const errors: { message: string; pod: string }[] = [];
    for (const sim of selected) {
        const verdict = classifyPod(sim.pod, drain, filterContext);
        if (verdict.action === "evict") evictable.push(sim);
        else if (verdict.action === "skip") {
            plan.skip.push({ pod: sim.key, reason: SHORT_SKIP_REASONS[verdict.reason] ?? verdict.reason } satisfies SkippedPod);
            stays.push(sim);
        } else {
            plan.blocked.push({ pod: sim.key, reason: verdict.reason, cause: "filter" } satisfies BlockedPod);
            errors.push({ message: verdict.reason, pod: sim.key });
            stays.push(sim);
        }
        // The DaemonSet warning only repeats the skip list; kubectl's other warnings (e.g. pods without a
        // controller deleted under --force) say something the lists do not.
        if (verdict.action !== "block" && verdict.warning && verdict.warning !== MESSAGES.daemonSetWarning) {
            warnings.push({ message: verdict.warning, pod: sim.key });
        }
    }
    plan.warnings.push(...groupByMessage(warnings));

    // kubectl refuses the whole node before evicting anything when a filter says no.
    if (errors.length > 0) {
        plan.reasons.push(...groupByMessage(errors));
        plan.verdict = "blocked";
        return plan;
    }

    const seen = new Set<Budget>();
    for (const sim of evictable) {
        for (const b of sim.budgets) {
            if (!seen.has(b)) {
                seen.add(b);
                plan.budgets.push(b.report());
            }
        }
    }
    const totals = state.capacity.totals();
    const capacity: CapacityReport = {
        ok: true,
        replacements: 0,
        requested: { cpuMillis: 0, memoryBytes: 0 },
        schedulableNodes: totals.schedulableNodes,
        free: totals.free,
        unplaced: [],
    };

    for (const sim of evictable) {
        const outcome = decide(sim, drain, state);
        if (outcome.kind === "blocked") {
            const blocked: BlockedPod = { pod: sim.key, reason: outcome.reason, cause: "budget" };
            if (outcome.numbers) blocked.budget = outcome.numbers;
            plan.blocked.push(blocked);
            plan.reasons.push(`pod ${sim.key}: ${outcome.reason}`);
            stays.push(sim);
            continue;
        }
        const waits = outcome.waitedFor.length > 0;
        if (waits && outcome.refusedAt) {
            const reason = waitReason(outcome.refusedAt, outcome.waitedFor);
            plan.waits.push({ pod: sim.key, reason, budget: outcome.refusedAt } satisfies WaitingPod);
            plan.reasons.push(`pod ${sim.key} waits: ${reason}`);
        }
        const replacement = state.evict(sim);
        const eviction: PlannedEviction = { pod: sim.key, owner: sim.owner, waits };
        if (outcome.budget) eviction.budget = outcome.budget.key;
        if (outcome.note) eviction.note = outcome.note;
        if (replacement) {
            eviction.replacementNode = replacement.sim ? replacement.node : null;
            capacity.replacements++;
            capacity.requested.cpuMillis += sim.requests.cpuMillis;
            capacity.requested.memoryBytes += sim.requests.memoryBytes;
            if (!replacement.sim) capacity.unplaced.push({ pod: sim.key, reason: state.unplacedReason.get(replacement) ?? "no room" });
        }
        plan.evict.push(eviction);
    }
    state.setPodsOn(node, stays);

    capacity.ok = capacity.unplaced.length === 0;
    plan.capacity = capacity;
    if (!capacity.ok) {
        const names = capacity.unplaced.slice(0, 5).map((u) => `${u.pod} (${u.reason})`).join(", ");
        const more = capacity.unplaced.length > 5 ? ` and ${capacity.unplaced.length - 5} more` : "";
        plan.warnings.push(
            `capacity: ${capacity.unplaced.length} of ${capacity.replacements} replacements fit on no schedulable node and stay Pending until a drained node returns: ${names}${more}`,
        );
    }
    plan.verdict = plan.blocked.length > 0 ? "blocked" : plan.waits.length > 0 ? "waits" : "ok";
    return plan;
}

/** "cpu 1500m, memory 3Gi" */
export function describeAmount(a: { cpuMillis: number; memoryBytes: number }): string {
    return `cpu ${formatCpu(a.cpuMillis)}, memory ${formatMemory(a.memoryBytes)}`;
}
