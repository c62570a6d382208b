// The blast-radius guard of a roll. (The order and batches themselves come from kube-rules' rollBatches, shared
// with the planner.) Pure functions, no I/O.

export interface BlastRadius {
    maxUnavailable: number;
    /** Nodes in the cluster (the base of the percentage). */
    clusterNodes: number;
    maxNodesDownAtOnce?: number;
    maxNodesDownPercent?: number;
}

/** Nodes allowed down at once by the guard, or undefined when no guard is set. At least 1: a roll needs one. */
export function allowedDownAtOnce(b: BlastRadius): number | undefined {
    const limits: number[] = [];
    if (b.maxNodesDownAtOnce !== undefined) limits.push(b.maxNodesDownAtOnce);
    if (b.maxNodesDownPercent !== undefined) limits.push(Math.max(1, Math.floor((b.maxNodesDownPercent / 100) * b.clusterNodes)));
    return limits.length ? Math.min(...limits) : undefined;
}

/** Why the plan takes down too many nodes at once, or undefined when it is within the guard. */
export function blastRadiusProblem(b: BlastRadius): string | undefined {
    const allowed = allowedDownAtOnce(b);
    if (allowed === undefined || b.maxUnavailable <= allowed) return undefined;
    const why = [
        b.maxNodesDownAtOnce !== undefined ? `maxNodesDownAtOnce is ${b.maxNodesDownAtOnce}` : "",
        b.maxNodesDownPercent !== undefined
            ? `maxNodesDownPercent ${b.maxNodesDownPercent}% of ${b.clusterNodes} node${b.clusterNodes === 1 ? "" : "s"} allows ${Math.max(1, Math.floor((b.maxNodesDownPercent / 100) * b.clusterNodes))}`
            : "",
    ].filter(Boolean);
    return (
        `refusing to roll: maxUnavailable ${b.maxUnavailable} would take down up to ${b.maxUnavailable} nodes at once, ` +
        `but at most ${allowed} may be down at once (${why.join("; ")}). Lower maxUnavailable or raise the limit.`
    );
}
