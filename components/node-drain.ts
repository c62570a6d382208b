// NodeDrain: evicts the node's pods like `kubectl drain`, honouring PodDisruptionBudgets. The work is done in
// steps/drain.ts inside the dynamic-provider host.
import * as pulumi from "@pulumi/pulumi";
import nodeDrainProviderModule = require("./providers/drain");
import { DYNAMIC_MODULE, NodeStepArgs, resourceProps, stepOptions, stepProps } from "./node-step";

/** The one NodeDrain provider object (serialized into state). */
export const nodeDrainProvider: pulumi.dynamic.ResourceProvider = nodeDrainProviderModule;

/**
 * Drain options, named after `kubectl drain` flags. Defaults are kubectl's, except the finite timeout and
 * `maxUnavailablePerWorkload` (workload-aware pacing, on by default: 1).
 */
export interface DrainArgs {
    /** --force: also delete pods that declare no controller. Default false. */
    force?: pulumi.Input<boolean>;
    /** --ignore-daemonsets: leave DaemonSet pods in place instead of failing. Default false. */
    ignoreDaemonSets?: pulumi.Input<boolean>;
    /** --delete-emptydir-data: allow evicting pods with emptyDir volumes. Default false. */
    deleteEmptyDirData?: pulumi.Input<boolean>;
    /** --grace-period: seconds each pod gets to stop; -1 (default) = the pod's own setting. */
    gracePeriodSeconds?: pulumi.Input<number>;
    /** --timeout per node: "10m", "90s" or seconds; 0 = forever. Default 600 s. */
    timeout?: pulumi.Input<string | number>;
    /** --pod-selector: only drain pods matching this label selector. */
    podSelector?: pulumi.Input<string>;
    /** --disable-eviction: delete instead of evict (bypasses PodDisruptionBudgets). Default false. */
    disableEviction?: pulumi.Input<boolean>;
    /** --skip-wait-for-delete-timeout: stop waiting for pods deleted longer ago than this (seconds). */
    skipWaitForDeleteTimeoutSeconds?: pulumi.Input<number>;
    /** --chunk-size: page size of the pod listing; 0 = no paging. Default 500. */
    chunkSize?: pulumi.Input<number>;
    /**
     * Workload-aware pacing (not a kubectl flag; the CLI's --max-unavailable-per-workload). Default 1.
     * For pods of a Deployment (ReplicaSet), StatefulSet or ReplicationController that no PodDisruptionBudget
     * covers, at most this many pods of the workload are unavailable at a time: the next pod is evicted once a
     * replacement is Ready elsewhere. kubectl evicts them all at once, so a 10-replica Deployment with 6 pods on
     * the node drops to 4 Ready; with 1 it stays at ≥ 9. Workloads covered by a budget are paced by the budget.
     * A workload whose replacements never become Ready holds the drain until `timeout`, and the error names it.
     * 0 = off (kubectl's behaviour). A whole number ≥ 0.
     */
    maxUnavailablePerWorkload?: pulumi.Input<number>;
}

export interface NodeDrainArgs extends NodeStepArgs, DrainArgs {
    /** When the node already runs the target version and is not cordoned by us, do nothing (default true). */
    skipIfAtTarget?: pulumi.Input<boolean>;
}

/** Drains one node. A drain that cannot finish fails with the blocking pods and budgets; nothing is ever undone. */
export class NodeDrain extends pulumi.dynamic.Resource {
    declare public readonly nodeName: pulumi.Output<string>;
    declare public readonly targetVersion: pulumi.Output<string>;
    /** The node already ran the target version and was not drained. The upgrade command becomes an echo. */
    declare public readonly alreadyAtTarget: pulumi.Output<boolean>;
    /** "namespace/name" of every evicted (or deleted) pod. */
    declare public readonly evictedPods: pulumi.Output<string[]>;
    /** Pods left in place, with the reason ("kube-system/kube-proxy-x: DaemonSet-managed"). */
    declare public readonly skippedPods: pulumi.Output<string[]>;
    declare public readonly warnings: pulumi.Output<string[]>;
    declare public readonly drainSeconds: pulumi.Output<number>;
    declare public readonly drainedAt: pulumi.Output<string>;
    declare public readonly message: pulumi.Output<string>;

    constructor(name: string, args: NodeDrainArgs, opts?: pulumi.CustomResourceOptions) {
        const props = resourceProps(["alreadyAtTarget", "evictedPods", "skippedPods", "warnings", "drainSeconds", "drainedAt", "message"], {
            ...stepProps(args),
            force: args.force,
            ignoreDaemonSets: args.ignoreDaemonSets,
            deleteEmptyDirData: args.deleteEmptyDirData,
            gracePeriodSeconds: args.gracePeriodSeconds,
            timeout: args.timeout,
            podSelector: args.podSelector,
            disableEviction: args.disableEviction,
            skipWaitForDeleteTimeoutSeconds: args.skipWaitForDeleteTimeoutSeconds,
            chunkSize: args.chunkSize,
            maxUnavailablePerWorkload: args.maxUnavailablePerWorkload,
            skipIfAtTarget: args.skipIfAtTarget,
        });
        super(nodeDrainProvider, name, props, stepOptions(opts), DYNAMIC_MODULE, "NodeDrain");
    }
}
