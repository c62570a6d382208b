// The order and batches of a roll: the one function behind both `pulumi up` (RollingNodeUpgrade) and the plan
// (`pulumi preview`, `node-upgrade plan`), so what preview shows is what up runs. Pure.
//  - Nodes that need nothing (already at the target and not cordoned by node-upgrade) are in no batch: they
//    are listed as skipped (the components chain their no-op steps after the last batch).
//  - Control-plane nodes go one at a time and never share a batch with workers; with controlPlaneFirst (the
//    default) they come before every worker.
//  - Workers go in batches of maxUnavailable.
import { versionSatisfiesTarget } from "./version";

export interface RollCandidate {
    name: string;
    controlPlane: boolean;
    kubeletVersion?: string;
    /** Cordoned by node-upgrade (an unfinished chain): it needs the roll even at the target version. */
    cordonedByUs?: boolean;
}

export interface RollBatchOptions {
    /** Workers upgraded at once (≥ 1). */
    maxUnavailable: number;
    /** Control-plane nodes before every worker. Default true. */
    controlPlaneFirst?: boolean;
    /** "declared": the given order within each group; "name": name order. Default "declared". */
    order?: "declared" | "name";
    /** The target version: nodes already there are skipped (unless cordoned by node-upgrade). */
    targetVersion?: string;
    /** Skip nodes already at the target. Default true. */
    skipNodesAtTarget?: boolean;
}

export interface RollBatches {
    /** Node names per batch, in roll order. */
    batches: string[][];
    /** Nodes that need nothing, with why, in the order given. */
    skipped: { name: string; reason: string }[];
}

/** Whether a node needs its chain: not at the target, or left cordoned by an unfinished run. */
export function needsRoll(n: RollCandidate, targetVersion: string | undefined, skipNodesAtTarget = true): boolean {
    if (!skipNodesAtTarget || !targetVersion) return true;
    return !versionSatisfiesTarget(n.kubeletVersion, targetVersion) || !!n.cordonedByUs;
}

export function rollBatches(nodes: RollCandidate[], opts: RollBatchOptions): RollBatches {
    if (!Number.isInteger(opts.maxUnavailable) || opts.maxUnavailable < 1)
        throw new Error(`maxUnavailable must be a whole number of at least 1, got ${opts.maxUnavailable}`);
    const seen = new Set<string>();
    let list = nodes.filter((n) => !seen.has(n.name) && seen.add(n.name));
    if (opts.order === "name") list = [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const skipped: RollBatches["skipped"] = [];
    const rolled: RollCandidate[] = [];
    for (const n of list) {
        if (needsRoll(n, opts.targetVersion, opts.skipNodesAtTarget ?? true)) rolled.push(n);
        else skipped.push({ name: n.name, reason: `already at ${n.kubeletVersion}` });
    }
    const ordered =
        opts.controlPlaneFirst === false ? rolled : [...rolled.filter((n) => n.controlPlane), ...rolled.filter((n) => !n.controlPlane)];
    const batches: string[][] = [];
    let workers: string[] = [];
    const flush = () => {
        if (workers.length) batches.push(workers);
        workers = [];
    };
    for (const n of ordered) {
        if (n.controlPlane) {
            flush();
            batches.push([n.name]);
        } else {
            workers.push(n.name);
            if (workers.length === opts.maxUnavailable) flush();
        }
    }
    flush();
    return { batches, skipped };
}
