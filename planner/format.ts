// Human-readable plan text: one block per node in roll order, then where the roll stops.
// formatNodePlan is also what the Pulumi component logs under each node in `pulumi preview`.
import { describeAmount } from "./plan-node";
import type { NodePlan, RollPlan } from "./types";

const INDENT = "      ";
/** Long lists are cut here in text; the JSON output keeps everything. */
const MAX_LISTED = 10;

function list(items: string[], max = MAX_LISTED): string {
    if (items.length <= max) return items.join(", ");
    return `${items.slice(0, max).join(", ")}, ... and ${items.length - max} more`;
}

function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function verdictText(plan: NodePlan): string {
    switch (plan.verdict) {
        case "ok":
            return "ok";
        case "waits": {
            const budgets = [...new Set(plan.waits.map((w) => w.budget.key))];
            return `waits on PodDisruptionBudget ${budgets.join(", ")}`;
        }
        case "blocked":
            return "BLOCKED";
        case "skip":
            return `skip: ${plan.reasons.join("; ")}`;
        case "not-reached":
            return "not reached";
    }
}

function header(plan: NodePlan): string {
    const role = plan.controlPlane ? " (control plane)" : "";
    const from = plan.version.from ?? "unknown version";
    const versions = plan.version.to && plan.verdict !== "skip" ? ` ${from} -> ${plan.version.to}` : ` ${from}`;
    return `[${plan.position}/${plan.total}] ${plan.node}${role}${versions}: ${verdictText(plan)}`;
}

/** One node's block: header line, then indented details. */
export function formatNodePlan(plan: NodePlan): string {
    const lines = [header(plan)];
    if (plan.verdict === "skip" || plan.verdict === "not-reached") return lines.join("\n");
    const reasons = plan.reasons.slice(0, MAX_LISTED);
    for (const r of reasons) lines.push(`${INDENT}${r}`);
    if (plan.reasons.length > reasons.length) lines.push(`${INDENT}... and ${plan.reasons.length - reasons.length} more`);
    if (plan.evict.length > 0) {
        const names = plan.evict.map((e) => {
            const notes = [e.waits ? `waits on ${e.budget}` : "", e.note ?? ""].filter(Boolean);
            return notes.length ? `${e.pod} (${notes.join("; ")})` : e.pod;
        });
        lines.push(`${INDENT}evict ${plural(plan.evict.length, "pod")}: ${list(names)}`);
    }
    if (plan.skip.length > 0) {
        lines.push(`${INDENT}skip ${plural(plan.skip.length, "pod")}: ${list(plan.skip.map((s) => (s.reason ? `${s.pod} (${s.reason})` : s.pod)))}`);
    }
    const filterBlocked = plan.blocked.filter((b) => b.cause === "filter");
    if (filterBlocked.length > 0) {
        lines.push(`${INDENT}nothing is evicted on this node while ${plural(filterBlocked.length, "pod")} block${filterBlocked.length === 1 ? "s" : ""} the drain`);
    }
    const cap = plan.capacity;
    if (cap && cap.ok && cap.replacements > 0) {
        lines.push(
            `${INDENT}capacity: ${plural(cap.replacements, "replacement")} (${describeAmount(cap.requested)}) fit on ${plural(cap.schedulableNodes, "schedulable node")} (free ${describeAmount(cap.free)})`,
        );
    }
    for (const w of plan.warnings) lines.push(`${INDENT}warning: ${w}`);
    return lines.join("\n");
}

export function formatPlan(plan: RollPlan): string {
    const target = plan.targetVersion ? `target ${plan.targetVersion}` : "drain only, no target version";
    const order = plan.controlPlaneFirst ? " (control plane first)" : "";
    const lines = [`Roll plan: ${plural(plan.counts.nodes, "node")}, batches of ${plan.batchSize}, ${target}${order}`];
    for (const w of plan.warnings) lines.push(`warning: ${w}`);
    for (const node of plan.nodes) {
        if (node.verdict !== "not-reached") lines.push(formatNodePlan(node));
    }
    if (plan.stopsAt) {
        const rest = plan.notReached.length > 0 ? ` Not reached: ${list(plan.notReached, 20)}.` : "";
        lines.push(`Roll stops at ${plan.stopsAt}.${rest}`);
    } else {
        const parts = [`${plan.counts.ok} ok`];
        if (plan.counts.waits) parts.push(`${plan.counts.waits} wait on budgets`);
        if (plan.counts.skip) parts.push(`${plan.counts.skip} skipped`);
        lines.push(`Roll completes: ${parts.join(", ")}; ${plural(plan.counts.evictions, "eviction")}.`);
    }
    return lines.join("\n");
}
