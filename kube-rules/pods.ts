// Facts about one pod that every part of the product reads the same way (drain filters, pacing, planner).
import type { V1ObjectMeta, V1OwnerReference, V1Pod } from "@kubernetes/client-node";

/** "Healthy" in the eviction/disruption sense: a Ready=True condition. */
export function isPodReady(pod: V1Pod): boolean {
    return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * The owner reference with controller=true (the API server allows at most one), as kubectl's filters read it
 * (metav1.GetControllerOf: the first). Any object: the planner also reads a ReplicaSet's Deployment this way.
 */
export function controllerOf(obj: { metadata?: V1ObjectMeta }): V1OwnerReference | undefined {
    return (obj.metadata?.ownerReferences ?? []).find((ref) => ref.controller === true);
}

/** Succeeded or Failed: the server deletes such pods at once and no budget applies. */
export function isFinished(pod: V1Pod): boolean {
    const phase = pod.status?.phase;
    return phase === "Succeeded" || phase === "Failed";
}

/** "namespace/name", the key pods are reported and tracked by. */
export function podKey(pod: V1Pod): string {
    return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}
