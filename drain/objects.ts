// Small readers of Kubernetes objects shared by several drain files.
// Objects arrive two ways: typed from client-node (dates are Date) and raw from watches (dates are strings).
import type { V1Pod } from "@kubernetes/client-node";

/** Milliseconds since epoch of a Kubernetes timestamp in either form; NaN when absent. */
export function timeMillis(t: unknown): number {
    if (t === undefined || t === null) return NaN;
    return t instanceof Date ? t.getTime() : new Date(String(t)).getTime();
}

export function isoTime(t: unknown): string | undefined {
    const ms = timeMillis(t);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Why a pod that was told to go is still there, e.g. "waiting for termination (deletionTimestamp ..., finalizers [a])". */
export function describeTermination(pod: V1Pod | undefined): string {
    if (!pod) return "waiting for termination";
    const dts = isoTime(pod.metadata?.deletionTimestamp);
    const finalizers = pod.metadata?.finalizers ?? [];
    if (!dts) return "eviction accepted, waiting for the pod to be marked for deletion";
    const parts = [`deletionTimestamp ${dts}`];
    if (pod.metadata?.deletionGracePeriodSeconds !== undefined) parts.push(`grace ${pod.metadata.deletionGracePeriodSeconds}s`);
    parts.push(`finalizers [${finalizers.join(", ")}]`);
    return `waiting for termination (${parts.join(", ")})`;
}
