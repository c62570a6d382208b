// Which nodes the roll touches, in which order, and in which batches.
// Control-plane nodes come first (a kubelet must never be newer than the control plane) and never
// share a batch with workers; each group keeps the order it was given, or name order.
import type { V1Node } from "@kubernetes/client-node";
import { parseSelectorText } from "./label-selector";
import { displayVersion, rollBatches, targetVersionProblem, isControlPlane, CORDONED_BY_ANNOTATION } from "../kube-rules";
import { PlanInputError, type ClusterSnapshot, type RollSpec } from "./types";

export interface OrderedNode {
    node: V1Node;
    name: string;
    controlPlane: boolean;
    kubeletVersion?: string;
    /** Set when the node is left alone ("already at v1.30.2"). */
    skipReason?: string;
    /** 1-based; 0 when skipped. */
    batch: number;
}

export function nodeName(node: V1Node): string {
    return node.metadata?.name ?? "";
}

/** Picks the nodes named by the spec; throws PlanInputError for a spec that names nothing or unknown nodes. */
function selectNodes(snapshot: ClusterSnapshot, roll: RollSpec): V1Node[] {
    const ways = [roll.nodes && roll.nodes.length > 0, !!roll.selector, !!roll.all].filter(Boolean).length;
    if (ways === 0) throw new PlanInputError("name the nodes to roll, or give a --selector, or --all");
    if (ways > 1) throw new PlanInputError("give only one of: node names, a --selector, --all");
    const byName = new Map(snapshot.nodes.map((n) => [nodeName(n), n]));
    if (roll.nodes && roll.nodes.length > 0) {
        const missing = roll.nodes.filter((n) => !byName.has(n));
        if (missing.length > 0) throw new PlanInputError(missing.map((n) => `nodes "${n}" not found`).join("; "));
        return [...new Set(roll.nodes)].map((n) => byName.get(n)!);
    }
    const sorted = [...snapshot.nodes].sort((a, b) => (nodeName(a) < nodeName(b) ? -1 : nodeName(a) > nodeName(b) ? 1 : 0));
    if (roll.all) return sorted;
    const selector = parseSelectorText(roll.selector!, "--selector");
    const picked = sorted.filter((n) => selector.matches(n.metadata?.labels));
    if (picked.length === 0) throw new PlanInputError(`no nodes match --selector=${roll.selector}`);
    return picked;
}

/**
 * The nodes of the roll in roll order, each with its batch: the batches come from kube-rules' rollBatches, the
 * function RollingNodeUpgrade uses for `pulumi up`, so the plan's batches are the ones `up` runs. Nodes that need
 * nothing (already at the target, not cordoned by node-upgrade) come last, skipped.
 */
export function rollOrder(snapshot: ClusterSnapshot, roll: RollSpec): OrderedNode[] {
    const batchSize = roll.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1)
        throw new PlanInputError(`batch size must be a positive integer, got ${roll.batchSize}`);
    if (roll.targetVersion !== undefined) {
        const problem = targetVersionProblem(roll.targetVersion);
        if (problem) throw new PlanInputError(problem);
    }
    const selected = selectNodes(snapshot, roll).map((node): OrderedNode => ({
        node,
        name: nodeName(node),
        controlPlane: isControlPlane(node),
        kubeletVersion: node.status?.nodeInfo?.kubeletVersion,
        batch: 0,
    }));
    const { batches, skipped } = rollBatches(
        selected.map((n) => ({
            name: n.name,
            controlPlane: n.controlPlane,
            kubeletVersion: n.kubeletVersion,
            cordonedByUs: CORDONED_BY_ANNOTATION in (n.node.metadata?.annotations ?? {}),
        })),
        {
            maxUnavailable: batchSize,
            controlPlaneFirst: roll.controlPlaneFirst ?? true,
            targetVersion: roll.targetVersion,
            skipNodesAtTarget: roll.skipNodesAtTarget ?? true,
        },
    );
    const byName = new Map(selected.map((n) => [n.name, n]));
    const ordered: OrderedNode[] = [];
    batches.forEach((names, i) => names.forEach((name) => ordered.push({ ...byName.get(name)!, batch: i + 1 })));
    for (const s of skipped) ordered.push({ ...byName.get(s.name)!, skipReason: `already at ${displayVersion(roll.targetVersion)}` });
    return ordered;
}
