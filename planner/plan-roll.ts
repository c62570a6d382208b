// planRoll: walks the roll batch by batch over a simulated copy of the cluster and says, per node,
// what its drain and upgrade would do. Pure: the snapshot is read, never changed, and nothing is sent.
//
// Per batch: its nodes are cordoned, each is checked against the version-skew rules and then drained
// in the simulation (evictions spend budgets, replacements land where the scheduler would put them); then the
// batch's nodes come back and every replacement placed so far is taken to be Ready before the next batch
// (an upgrade and a reboot take minutes).
//
// The roll stops at the first blocked node, but the plan does not: a maintenance window needs every problem
// at once. A blocked node is taken as unblocked at the end of its batch (its pods leave and are replaced, its
// upgrade is done), and every later node is planned on that cluster and marked with the blocked nodes it
// assumes unblocked. The plan's verdict stays "blocked" and stopsAt names the first one.
import { displayVersion, type CompiledSelector } from "../kube-rules";
import { apiServerVersions } from "./api-server-version";
import { parseSelectorText } from "./label-selector";
import { assumeDrained, planNodeDrain } from "./plan-node";
import { rollOrder, type OrderedNode } from "./roll-order";
import { RollState } from "./roll-state";
import { VersionTracker } from "./version-tracker";
import type { ClusterSnapshot, DrainOptions, NodePlan, RollPlan, RollSpec } from "./types";

function emptyNodePlan(n: OrderedNode, position: number, total: number, verdict: NodePlan["verdict"], target?: string): NodePlan {
    // Optional fields are left out rather than set to undefined, so the plan reads the same after JSON.
    const version: NodePlan["version"] = { problems: [] };
    const from = displayVersion(n.kubeletVersion);
    if (from) version.from = from;
    if (target) version.to = target;
    return {
        node: n.name,
        position,
        total,
        batch: n.batch,
        controlPlane: n.controlPlane,
        verdict,
        reasons: verdict === "skip" && n.skipReason ? [n.skipReason] : [],
        evict: [],
        skip: [],
        blocked: [],
        waits: [],
        budgets: [],
        version,
        warnings: [],
    };
}

interface BatchContext {
    state: RollState;
    versions: VersionTracker;
    target?: string;
    drain: DrainOptions;
    podSelector?: CompiledSelector;
}

/** Plans one batch: version checks, then the drain of each node, in the simulated cluster. */
function planBatch(members: { n: OrderedNode; position: number }[], total: number, ctx: BatchContext): NodePlan[] {
    const names = members.map((m) => m.n.name);
    const inBatch = new Set(names);
    ctx.state.cordon(names);
    const plans = members.map(({ n, position }) => {
        const plan = emptyNodePlan(n, position, total, "ok", ctx.target);
        if (ctx.target) plan.version.problems = ctx.versions.check(n.name, n.controlPlane, ctx.target, inBatch);
        if (plan.version.problems.length > 0) {
            // The upgrade must not start, so the node is not drained either.
            plan.verdict = "blocked";
            plan.reasons.push(...plan.version.problems);
        } else {
            Object.assign(plan, planNodeDrain(ctx.state, n.name, ctx.drain));
        }
        if (!ctx.state.wasSchedulable(n.name)) {
            plan.warnings.push(
                n.node.spec?.unschedulable
                    ? "was cordoned before the roll: planned as staying cordoned (it takes no replacement pods)"
                    : "is not Ready: it takes no replacement pods",
            );
        }
        return plan;
    });
    markBudgetRaces(plans);
    // The rest of the roll is planned as if the blocked nodes had been unblocked: their pods leave now.
    for (const p of plans) if (p.verdict === "blocked") assumeDrained(ctx.state, p.node, ctx.podSelector);
    ctx.state.finishBatch(names);
    if (ctx.target) for (const p of plans) ctx.versions.upgraded(p.node, ctx.target);
    return plans;
}

const SEVERITY: Record<NodePlan["verdict"], number> = { skip: -1, ok: 0, waits: 1, blocked: 2 };

/**
 * The nodes of a batch drain at once, while this plan drains them one after the other. When they spend the
 * same budget and it cannot serve them all at once (one of them waits on it or is blocked by it), which node
 * the budget serves first is a race, so each of them gets the worst verdict among them, and says why.
 */
function markBudgetRaces(plans: NodePlan[]): void {
    if (plans.length < 2) return;
    const users = new Map<string, NodePlan[]>();
    for (const p of plans) {
        const keys = new Set([
            ...p.budgets.map((b) => b.key),
            ...p.blocked.flatMap((b) => (b.budget ? [b.budget.key] : [])),
            ...p.waits.flatMap((w) => (w.budget ? [w.budget.key] : [])),
        ]);
        for (const key of keys) users.set(key, [...(users.get(key) ?? []), p]);
    }
    for (const [key, sharing] of users) {
        if (sharing.length < 2) continue;
        const blockedBy = (p: NodePlan) => p.blocked.some((b) => b.budget?.key === key);
        const waitsOn = (p: NodePlan) => p.waits.some((w) => w.budget?.key === key);
        if (!sharing.some((p) => blockedBy(p) || waitsOn(p))) continue;
        // The race is for this budget only: its worst outcome is what this budget does, not another cause.
        const worst: NodePlan["verdict"] = sharing.some(blockedBy) ? "blocked" : "waits";
        for (const p of sharing) {
            const raised = SEVERITY[worst] > SEVERITY[p.verdict];
            if (!raised && !blockedBy(p) && !waitsOn(p)) continue;
            if (raised) p.verdict = worst;
            const others = sharing
                .filter((o) => o !== p)
                .map((o) => o.node)
                .join(", ");
            p.reasons.push(
                `${worst} (batch race): shares PodDisruptionBudget ${key} with ${others} in the same batch; ` +
                    `they drain at once and which of them the budget serves first is a race`,
            );
        }
    }
}

export function planRoll(snapshot: ClusterSnapshot, roll: RollSpec): RollPlan {
    const order = rollOrder(snapshot, roll);
    const target = roll.targetVersion ? displayVersion(roll.targetVersion) : undefined;
    const apiServer = apiServerVersions(snapshot);
    const podSelector = roll.drain.podSelector ? parseSelectorText(roll.drain.podSelector, "--pod-selector") : undefined;
    const ctx: BatchContext = {
        state: new RollState(snapshot, roll.drain, podSelector),
        versions: new VersionTracker(snapshot.nodes, apiServer),
        target,
        drain: roll.drain,
        podSelector,
    };
    const startApiServer = ctx.versions.apiServerVersion();
    const warnings = ctx.versions.warnings(target);
    const total = order.length;

    // Batches in roll order; nodes already at the target belong to none and are listed as skipped.
    const plans: NodePlan[] = new Array(total);
    const batches = new Map<number, { n: OrderedNode; position: number }[]>();
    order.forEach((n, index) => {
        if (n.skipReason) plans[index] = emptyNodePlan(n, index + 1, total, "skip", target);
        else {
            const members = batches.get(n.batch);
            if (members) members.push({ n, position: index + 1 });
            else batches.set(n.batch, [{ n, position: index + 1 }]);
        }
    });

    const blockedSoFar: string[] = [];
    const notReached: string[] = [];
    for (const members of batches.values()) {
        const assumes = blockedSoFar.length > 0 ? [...blockedSoFar] : undefined;
        for (const plan of planBatch(members, total, ctx)) {
            plans[plan.position - 1] = plan;
            if (assumes) {
                plan.assumesUnblocked = assumes;
                notReached.push(plan.node);
            }
            if (plan.verdict === "blocked") blockedSoFar.push(plan.node);
        }
    }

    const counts = { nodes: total, ok: 0, waits: 0, blocked: 0, skip: 0, notReached: notReached.length, evictions: 0 };
    for (const p of plans) {
        counts[p.verdict]++;
        counts.evictions += p.evict.length;
    }
    const plan: RollPlan = {
        takenAt: ctx.state.now.toISOString(),
        batchSize: roll.batchSize ?? 1,
        controlPlaneFirst: roll.controlPlaneFirst ?? true,
        verdict: counts.blocked > 0 ? "blocked" : counts.waits > 0 ? "waits" : "ok",
        nodes: plans,
        notReached,
        warnings,
        counts,
    };
    if (target) plan.targetVersion = target;
    if (startApiServer) plan.apiServerVersion = startApiServer;
    if (apiServer.from) plan.apiServerVersionFrom = apiServer.from;
    if (blockedSoFar.length > 0) plan.stopsAt = blockedSoFar[0];
    return plan;
}
