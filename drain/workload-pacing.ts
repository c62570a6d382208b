// Workload-aware pacing (maxUnavailablePerWorkload), the pure part: which pods are paced, how many Ready
// replicas a workload has as far as this drain is concerned, and whether one more pod may go now.
//
// kubectl evicts every pod of a node at once. A workload without a PodDisruptionBudget then loses all its
// replicas on that node together (6 of http-go's 10 on the seed cluster's worker1). With N > 0 the drain
// keeps at most N pods of such a workload unavailable: it evicts a Ready pod only when, after the eviction,
// the workload would still have at least (desired replicas − N) Ready pods, counting every pod whose
// eviction this drain already started as unavailable (its replacement has to become Ready elsewhere first).
// Workloads covered by a PodDisruptionBudget are left to the budget, which the API server enforces.
// The I/O (controller reads, pod watches) is in workload-tracker.ts.
import type { V1LabelSelector, V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import { controllerOf, isPodReady } from "../kube-rules";
import type { WorkloadNumbers } from "./types";

export type PacedKind = "ReplicaSet" | "StatefulSet" | "ReplicationController";

/** The controller of a pod whose replicas are paced. */
export interface WorkloadRef {
    namespace: string;
    kind: PacedKind;
    name: string;
    uid: string;
}

/** "ReplicaSet default/http-go-568f649bb": one key per controller object. */
export function workloadKey(ref: WorkloadRef): string {
    return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

function group(apiVersion: string | undefined): string {
    const v = apiVersion ?? "";
    const i = v.indexOf("/");
    return i < 0 ? "" : v.slice(0, i);
}

/**
 * The paced controller of a pod: a ReplicaSet or StatefulSet (apps, or the old extensions group) or a
 * ReplicationController (core). DaemonSet pods, Jobs, bare pods and custom controllers are not paced:
 * their replicas are not "spec.replicas interchangeable pods" we could count.
 */
export function pacedWorkloadOf(pod: V1Pod): WorkloadRef | undefined {
    const ref: V1OwnerReference | undefined = controllerOf(pod);
    if (!ref?.uid || !ref.name) return undefined;
    const g = group(ref.apiVersion);
    let kind: PacedKind | undefined;
    if ((ref.kind === "ReplicaSet" || ref.kind === "StatefulSet") && (g === "apps" || g === "extensions")) kind = ref.kind;
    else if (ref.kind === "ReplicationController" && g === "") kind = "ReplicationController";
    if (!kind) return undefined;
    return { namespace: pod.metadata?.namespace ?? "default", kind, name: ref.name, uid: ref.uid };
}

/**
 * What users know the workload as: the Deployment that owns a ReplicaSet (from the ReplicaSet's controller
 * reference), otherwise the controller itself.
 */
export function displayWorkload(ref: WorkloadRef, controllerOwners: V1OwnerReference[] | undefined): { kind: string; name: string } {
    if (ref.kind === "ReplicaSet") {
        const owner = (controllerOwners ?? []).find((o) => o.controller === true);
        if (owner?.kind === "Deployment" && owner.name) return { kind: "Deployment", name: owner.name };
    }
    return { kind: ref.kind, name: ref.name };
}

/** Whether a pod counts as a Ready replica: Ready=True, not terminating, and not being evicted by this drain. */
export function countsAsReady(pod: V1Pod, evicting: ReadonlySet<string>): boolean {
    return !pod.metadata?.deletionTimestamp && !evicting.has(pod.metadata?.uid ?? "") && isPodReady(pod);
}

/** Ready replicas among the controller's pods (pods controlled by another object are ignored). */
export function readyReplicas(pods: Iterable<V1Pod>, controllerUid: string, evicting: ReadonlySet<string>): number {
    let n = 0;
    for (const p of pods) if (controllerOf(p)?.uid === controllerUid && countsAsReady(p, evicting)) n++;
    return n;
}

export interface PacingInput {
    /** maxUnavailablePerWorkload; 0 = off. */
    maxUnavailable: number;
    /** The controller's spec.replicas. */
    desiredReplicas: number;
    /** Ready replicas, not counting pods being evicted (readyReplicas()). */
    readyReplicas: number;
    /** Whether the pod to evict is itself one of those Ready replicas. */
    candidateReady: boolean;
}

export interface PacingDecision {
    allow: boolean;
    /** Ready replicas the workload needs (the candidate included) before the candidate may go. */
    requiredReady: number;
}

/**
 * May the candidate be evicted now? A pod that is not Ready costs no availability, so it always may; a Ready
 * one only when readyReplicas − 1 ≥ desiredReplicas − maxUnavailable, i.e. readyReplicas ≥ requiredReady.
 * A workload with desiredReplicas ≤ maxUnavailable therefore never waits.
 */
export function decideEviction(i: PacingInput): PacingDecision {
    const requiredReady = Math.max(1, i.desiredReplicas - i.maxUnavailable + 1);
    if (i.maxUnavailable <= 0 || !i.candidateReady) return { allow: true, requiredReady };
    return { allow: i.readyReplicas >= requiredReady, requiredReady };
}

/**
 * Whether a pod is paced. Off when maxUnavailable ≤ 0, in a server dry run (nothing really leaves, so no
 * replacement would ever come), for pods without a paced controller, and for pods a PodDisruptionBudget
 * covers, unless pods are deleted rather than evicted (then no budget is checked and pacing is all there is).
 */
export function isPaced(o: {
    maxUnavailable: number;
    dryRunServer: boolean;
    deleting: boolean;
    coveredByBudget: boolean;
    workload: WorkloadRef | undefined;
}): boolean {
    if (o.maxUnavailable <= 0 || o.dryRunServer || !o.workload) return false;
    return o.deleting || !o.coveredByBudget;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "waiting for default/http-go to have 10 Ready replicas (has 9; maxUnavailablePerWorkload 1)" */
export function describeWorkloadWait(n: WorkloadNumbers): string {
    return `waiting for ${n.namespace}/${n.name} to have ${plural(n.requiredReady, "Ready replica")} (has ${n.readyReplicas}; maxUnavailablePerWorkload ${n.maxUnavailable})`;
}

/**
 * A label selector object (or a ReplicationController's plain map) as the labelSelector query text, so that
 * the pod watch only carries the workload's pods. Undefined when there is nothing to filter on (the caller
 * then filters by controller UID alone).
 */
export function selectorQuery(selector: V1LabelSelector | Record<string, string> | undefined | null): string | undefined {
    if (!selector || typeof selector !== "object") return undefined;
    const isObjectForm = "matchLabels" in selector || "matchExpressions" in selector;
    const matchLabels: Record<string, string> = isObjectForm
        ? ((selector as V1LabelSelector).matchLabels ?? {})
        : (selector as Record<string, string>);
    const parts = Object.entries(matchLabels).map(([k, v]) => `${k}=${v}`);
    if (isObjectForm) {
        for (const e of (selector as V1LabelSelector).matchExpressions ?? []) {
            const values = [...(e.values ?? [])].join(",");
            switch (e.operator) {
                case "In":
                    parts.push(`${e.key} in (${values})`);
                    break;
                case "NotIn":
                    parts.push(`${e.key} notin (${values})`);
                    break;
                case "Exists":
                    parts.push(e.key);
                    break;
                case "DoesNotExist":
                    parts.push(`!${e.key}`);
                    break;
                default:
                    // Unknown operator: do not filter server-side; the UID filter still applies.
                    return undefined;
            }
        }
    }
    return parts.length > 0 ? parts.join(",") : undefined;
}
