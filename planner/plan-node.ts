// What draining one node does, given the simulated cluster at that point of the roll. kubectl's filters decide
// which pods go; then the evictions run in rounds, as the drain engine sends them: every pod that may go at once
// goes, in listing order; a pod its budget refuses (drain-spec §5), or that workload pacing holds
// (maxUnavailablePerWorkload), waits for the next round, once the replacements placed so far have started. A
// pod still held when nothing more can start is blocked. The order matters: it decides, replacement by
// replacement, where the scheduler puts them, and so what the next nodes hold.
import {
    classifyPod,
    MESSAGES,
    DEFAULT_DRAIN_TIMEOUT_SECONDS,
    type DrainOptions,
    type WorkloadNumbers,
    decideEviction,
    describeWorkloadWait,
    isPaced,
    pacedWorkloadOf,
} from "../drain";
import type { Budget } from "./budgets";
import type { ControllerState, Recovery, RollState, SimPod } from "./roll-state";
import type { BlockedPod, BudgetReport, CapacityReport, NodePlan, PlannedEviction, SkippedPod, WaitingPod } from "./types";
import { type CompiledSelector, formatCpu, formatDuration, formatMemory } from "../kube-rules";

export type NodeDrainPlan = Pick<
    NodePlan,
    "verdict" | "reasons" | "evict" | "skip" | "blocked" | "waits" | "budgets" | "capacity" | "warnings"
>;

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

/** "pod ns/name", or the label of a pod created during the roll, which already says what it is. */
function podRef(sim: SimPod): string {
    return sim.created && sim.key !== sim.replaces ? sim.key : `pod ${sim.key}`;
}

/** How one eviction attempt turns out right now. */
type Outcome =
    | { kind: "evict"; budget?: Budget; note?: string }
    | { kind: "wait"; budget?: Budget; workload?: WorkloadNumbers }
    | { kind: "blocked"; reason: string };

/** The common outcome, shared rather than allocated for each of 450,000 pods. */
const EVICT: Outcome = Object.freeze({ kind: "evict" });

function timeoutPhrase(drain: DrainOptions): string {
    const t = drain.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
    return t === 0 ? "the drain would wait forever (timeout 0)" : `the drain would wait until its timeout (${formatDuration(t)})`;
}

function budgetFigures(b: BudgetReport, would: number | undefined): string {
    const have = would === undefined ? `has ${b.currentHealthy}` : `would have ${would}`;
    return `PodDisruptionBudget ${b.key} needs ${b.desiredHealthy} healthy pods and ${have} (${b.disruptionsAllowed} disruptions allowed, ${b.rule} of ${b.expectedPods} replicas)`;
}

/** The stranded replacement (nowhere to run) that a budget or a controller waits for, as text. */
function strandedText(state: RollState, matches: (replacement: SimPod) => boolean): string | undefined {
    const stranded = state.strandedReplacements().find(matches);
    if (!stranded) return undefined;
    return `${stranded.label()} has nowhere to run (${state.unplacedReason.get(stranded) ?? "no room"})`;
}

/** Why a refused eviction can never go through. */
function whyNoRecovery(sim: SimPod, b: Budget, state: RollState): string {
    if (b.syncError) return `the disruption controller cannot compute it (${b.syncError}), so it allows no disruptions`;
    if (b.rule.field === "none") return "it sets neither minAvailable nor maxUnavailable, so it expects 0 pods and allows no disruptions";
    if (b.expectedPods <= 0)
        return "it expects 0 pods (none of its pods has a controller with a replica count), so it allows no disruptions";
    if (b.neverAllows) {
        const pods = `${b.matchedPods} pod${b.matchedPods === 1 ? "" : "s"}`;
        return `it can never allow a disruption (${b.rule.text}: needs ${b.desiredHealthy} healthy of ${pods})`;
    }
    const stranded = strandedText(state, (o) => o.budgets.includes(b));
    if (stranded) return `${stranded}, so the budget cannot recover while this node is drained`;
    const unhealthy = b.matchedPods - b.healthy;
    const hint = !sim.podReady && !b.alwaysAllowUnhealthy ? " (unhealthyPodEvictionPolicy: AlwaysAllow would let not-Ready pods go)" : "";
    return `${unhealthy} of its ${b.matchedPods} pods are not healthy and no replacement is on its way${hint}`;
}

/** Why a workload's Ready replicas never reach what pacing needs. */
function whyNotReady(sim: SimPod, w: WorkloadNumbers, state: RollState): string {
    const stranded = strandedText(state, (o) => o.controller === sim.controller);
    if (stranded) return `${stranded}, so the workload cannot recover while this node is drained`;
    const missing = w.desiredReplicas - w.readyReplicas;
    return `${missing} of its ${w.desiredReplicas} replicas ${missing === 1 ? "is" : "are"} not Ready and no replacement is on its way`;
}

/** maxUnavailablePerWorkload: the workload's numbers when it holds the pod now; undefined when the pod may go. */
function pacingHold(sim: SimPod, drain: DrainOptions, state: RollState): WorkloadNumbers | undefined {
    const maxUnavailable = drain.maxUnavailablePerWorkload ?? 0;
    if (maxUnavailable <= 0) return undefined;
    const ref = pacedWorkloadOf(sim.pod);
    const paced = isPaced({
        maxUnavailable,
        dryRunServer: drain.dryRun === "server",
        deleting: !!drain.disableEviction,
        coveredByBudget: sim.budgets.length > 0,
        workload: ref,
    });
    if (!paced || !ref) return undefined;
    const desiredReplicas = state.workloads.controllerReplicas(sim.pod);
    if (desiredReplicas === undefined) return undefined; // the drain engine does not pace a controller it cannot read
    const readyReplicas = sim.controller?.ready ?? 0;
    const candidateReady = sim.podReady && (sim.created || !sim.pod.metadata?.deletionTimestamp);
    const decision = decideEviction({ maxUnavailable, desiredReplicas, readyReplicas, candidateReady });
    if (decision.allow) return undefined;
    const w = state.workloads.workloadOf(sim.pod);
    return {
        namespace: ref.namespace,
        kind: w?.kind ?? ref.kind,
        name: w?.name ?? ref.name,
        desiredReplicas,
        readyReplicas,
        requiredReady: decision.requiredReady,
        maxUnavailable,
    };
}

function decide(sim: SimPod, drain: DrainOptions, state: RollState): Outcome {
    if (drain.disableEviction) {
        const workload = pacingHold(sim, drain, state);
        return workload ? { kind: "wait", workload } : { kind: "evict", note: "deleted (--disable-eviction): budgets are not consulted" };
    }
    if (sim.bypass) return { kind: "evict", note: sim.bypass };
    if (sim.budgets.length > 1) {
        return {
            kind: "blocked",
            reason: `matches ${sim.budgets.length} PodDisruptionBudgets (${sim.budgets.map((b) => b.key).join(", ")}): the API server refuses to evict it (HTTP 500, more than one PodDisruptionBudget) and drain does not retry`,
        };
    }
    if (sim.budgets.length === 0) {
        const workload = pacingHold(sim, drain, state);
        return workload ? { kind: "wait", workload } : EVICT;
    }
    const budget = sim.budgets[0];
    if (!sim.podReady && budget.unhealthyPodEvictable()) {
        const note = budget.alwaysAllowUnhealthy
            ? "not Ready; AlwaysAllow lets it go"
            : "not Ready; the budget is already met, so it goes without spending it";
        return { kind: "evict", budget, note };
    }
    if (budget.disruptionsAllowed > 0) return budget.evicts;
    return { kind: "wait", budget };
}

/** "the new pod replacing ns/x is Ready on w3", or "3 pods are Ready (…)". */
function readyPhrase(waitedFor: Recovery[]): string {
    if (waitedFor.length === 0) return "replacements are Ready";
    if (waitedFor.length === 1) return waitedFor[0].describe();
    const labels = waitedFor.slice(0, 3).map((r) => r.label());
    const more = waitedFor.length > 3 ? `, and ${waitedFor.length - 3} more` : "";
    return `${waitedFor.length} pods are Ready (${labels.join(", ")}${more})`;
}

/** A pod on hold: refused by its budget, or held by pacing, since its first try. */
interface Held {
    sim: SimPod;
    budget?: Budget;
    /** The budget's numbers when it first refused. */
    refusedAt?: BudgetReport;
    /** The workload's numbers when pacing first held the pod. */
    workload?: WorkloadNumbers;
    /** Pods that got Ready just before its last try, and count for its budget or workload: what let it go. */
    waitedFor: Recovery[];
}

function waitReason(h: Held): string {
    const which = readyPhrase(h.waitedFor);
    if (h.refusedAt) return `${budgetFigures(h.refusedAt, undefined)}: evictions serialise; it goes once ${which}`;
    return `${describeWorkloadWait(h.workload!)}: it goes once ${which}`;
}

/** The node's pods as the API lists them (listing-order.ts): the drain evicts in that order. */
function listed(pods: SimPod[]): SimPod[] {
    for (let i = 1; i < pods.length; i++) if (pods[i - 1].rank > pods[i].rank) return [...pods].sort((a, b) => a.rank - b.rank);
    return pods;
}

/** Plans the drain of one node and applies its evictions to the simulated cluster. */
export function planNodeDrain(state: RollState, node: string, drain: DrainOptions): NodeDrainPlan {
    const plan: NodeDrainPlan = { verdict: "ok", reasons: [], evict: [], skip: [], blocked: [], waits: [], budgets: [], warnings: [] };
    const onNode = listed(state.podsOn(node));
    // kubectl's filter chain (classifyPod from drain/filters), decided per pod when the snapshot was read
    // (SimPod.verdict), grouped the way kubectl prints it.
    const evictable: SimPod[] = [];
    const stays: SimPod[] = [];
    const warnings: { message: string; pod: string }[] = [];
    const errors: { message: string; pod: string }[] = [];
    for (const sim of onNode) {
        const verdict = sim.verdict;
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

    const evictNow = (sim: SimPod, h: Held | undefined, outcome: Extract<Outcome, { kind: "evict" }>) => {
        const waits = h !== undefined;
        if (h) {
            const reason = waitReason(h);
            const waiting: WaitingPod = { pod: sim.key, reason };
            if (h.refusedAt) waiting.budget = h.refusedAt;
            if (h.workload) waiting.workload = h.workload;
            plan.waits.push(waiting);
            plan.reasons.push(`${podRef(sim)} waits: ${reason}`);
        }
        // What the plan shows of the pod is read first: its object becomes the replacement.
        const pod = sim.key;
        const owner = sim.owner;
        const replaces = sim.replaces;
        const requests = sim.requests;
        const budget = outcome.budget?.key;
        const placed = state.evict(sim);
        // The usual fields go in one literal: 450,000 evictions then take one compact object shape.
        let eviction: PlannedEviction;
        if (placed === undefined) eviction = budget === undefined ? { pod, owner, waits } : { pod, owner, waits, budget };
        else {
            const replacementNode = placed || null;
            eviction = budget === undefined ? { pod, owner, waits, replacementNode } : { pod, owner, waits, budget, replacementNode };
            capacity.replacements++;
            capacity.requested.cpuMillis += requests.cpuMillis;
            capacity.requested.memoryBytes += requests.memoryBytes;
            if (!placed) capacity.unplaced.push({ pod, reason: state.unplacedReason.get(sim) ?? "no room" });
        }
        if (replaces !== undefined) eviction.replaces = replaces;
        if (outcome.note) eviction.note = outcome.note;
        plan.evict.push(eviction);
    };
    const block = (sim: SimPod, blocked: BlockedPod) => {
        plan.blocked.push(blocked);
        plan.reasons.push(`${podRef(sim)}: ${blocked.reason}`);
        stays.push(sim);
    };
    /** A held pod that nothing will release: the drain waits until its timeout. */
    const blockHeld = (h: Held) => {
        const sim = h.sim;
        if (h.budget) {
            const numbers = h.budget.report();
            const would = sim.healthy ? numbers.currentHealthy - 1 : undefined;
            block(sim, {
                pod: sim.key,
                cause: "budget",
                budget: numbers,
                reason: `${budgetFigures(numbers, would)}: ${whyNoRecovery(sim, h.budget, state)}; ${timeoutPhrase(drain)}`,
            });
        } else {
            const numbers = pacingHold(sim, drain, state) ?? h.workload!;
            block(sim, {
                pod: sim.key,
                cause: "workload",
                workload: numbers,
                reason: `${describeWorkloadWait(numbers)}: ${whyNotReady(sim, numbers, state)}; ${timeoutPhrase(drain)}`,
            });
        }
    };

    // Round after round, every pod that may go goes; the others are held for the next round.
    let held: Held[] = [];
    const attempt = (sim: SimPod, h: Held | undefined) => {
        const outcome = decide(sim, drain, state);
        if (outcome.kind === "evict") evictNow(sim, h, outcome);
        else if (outcome.kind === "blocked") block(sim, { pod: sim.key, reason: outcome.reason, cause: "budget" });
        else {
            h ??= { sim, waitedFor: [] };
            if (outcome.budget) {
                h.budget = outcome.budget;
                h.refusedAt ??= outcome.budget.report();
            }
            if (outcome.workload) h.workload ??= outcome.workload;
            held.push(h);
        }
    };
    for (const sim of evictable) attempt(sim, undefined);
    while (held.length > 0) {
        // Time passes: the replacements (and starting pods) the held pods count on get Ready, and they try again.
        const budgets = new Set<Budget>();
        const controllers = new Set<ControllerState>();
        for (const h of held) {
            if (h.budget) budgets.add(h.budget);
            else if (h.sim.controller) controllers.add(h.sim.controller);
        }
        const recovered = state.recoverFor(budgets, controllers);
        if (recovered.length === 0) {
            for (const h of held) blockHeld(h);
            break;
        }
        const round = held;
        held = [];
        for (const h of round) {
            const mine = recovered.filter((r) => (h.budget ? r.budgets.includes(h.budget) : r.controller === h.sim.controller));
            if (mine.length > 0) h.waitedFor = mine;
            attempt(h.sim, h);
        }
    }
    state.setPodsOn(node, stays);

    capacity.ok = capacity.unplaced.length === 0;
    plan.capacity = capacity;
    if (!capacity.ok) {
        const names = capacity.unplaced
            .slice(0, 5)
            .map((u) => `${u.pod} (${u.reason})`)
            .join(", ");
        const more = capacity.unplaced.length > 5 ? ` and ${capacity.unplaced.length - 5} more` : "";
        plan.warnings.push(
            `capacity: ${capacity.unplaced.length} of ${capacity.replacements} replacements fit on no schedulable node and stay Pending until a drained node returns: ${names}${more}`,
        );
    }
    plan.verdict = plan.blocked.length > 0 ? "blocked" : plan.waits.length > 0 ? "waits" : "ok";
    return plan;
}

/** A permissive drain: what would leave the node once whatever blocked it is resolved. */
const UNBLOCKED_DRAIN: DrainOptions = { force: true, ignoreDaemonSets: true, deleteEmptyDirData: true };

/**
 * The node as if what blocked it had been resolved: every pod that a drain takes leaves, without waiting on a
 * budget or on pacing, and controllers replace them. DaemonSet and mirror pods stay, as in any drain.
 */
export function assumeDrained(state: RollState, node: string, podSelector?: CompiledSelector): void {
    const filterContext = { now: state.now, daemonSetExists: (ns: string, name: string) => state.workloads.daemonSetExists(ns, name) };
    const stays: SimPod[] = [];
    for (const sim of listed(state.podsOn(node))) {
        const selected = !podSelector || podSelector.matches(sim.pod.metadata?.labels);
        if (selected && classifyPod(sim.pod, UNBLOCKED_DRAIN, filterContext).action === "evict") state.evict(sim);
        else stays.push(sim);
    }
    state.setPodsOn(node, stays);
}

/** "cpu 1500m, memory 3Gi" */
export function describeAmount(a: { cpuMillis: number; memoryBytes: number }): string {
    return `cpu ${formatCpu(a.cpuMillis)}, memory ${formatMemory(a.memoryBytes)}`;
}
