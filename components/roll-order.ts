// The order of a roll: control-plane nodes first, one at a time (never two control-plane nodes down, never
// together with workers), then workers in batches of maxUnavailable. Pure functions, no I/O.

export interface RollNode {
    name: string;
    controlPlane: boolean;
}

export interface RollOrderOptions {
    /** Workers upgraded at once. */
    maxUnavailable: number;
    /** Control-plane nodes first and alone in their batch (default true). */
    controlPlaneFirst?: boolean;
    /** "declared": keep the given order (within each group); "name": sort by name. */
    order: "declared" | "name";
}

/** Batches of node names, in roll order. Duplicate names are dropped. */
export function rollBatches(nodes: RollNode[], opts: RollOrderOptions): string[][] {
    const seen = new Set<string>();
    let list = nodes.filter((n) => !seen.has(n.name) && seen.add(n.name));
    if (opts.order === "name") list = [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chunk = (names: string[], size: number) => {
        const out: string[][] = [];
        for (let i = 0; i < names.length; i += size) out.push(names.slice(i, i + size));
        return out;
    };
    if (opts.controlPlaneFirst === false) return chunk(list.map((n) => n.name), opts.maxUnavailable);
    const controlPlane = list.filter((n) => n.controlPlane).map((n) => n.name);
    const workers = list.filter((n) => !n.controlPlane).map((n) => n.name);
    return [...chunk(controlPlane, 1), ...chunk(workers, opts.maxUnavailable)];
}

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
    return `refusing to roll: maxUnavailable ${b.maxUnavailable} would take down up to ${b.maxUnavailable} nodes at once, ` +
        `but at most ${allowed} may be down at once (${why.join("; ")}). Lower maxUnavailable or raise the limit.`;
}
