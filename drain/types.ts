// Shared vocabulary of the drain engine. Planner, CLI and Pulumi providers all speak these types,
// so they live in one small file with no I/O.
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { BudgetNumbers } from "../kube-rules";

/** Options of a drain, mirroring `kubectl drain` flags (names in comments). */
export interface DrainOptions {
    /** --force: also delete pods that declare no controller. */
    force?: boolean;
    /** --ignore-daemonsets: leave DaemonSet-managed pods in place instead of failing. */
    ignoreDaemonSets?: boolean;
    /** --delete-emptydir-data: allow evicting pods that use emptyDir volumes. */
    deleteEmptyDirData?: boolean;
    /** --grace-period: seconds each pod gets to stop; negative means the pod's own setting. Default -1. */
    gracePeriodSeconds?: number;
    /**
     * --timeout, per node. kubectl's default is 0 = forever; ours is finite (600 s) because a drain
     * that hangs forever on a PodDisruptionBudget is the top complaint against every tool. 0 still means forever.
     */
    timeoutSeconds?: number;
    /** --pod-selector: only pods matching this label selector are drained. */
    podSelector?: string;
    /** --disable-eviction: delete pods instead of evicting them (bypasses PodDisruptionBudgets). */
    disableEviction?: boolean;
    /** --skip-wait-for-delete-timeout: stop waiting for pods whose deletionTimestamp is older than N seconds. */
    skipWaitForDeleteTimeoutSeconds?: number;
    /** --chunk-size: page size of the pod listing; 0 disables paging. Default 500. */
    chunkSize?: number;
    /** --dry-run=server|client. */
    dryRun?: "none" | "client" | "server";
    /** At most this many evictions/deletes in flight (kubectl: unbounded). Default 50. */
    concurrency?: number;
    /**
     * Seconds between slow safety re-checks (a LIST of the node's pods, a refresh of blocking budgets) that
     * back up the watches in case one silently stalls. Default 5.
     */
    safetyRecheckSeconds?: number;
    /**
     * Workload-aware pacing (not in kubectl). 0 or undefined = off: every pod is evicted at once, as kubectl
     * does. N > 0: for pods of a ReplicaSet (reported as its Deployment), StatefulSet or ReplicationController
     * that no PodDisruptionBudget covers, at most N pods of that workload are unavailable at a time: a Ready
     * pod is evicted only when the workload would keep at least spec.replicas − N Ready pods, counting pods
     * this drain is already evicting as unavailable; so the next pod goes once a replacement is Ready
     * elsewhere. Workloads proceed independently. A workload whose replacements never become Ready holds the
     * drain until its timeout, and the DrainError says which workload it waited for.
     */
    maxUnavailablePerWorkload?: number;
}

export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;

/** What the pod filter chain decided for one pod. Mirrors kubectl's filter verdicts. */
export type PodVerdict =
    /** Evict (or delete) the pod. `warning` is kubectl's warning text when there is one. */
    | { action: "evict"; warning?: string }
    /** Leave the pod alone. `reason` says why (empty for kubectl's silent skips). */
    | { action: "skip"; reason: string; warning?: string }
    /** The pod prevents draining the node; nothing on the node is evicted. */
    | { action: "block"; reason: string };

export interface ClassifiedPod {
    pod: V1Pod;
    /** "namespace/name" */
    key: string;
    verdict: PodVerdict;
}

/** The pure result of classifying every pod on a node (no writes). */
export interface PodClassification {
    node: string;
    /** Pods that will be evicted/deleted, in listing order. */
    evict: ClassifiedPod[];
    /** Pods left in place (DaemonSet with ignoreDaemonSets, mirror pods, skip-wait). */
    skip: ClassifiedPod[];
    /** Pods that block the drain (bare pods without force, emptyDir without deleteEmptyDirData, live DaemonSet without ignoreDaemonSets). */
    blocked: ClassifiedPod[];
    /** kubectl-style warning lines: "ignoring DaemonSet-managed Pods: ns/a, ns/b". */
    warnings: string[];
    /** kubectl-style error lines when anything is blocked: "cannot delete ...: ns/a, ns/b". */
    errors: string[];
}

export type { BudgetNumbers };

/** Numbers of a paced workload (maxUnavailablePerWorkload), as reported in progress events and errors. */
export interface WorkloadNumbers {
    namespace: string;
    /** "Deployment" for a ReplicaSet a Deployment owns, else the controller's kind. */
    kind: string;
    name: string;
    desiredReplicas: number;
    /** Ready replicas, not counting pods this drain is evicting. */
    readyReplicas: number;
    /** Ready replicas needed (the waiting pod included) before the waiting pod may go. */
    requiredReady: number;
    maxUnavailable: number;
}

/** Progress events emitted by cordon/drain/wait. The CLI and the Pulumi providers print them. */
export type ProgressEvent =
    | { type: "cordoned"; node: string; alreadyCordoned: boolean; dryRun?: "client" | "server" }
    /** notOurs: left cordoned because node-upgrade did not make that cordon (onlyIfCordonedByUs). */
    | { type: "uncordoned"; node: string; alreadyUncordoned: boolean; notOurs?: boolean; dryRun?: "client" | "server" }
    | { type: "classified"; node: string; evict: number; skip: number; blocked: number; warnings: string[] }
    /** delete: the pod is deleted rather than evicted (--disable-eviction or no eviction support). */
    | { type: "evicting"; node: string; pod: string; delete?: boolean; attempt?: number; dryRun?: "client" | "server" }
    | { type: "waiting-on-budget"; node: string; pod: string; budget?: BudgetNumbers; message: string }
    /** maxUnavailablePerWorkload: the pod waits for a replacement of its workload to be Ready elsewhere. */
    | { type: "waiting-on-workload"; node: string; pod: string; workload: WorkloadNumbers; message: string }
    | { type: "retrying"; node: string; pod?: string; message: string; delaySeconds?: number }
    /**
     * Something the drain or wait works around, once, that the operator should fix: e.g. a watch or list the
     * kubeconfig's user may not make (the message quotes the server and names the fallback). A drain's
     * warnings are also in DrainResult.warnings.
     */
    | { type: "warning"; node: string; message: string }
    /**
     * alreadyGone: the eviction answered 404 (kubectl prints nothing then). skipped: skip-wait rule.
     * terminating: accepted while the namespace was being deleted.
     */
    | {
          type: "pod-gone";
          node: string;
          pod: string;
          how: "evicted" | "deleted" | "skipped";
          remaining: number;
          alreadyGone?: boolean;
          skipWaitSeconds?: number;
      }
    /** A pod that cannot be evicted for a reason that retrying will not fix (e.g. several PDBs match it). */
    | { type: "pod-failed"; node: string; pod: string; message: string }
    | { type: "drained"; node: string; evicted: number; seconds: number; dryRun?: "client" | "server" }
    | { type: "node-waiting"; node: string; message: string }
    | { type: "node-ready"; node: string; kubeletVersion: string };

export type ProgressListener = (event: ProgressEvent) => void;

export interface EvictedPod {
    pod: string; // namespace/name
    uid: string;
    /** ISO time the eviction (or delete) was accepted. */
    evictedAt: string;
    /** ISO time the pod object was gone (or replaced by a new UID). */
    goneAt: string;
}

export interface DrainResult {
    node: string;
    /** Set when nothing was really changed (dry run). */
    dryRun?: "client" | "server";
    cordoned: boolean; // this call changed spec.unschedulable
    evicted: EvictedPod[];
    skipped: { pod: string; reason: string }[];
    warnings: string[];
    durationSeconds: number;
}

/** One pod that is still on the node when a drain gives up, with what holds it. */
export interface RemainingPod {
    pod: string; // namespace/name
    reason: string; // human text, e.g. "PodDisruptionBudget default/web needs 10 healthy pods and has 10"
    budget?: BudgetNumbers;
    /** Set when the pod waits for its workload (maxUnavailablePerWorkload). */
    workload?: WorkloadNumbers;
}

/** Thrown by drain when the node cannot be drained. The node stays cordoned. */
export class DrainError extends Error {
    constructor(
        message: string,
        public readonly node: string,
        public readonly remaining: RemainingPod[],
        public readonly kind: "blocked" | "timeout" | "eviction-failed" | "api-error" | "cancelled",
    ) {
        super(message);
        this.name = "DrainError";
    }
}

/** Inputs to the pure filter chain beyond the pod itself. */
export interface FilterContext {
    /** "now" for the skip-wait rule (injected so the classification is pure). */
    now: Date;
    /** Whether the DaemonSet ns/name exists; undefined = unknown, treated as existing. */
    daemonSetExists(namespace: string, name: string): boolean;
}

export type { V1Pod, V1PodDisruptionBudget };
