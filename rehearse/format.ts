// The rehearsal report as text: a table per node, a table per workload, the total and where the roll stops.
import type { NodeReport, RehearsalReport, WorkloadReport } from "./types";

/** "4.2s", "59.9s", "1m05s", "1h02m" (simulated seconds). */
export function formatSeconds(seconds: number | undefined): string {
    if (seconds === undefined) return "-";
    if (seconds < 60) return `${(Math.round(seconds * 10) / 10).toFixed(1)}s`;
    const total = Math.round(seconds);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s).padStart(2, "0")}s`;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(header), ...rows.map(line)].join("\n");
}

function waitedOn(n: NodeReport): string {
    if (n.waitedOn.length === 0) return "-";
    return n.waitedOn.map((w) => `${w.name} (${w.pods} pod${w.pods === 1 ? "" : "s"}, ${formatSeconds(w.spanSeconds)})`).join("; ");
}

function status(n: NodeReport): string {
    switch (n.status) {
        case "done":
            return "done";
        case "failed":
            return `STOPS (${n.failedStep})`;
        case "stopped":
            return `stopped before ${n.failedStep}`;
        default:
            return "not reached";
    }
}

function nodeTable(r: RehearsalReport): string {
    const rows = r.nodes.map((n) => [
        n.node,
        String(n.batch),
        n.startSeconds === undefined ? "-" : formatSeconds(n.startSeconds),
        formatSeconds(n.drainSeconds),
        formatSeconds(n.upgradeSeconds),
        formatSeconds(n.readySeconds),
        formatSeconds(n.totalSeconds),
        n.status === "notReached" ? "-" : String(n.evicted.length),
        n.planVerdict ?? "-",
        status(n),
        waitedOn(n),
    ]);
    return table(
        ["NODE", "BATCH", "START", "DRAIN", "UPGRADE", "READY", "TOTAL", "EVICTED", "PLAN", "STATUS", "WAITED ON"],
        rows,
        new Set([1, 2, 3, 4, 5, 6, 7]),
    );
}

const MAX_WORKLOAD_ROWS = 25;

function workloadTable(workloads: WorkloadReport[]): string {
    const shown = workloads.slice(0, MAX_WORKLOAD_ROWS);
    const rows = shown.map((w) => [
        `${w.kind} ${w.namespace}/${w.name}`,
        String(w.replicas),
        String(w.readyAtStart),
        String(w.minReady),
        w.budget ? `${w.budget.desiredHealthy} (${w.budget.name}, ${w.budget.rule})` : "-",
        w.marginOverBudget !== undefined
            ? w.marginOverBudget < 0
                ? `BROKEN (${w.marginOverBudget})`
                : `+${w.marginOverBudget}`
            : w.minReady === 0 && w.readyAtStart > 0
              ? "none Ready"
              : "-",
        formatSeconds(w.startupSeconds),
        formatSeconds(w.shutdownSeconds),
        w.minReadyDuring?.join(", ") || "-",
    ]);
    const text = table(
        ["WORKLOAD", "REPLICAS", "READY AT START", "MIN READY", "PDB MIN HEALTHY", "MARGIN", "STARTUP", "SHUTDOWN", "LOWEST DURING"],
        rows,
        new Set([1, 2, 3, 6, 7]),
    );
    const more = workloads.length - shown.length;
    return more > 0 ? `${text}\n… and ${more} more workload${more === 1 ? "" : "s"} with more margin (--json lists every one)` : text;
}

export function formatReport(r: RehearsalReport): string {
    const out: string[] = [];
    const s = r.simulation;
    out.push(
        `Rehearsal of the roll to ${r.targetVersion} on a simulated copy of the snapshot (${s.nodes} nodes, ${s.pods} pods): ` +
            `${r.nodes.length} node${r.nodes.length === 1 ? "" : "s"} in ${r.batches.length} batch${r.batches.length === 1 ? "" : "es"} of up to ${r.batchSize}, ` +
            `drain timeout ${formatSeconds(s.drainTimeoutSeconds)}, maxUnavailablePerWorkload ${s.maxUnavailablePerWorkload}.`,
    );
    if (r.skipped.length > 0) out.push(`Skipped: ${r.skipped.map((k) => `${k.node} (${k.reason})`).join(", ")}.`);
    out.push("", nodeTable(r));
    if (r.workloads.length > 0) out.push("", workloadTable(r.workloads));
    out.push("");
    if (r.stop) {
        out.push(
            `The roll would STOP at ${r.stop.node} (${r.stop.step}, ${formatSeconds(r.stop.atSeconds)} into the roll): ${r.stop.reason}`,
            `Predicted time until it stops: ${formatSeconds(r.totalSeconds)}.`,
        );
        const notReached = r.nodes.filter((n) => n.status === "notReached").map((n) => n.node);
        if (notReached.length > 0) out.push(`Not reached: ${notReached.join(", ")}.`);
    } else {
        out.push(`Predicted total: ${formatSeconds(r.totalSeconds)}. The roll completes.`);
    }
    for (const w of r.warnings) out.push(`Warning: ${w}`);
    out.push("", "Assumed:", ...r.assumptions.map((a) => `  - ${a}`));
    out.push(
        `Rehearsed in ${s.realSeconds.toFixed(1)}s of real time (${s.fastForward ? `${s.jumps} clock jumps over waits, time scale ${s.timeScale}` : `time scale ${s.timeScale}, no jumps`}).`,
    );
    return out.join("\n");
}
