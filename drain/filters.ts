// kubectl's pod filter chain (k8s.io/kubectl/pkg/drain/filters.go), pure.
// Order and messages follow kubectl: skipDeleted → daemonSet → mirrorPod → localStorage → unreplicated.
// The chain stops at the first filter that says "do not delete" (skip, warning-without-delete or error);
// the verdict of the last filter evaluated wins, so a later "okay" overwrites an earlier warning.
import type { V1Pod } from "@kubernetes/client-node";
import { controllerOf, isFinished, podKey } from "../kube-rules";
import type { DrainOptions, FilterContext, PodVerdict, ClassifiedPod, PodClassification } from "./types";

/** What one filter says about one pod. `delete:false` ends the chain. */
interface FilterStatus {
    delete: boolean;
    kind: "okay" | "skip" | "warning" | "error";
    message: string;
}

const okay: FilterStatus = { delete: true, kind: "okay", message: "" };
const skip = (message: string): FilterStatus => ({ delete: false, kind: "skip", message });
const warning = (del: boolean, message: string): FilterStatus => ({ delete: del, kind: "warning", message });
const error = (message: string): FilterStatus => ({ delete: false, kind: "error", message });

// Messages exactly as kubectl prints them (the "cannot delete " prefix is added when errors are aggregated).
export const MESSAGES = {
    daemonSet: "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
    daemonSetWarning: "ignoring DaemonSet-managed Pods",
    localStorage: "Pods with local storage (use --delete-emptydir-data to override)",
    localStorageWarning: "deleting Pods with local storage",
    unmanaged: "Pods that declare no controller (use --force to override)",
    unmanagedWarning: "deleting Pods that declare no controller",
} as const;

type PodFilter = (pod: V1Pod, options: DrainOptions, ctx: FilterContext) => FilterStatus;

function timestampMillis(t: unknown): number {
    return t instanceof Date ? t.getTime() : new Date(String(t)).getTime();
}

/** True when the pod's deletionTimestamp is more than N whole seconds old (kubectl's skip-wait rule). */
export function deletionOlderThan(pod: V1Pod, seconds: number | undefined, now: Date): boolean {
    const ts = pod.metadata?.deletionTimestamp;
    if (!seconds || seconds <= 0 || !ts) return false;
    return Math.floor((now.getTime() - timestampMillis(ts)) / 1000) > seconds;
}

const skipDeleted: PodFilter = (pod, options, ctx) =>
    deletionOlderThan(pod, options.skipWaitForDeleteTimeoutSeconds, ctx.now)
        ? skip(`deletionTimestamp older than ${options.skipWaitForDeleteTimeoutSeconds} seconds`)
        : okay;

const daemonSet: PodFilter = (pod, options, ctx) => {
    const owner = controllerOf(pod);
    // Since kubectl 1.34 only apps/v1 DaemonSets count; other groups' "DaemonSets" are ordinary controllers.
    if (!owner || owner.kind !== "DaemonSet" || owner.apiVersion !== "apps/v1") return okay;
    if (isFinished(pod)) return okay;
    const namespace = pod.metadata?.namespace ?? "default";
    if (!ctx.daemonSetExists(namespace, owner.name)) {
        const notFound = `daemonsets.apps "${owner.name}" not found`;
        return options.force ? warning(true, notFound) : error(notFound);
    }
    return options.ignoreDaemonSets ? warning(false, MESSAGES.daemonSetWarning) : error(MESSAGES.daemonSet);
};

const mirrorPod: PodFilter = (pod) =>
    pod.metadata?.annotations?.["kubernetes.io/config.mirror"] !== undefined
        ? skip("mirror pod (static pod managed by the kubelet)")
        : okay;

const localStorage: PodFilter = (pod, options) => {
    const hasEmptyDir = (pod.spec?.volumes ?? []).some((v) => v.emptyDir != null);
    if (!hasEmptyDir || isFinished(pod)) return okay;
    return options.deleteEmptyDirData ? warning(true, MESSAGES.localStorageWarning) : error(MESSAGES.localStorage);
};

const unreplicated: PodFilter = (pod, options) => {
    if (isFinished(pod) || controllerOf(pod)) return okay;
    return options.force ? warning(true, MESSAGES.unmanagedWarning) : error(MESSAGES.unmanaged);
};

export const FILTER_CHAIN: readonly PodFilter[] = [skipDeleted, daemonSet, mirrorPod, localStorage, unreplicated];

/** Runs kubectl's filter chain on one pod. */
export function classifyPod(pod: V1Pod, options: DrainOptions, ctx: FilterContext): PodVerdict {
    let status = okay;
    for (const filter of FILTER_CHAIN) {
        status = filter(pod, options, ctx);
        if (!status.delete) break;
    }
    switch (status.kind) {
        case "okay":
            return { action: "evict" };
        case "skip":
            return { action: "skip", reason: status.message };
        case "error":
            return { action: "block", reason: `cannot delete ${status.message || "unexpected error"}` };
        case "warning":
            return status.delete
                ? { action: "evict", warning: status.message }
                : { action: "skip", reason: status.message, warning: status.message };
    }
}

/** Groups "msg: ns/a, ns/b" in order of first appearance (kubectl uses a Go map, so its order is random). */
function groupByMessage(items: { message: string; key: string }[]): string[] {
    const groups = new Map<string, string[]>();
    for (const { message, key } of items) {
        if (!groups.has(message)) groups.set(message, []);
        groups.get(message)!.push(key);
    }
    return [...groups].map(([message, keys]) => `${message}: ${keys.join(", ")}`);
}

/** Classifies every pod of a node. Pure: everything it needs is in its arguments. */
export function classifyPods(node: string, pods: V1Pod[], options: DrainOptions, ctx: FilterContext): PodClassification {
    const result: PodClassification = { node, evict: [], skip: [], blocked: [], warnings: [], errors: [] };
    const warnings: { message: string; key: string }[] = [];
    for (const pod of pods) {
        const verdict = classifyPod(pod, options, ctx);
        const entry: ClassifiedPod = { pod, key: podKey(pod), verdict };
        if (verdict.action === "evict") result.evict.push(entry);
        else if (verdict.action === "skip") result.skip.push(entry);
        else result.blocked.push(entry);
        if (verdict.action !== "block" && verdict.warning) warnings.push({ message: verdict.warning, key: entry.key });
    }
    result.warnings = groupByMessage(warnings);
    result.errors = groupByMessage(result.blocked.map((b) => ({ message: (b.verdict as { reason: string }).reason, key: b.key })));
    return result;
}
