// Human-readable plan text: one block per node in roll order, then where the roll stops.
// formatNodePlan is also what the Pulumi component logs under each node in `pulumi preview`. A node after a
// blocked one says so in its header ("not reached (the roll stops at worker1); after worker1 is unblocked: ok"),
// then shows its plan like any other.
import { describeAmount } from "./plan-node";
import type { NodePlan, PlannedEviction, RollPlan } from "./types";

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

function unique(items: string[]): string[] {
    return [...new Set(items)];
}

/** "worker1", "worker1 and worker3", "w1, w3 and w5", "w1 and 41 other blocked nodes" */
function names(items: string[]): string {
    if (items.length <= 1) return items.join("");
    if (items.length > 3) return `${items[0]} and ${items.length - 1} other blocked nodes`;
    return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function verdictText(plan: NodePlan): string {
    switch (plan.verdict) {
        case "ok":
            return "ok";
        case "waits": {
            const budgets = unique(plan.waits.flatMap((w) => (w.budget ? [w.budget.key] : [])));
            const workloads = unique(plan.waits.flatMap((w) => (w.workload ? [`${w.workload.namespace}/${w.workload.name}`] : [])));
            const paced = plan.waits.find((w) => w.workload)?.workload;
            const parts: string[] = [];
            if (budgets.length > 0) parts.push(`waits on PodDisruptionBudget ${budgets.join(", ")}`);
            if (workloads.length > 0)
                parts.push(`waits for Ready replacements of ${list(workloads, 3)} (maxUnavailablePerWorkload ${paced!.maxUnavailable})`);
            return parts.join("; ");
        }
        case "blocked":
            return "BLOCKED";
        case "skip":
            return `skip: ${plan.reasons.join("; ")}`;
    }
}

function header(plan: NodePlan): string {
    const role = plan.controlPlane ? " (control plane)" : "";
    const from = plan.version.from ?? "unknown version";
    const versions = plan.version.to && plan.verdict !== "skip" ? ` ${from} -> ${plan.version.to}` : ` ${from}`;
    const assumed = plan.assumesUnblocked;
    const verdict = assumed
        ? `not reached (the roll stops at ${assumed[0]}); after ${names(assumed)} ${assumed.length === 1 ? "is" : "are"} unblocked: ${verdictText(plan)}`
        : verdictText(plan);
    return `[${plan.position}/${plan.total}] ${plan.node}${role}${versions}: ${verdict}`;
}

function waitNote(e: PlannedEviction): string {
    return e.waits ? (e.budget ? `waits on ${e.budget}` : "waits for a Ready replacement") : "";
}

/**
 * Evicted pods by name, with their notes; pods created during the roll have no name yet, so they are counted
 * per workload after them: "3 new default/http-go pods (1 waits on default/http-go-pdb)".
 */
function evictedPods(evict: PlannedEviction[]): string[] {
    const named: string[] = [];
    const created = new Map<string, { n: number; waits: Map<string, number> }>();
    for (const e of evict) {
        if (e.replaces === undefined || e.pod === e.replaces) {
            const notes = [waitNote(e), e.note ?? ""].filter(Boolean);
            named.push(notes.length ? `${e.pod} (${notes.join("; ")})` : e.pod);
            continue;
        }
        const workload = e.owner.slice(e.owner.indexOf(" ") + 1);
        let group = created.get(workload);
        if (!group) created.set(workload, (group = { n: 0, waits: new Map() }));
        group.n++;
        const note = waitNote(e);
        if (note) group.waits.set(note, (group.waits.get(note) ?? 0) + 1);
    }
    const groups = [...created].map(([workload, g]) => {
        const waits = [...g.waits].map(([note, n]) => `${n} ${note.replace(/^waits/, n === 1 ? "waits" : "wait")}`);
        return `${g.n} new ${workload} pod${g.n === 1 ? "" : "s"}${waits.length ? ` (${waits.join("; ")})` : ""}`;
    });
    return [...named, ...groups];
}

/** One node's block: header line, then indented details. */
export function formatNodePlan(plan: NodePlan): string {
    const lines = [header(plan)];
    if (plan.verdict === "skip") return lines.join("\n");
    const reasons = plan.reasons.slice(0, MAX_LISTED);
    for (const r of reasons) lines.push(`${INDENT}${r}`);
    if (plan.reasons.length > reasons.length) lines.push(`${INDENT}... and ${plan.reasons.length - reasons.length} more`);
    if (plan.evict.length > 0) lines.push(`${INDENT}evict ${plural(plan.evict.length, "pod")}: ${list(evictedPods(plan.evict))}`);
    if (plan.skip.length > 0) {
        lines.push(
            `${INDENT}skip ${plural(plan.skip.length, "pod")}: ${list(plan.skip.map((s) => (s.reason ? `${s.pod} (${s.reason})` : s.pod)))}`,
        );
    }
    const filterBlocked = plan.blocked.filter((b) => b.cause === "filter");
    if (filterBlocked.length > 0) {
        lines.push(
            `${INDENT}nothing is evicted on this node while ${plural(filterBlocked.length, "pod")} block${filterBlocked.length === 1 ? "s" : ""} the drain`,
        );
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
    for (const node of plan.nodes) lines.push(formatNodePlan(node));
    if (plan.stopsAt) {
        const rest = plan.notReached.length > 0 ? ` Not reached: ${list(plan.notReached, 20)}.` : "";
        lines.push(`Roll stops at ${plan.stopsAt}.${rest}`);
        const later = plan.nodes.filter((n) => n.assumesUnblocked);
        if (later.length > 0) {
            const of = (v: NodePlan["verdict"]) => later.filter((n) => n.verdict === v);
            const blocked = of("blocked").map((n) => n.node);
            const parts = [`${of("ok").length} ok`];
            if (of("waits").length) parts.push(`${of("waits").length} wait`);
            if (blocked.length) parts.push(`${blocked.length} more BLOCKED (${list(blocked, 20)})`);
            lines.push(`The nodes after it, planned as if the blocked nodes were unblocked: ${parts.join(", ")}.`);
        }
    } else {
        const parts = [`${plan.counts.ok} ok`];
        if (plan.counts.waits) parts.push(`${plan.counts.waits} wait`);
        if (plan.counts.skip) parts.push(`${plan.counts.skip} skipped`);
        lines.push(`Roll completes: ${parts.join(", ")}; ${plural(plan.counts.evictions, "eviction")}.`);
    }
    return lines.join("\n");
}
