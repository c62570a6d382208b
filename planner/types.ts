// Vocabulary of the read-only roll planner: what goes in (a cluster snapshot and a roll spec) and what
// comes out (a plan per node). The plan holds only strings and numbers so it prints as JSON as-is.
import type { V1DaemonSet, V1Deployment, V1Node, V1Pod, V1PodDisruptionBudget, V1ReplicaSet, V1StatefulSet } from "@kubernetes/client-node";
import type { DrainOptions, WorkloadNumbers } from "../drain";
import { type ResourceAmount, type BudgetNumbers } from "../kube-rules";

export type { BudgetNumbers, DrainOptions, WorkloadNumbers };

/** Everything the planner reads, as listed from the API (or from `kubectl get ... -o json`). */
export interface ClusterSnapshot {
    nodes: V1Node[];
    pods: V1Pod[];
    podDisruptionBudgets: V1PodDisruptionBudget[];
    replicaSets: V1ReplicaSet[];
    deployments: V1Deployment[];
    statefulSets: V1StatefulSet[];
    daemonSets: V1DaemonSet[];
    /** When the lists were read; "now" for time-based rules. client-node gives a Date, files give a string. */
    takenAt: Date | string;
    /** gitVersion of the API server's GET /version, when the snapshot was read from a live cluster. */
    serverVersion?: string;
}

/** Which nodes to roll and how. Exactly one of `nodes`, `selector`, `all` picks the nodes. */
export interface RollSpec {
    /** Node names, in the order to roll them (control-plane nodes still go first unless disabled). */
    nodes?: string[];
    /** Label selector over node labels ("node-role.kubernetes.io/worker,zone=a"). */
    selector?: string;
    /** Roll every node of the cluster. */
    all?: boolean;
    /** How many nodes are drained at once (maxUnavailable). Default 1. */
    batchSize?: number;
    /** Control-plane nodes first, and never in a batch with workers. Default true. */
    controlPlaneFirst?: boolean;
    /** Kubelet version to upgrade to ("v1.30.2" or "1.30.2"). Without it the plan only checks the drain. */
    targetVersion?: string;
    drain: DrainOptions;
    /** Nodes whose kubelet is already at the target are listed as skipped, not drained. Default true. */
    skipNodesAtTarget?: boolean;
}

/**
 * ok: every pod leaves without waiting on a budget.
 * waits: some evictions are refused at first but succeed once replacements are Ready elsewhere.
 * blocked: the drain (or the upgrade) cannot finish; the roll stops here.
 * skip: the node is already at the target version.
 * A node after a blocked one still gets one of these, planned as if the blocked nodes had been unblocked
 * (NodePlan.assumesUnblocked names them).
 */
export type NodeVerdict = "ok" | "waits" | "blocked" | "skip";

/** A budget's numbers at one moment of the simulated roll, plus what its spec says. */
export interface BudgetReport extends BudgetNumbers {
    /** "maxUnavailable 1", "minAvailable 50%", "neither minAvailable nor maxUnavailable set". */
    rule: string;
    /** "ns/name" of the budget, for messages. */
    key: string;
}

export interface PlannedEviction {
    /**
     * "namespace/name" for a pod of the snapshot (or a StatefulSet pod, recreated under its name). A pod that a
     * controller creates during the roll has no name yet: "a new default/http-go pod (replacing default/http-go-…-n7w9l)".
     */
    pod: string;
    /** For a pod created during the roll: the snapshot pod it stands in for ("namespace/name"). */
    replaces?: string;
    /** "Deployment default/web", "StatefulSet db/pg", "no controller". */
    owner: string;
    /** The budget consulted, if any ("ns/name"). */
    budget?: string;
    /** True when the eviction waits (refused by its budget, or held by workload pacing) until a replacement is Ready. */
    waits: boolean;
    /** Why no budget applies or how it applies: "Pending: budgets do not apply", "not Ready, AlwaysAllow". */
    note?: string;
    /** Where its replacement is expected to run; null = nowhere fits yet; absent = nothing replaces it. */
    replacementNode?: string | null;
}

export interface SkippedPod {
    pod: string;
    /** "DaemonSet-managed", "mirror pod", "not matched by --pod-selector". */
    reason: string;
}

export interface BlockedPod {
    pod: string;
    /** Full human reason, e.g. the kubectl filter error or the budget numbers. */
    reason: string;
    /**
     * "filter" (kubectl refuses the node), "budget" (eviction refused for good), "workload" (maxUnavailablePerWorkload
     * holds it, and no replacement of its workload will be Ready).
     */
    cause: "filter" | "budget" | "workload";
    budget?: BudgetReport;
    workload?: WorkloadNumbers;
}

/** A pod whose eviction waits: on a budget (refused at first), or on workload pacing (maxUnavailablePerWorkload). */
export interface WaitingPod {
    pod: string;
    reason: string;
    /** The budget's numbers when it first refused. */
    budget?: BudgetReport;
    /** The workload's numbers when pacing first held the pod. */
    workload?: WorkloadNumbers;
}

export type { ResourceAmount };

export interface CapacityReport {
    /** False when some replacement has no schedulable node to go to while this node is drained. */
    ok: boolean;
    /** Pods that a controller will recreate elsewhere. */
    replacements: number;
    /** Requests of those replacements. */
    requested: ResourceAmount;
    /** Nodes that can take replacements: not cordoned, Ready, not in the current batch. */
    schedulableNodes: number;
    /** Free allocatable on those nodes before this node's replacements land. */
    free: ResourceAmount;
    /** Replacements that fit nowhere, with why. They stay Pending until a node returns. */
    unplaced: { pod: string; reason: string }[];
}

export interface VersionReport {
    from?: string;
    to?: string;
    /** Skew-policy violations; any makes the node blocked. */
    problems: string[];
}

export interface NodePlan {
    node: string;
    /** 1-based position in the roll order. */
    position: number;
    total: number;
    /** 1-based batch number; 0 for skipped nodes. */
    batch: number;
    controlPlane: boolean;
    verdict: NodeVerdict;
    /** One line per reason when the verdict is waits or blocked (or skip). */
    reasons: string[];
    /**
     * Set on the nodes after the first blocked batch: the blocked nodes this plan takes as unblocked (their pods
     * evicted and replaced, their upgrade done). `up` does not get here until they are.
     */
    assumesUnblocked?: string[];
    evict: PlannedEviction[];
    skip: SkippedPod[];
    blocked: BlockedPod[];
    waits: WaitingPod[];
    /** Budgets of the pods evicted here, with their numbers before this node's drain. */
    budgets: BudgetReport[];
    capacity?: CapacityReport;
    version: VersionReport;
    /** kubectl-style warnings ("ignoring DaemonSet-managed Pods: ...") and planner notes. */
    warnings: string[];
}

export interface RollPlan {
    takenAt: string;
    targetVersion?: string;
    batchSize: number;
    controlPlaneFirst: boolean;
    /** The API server version kubelets are checked against (a kubelet must not be newer), at the start. */
    apiServerVersion?: string;
    /** Where apiServerVersion comes from; "control-plane kubelets" is a stand-in, with a warning. */
    apiServerVersionFrom?: ApiServerVersionSource;
    /** Overall: blocked if the roll stops, waits if any node waits, else ok. */
    verdict: "ok" | "waits" | "blocked";
    nodes: NodePlan[];
    /** First blocked node, where the roll stops. */
    stopsAt?: string;
    /** Nodes of the batches after the first blocked one: `up` stops before them. Each is still planned (assumesUnblocked). */
    notReached: string[];
    /** Roll-level notes (skew already violated before the roll, unknown control-plane version, ...). */
    warnings: string[];
    /** Verdicts of every node (those after a blocked one included); notReached = notReached.length. */
    counts: { nodes: number; ok: number; waits: number; blocked: number; skip: number; notReached: number; evictions: number };
}

export type ApiServerVersionSource = "/version" | "kube-apiserver pods" | "control-plane kubelets";

/** A RollSpec that cannot be planned (unknown node, bad selector, bad version). */
export class PlanInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PlanInputError";
    }
}
