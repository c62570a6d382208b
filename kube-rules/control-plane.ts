// Which nodes are control-plane nodes. kubeadm labels them node-role.kubernetes.io/control-plane since 1.20 and
// node-role.kubernetes.io/master before (1.20-1.23 set both); older clusters and upgraded ones may carry only
// the old label. Every part of the product asks this one function.
import type { V1Node } from "@kubernetes/client-node";

export const CONTROL_PLANE_LABELS = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"] as const;

/** A label selector for "every worker" that is right on both kinds of cluster. */
export const WORKERS_SELECTOR = CONTROL_PLANE_LABELS.map((l) => `!${l}`).join(",");

export function isControlPlaneLabels(labels: Record<string, string> | undefined): boolean {
    return CONTROL_PLANE_LABELS.some((l) => labels !== undefined && l in labels);
}

export function isControlPlane(node: V1Node): boolean {
    return isControlPlaneLabels(node.metadata?.labels);
}
