// planRoll: walks the roll batch by batch over a simulated copy of the cluster and says, per node,
// what its drain and upgrade would do. Pure: the snapshot is read, never changed, and nothing is sent.
//
// Per batch: its nodes are cordoned, each is checked against the version-skew rules and then drained
// in the simulation (evictions spend budgets, replacements land on schedulable nodes); then the batch's
// nodes come back and every replacement placed so far is taken to be Ready before the next batch
// (an upgrade and a reboot take minutes). The roll stops after the first batch with a blocked node.
import { parseSelectorText, type CompiledSelector } from "./label-selector";
import { planNodeDrain } from "./plan-node";
import { rollOrder, type OrderedNode } from "./roll-order";
import { RollState } from "./roll-state";
import { VersionTracker } from "./version-tracker";
import { displayVersion } from "./version-skew";
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
            Object.assign(plan, planNodeDrain(ctx.state, n.name, ctx.drain, ctx.podSelector));
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
    ctx.state.finishBatch(names);
    if (ctx.target) for (const p of plans) if (p.verdict !== "blocked") ctx.versions.upgraded(p.node, ctx.target);
    return plans;
}

export function planRoll(snapshot: ClusterSnapshot, roll: RollSpec): RollPlan {
    const order = rollOrder(snapshot, roll);
    const target = roll.targetVersion ? displayVersion(roll.targetVersion) : undefined;
    const ctx: BatchContext = {
        state: new RollState(snapshot),
        versions: new VersionTracker(snapshot.nodes),
        target,
        drain: roll.drain,
        podSelector: roll.drain.podSelector ? parseSelectorText(roll.drain.podSelector, "--pod-selector") : undefined,
    };
    const startControlPlane = ctx.versions.controlPlaneVersion();
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

    let stopsAt: string | undefined;
    const notReached: string[] = [];
    for (const members of batches.values()) {
        if (stopsAt) {
            for (const { n, position } of members) {
                plans[position - 1] = emptyNodePlan(n, position, total, "not-reached", target);
                notReached.push(n.name);
            }
            continue;
        }
        for (const plan of planBatch(members, total, ctx)) {
            plans[plan.position - 1] = plan;
            if (plan.verdict === "blocked") stopsAt ??= plan.node;
        }
    }

    const count = (v: NodePlan["verdict"]) => plans.filter((p) => p.verdict === v).length;
    const counts = {
        nodes: total,
        ok: count("ok"),
        waits: count("waits"),
        blocked: count("blocked"),
        skip: count("skip"),
        notReached: count("not-reached"),
        evictions: plans.reduce((sum, p) => sum + p.evict.length, 0),
    };
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
    if (startControlPlane) plan.controlPlaneVersion = displayVersion(startControlPlane);
    if (stopsAt) plan.stopsAt = stopsAt;
    return plan;
}
