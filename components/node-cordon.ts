// NodeCordon: marks the node unschedulable (kubectl cordon) with node-upgrade's cordoned-by annotation, so the
// NodeUncordon at the end of the chain only ever undoes a cordon node-upgrade made. The work is done in
// steps/cordon.ts inside the dynamic-provider host.
import * as pulumi from "@pulumi/pulumi";
import nodeCordonProviderModule = require("./providers/cordon");
import type { SharedClusterOptions } from "../shared-cluster";
import { DYNAMIC_MODULE, NodeStepArgs, resourceProps, stepOptions, stepProps } from "./node-step";
import { sharedClusterProblems } from "./shared-cluster-args";
import { throwIfProblems } from "./validate";

/** The one NodeCordon provider object (serialized into state). */
export const nodeCordonProvider: pulumi.dynamic.ResourceProvider = nodeCordonProviderModule;

export interface NodeCordonArgs extends NodeStepArgs {
    /** The roll lock, kured's lock, gates and window (plain options, see ../shared-cluster-args.ts); a setting. */
    sharedCluster?: SharedClusterOptions;
    /** "project/stack", named in the lock's holder identity. */
    stack?: string;
    /** When the node already runs the target version and is not cordoned by us, do nothing (default true). */
    skipIfAtTarget?: pulumi.Input<boolean>;
}

/** Cordons one node. Deleting this resource never uncordons the node. */
export class NodeCordon extends pulumi.dynamic.Resource {
    declare public readonly nodeName: pulumi.Output<string>;
    declare public readonly targetVersion: pulumi.Output<string>;
    /** Kubelet version when the step ran. */
    declare public readonly versionBefore: pulumi.Output<string>;
    /** The node already ran the target version, so the whole chain is a no-op. */
    declare public readonly alreadyAtTarget: pulumi.Output<boolean>;
    /** This step changed spec.unschedulable. */
    declare public readonly cordoned: pulumi.Output<boolean>;
    declare public readonly startedAt: pulumi.Output<string>;
    declare public readonly message: pulumi.Output<string>;
    /** A new value each time the cordon runs: the rest of the chain re-runs exactly when it changes. */
    declare public readonly runId: pulumi.Output<string>;

    constructor(name: string, args: NodeCordonArgs, opts?: pulumi.CustomResourceOptions) {
        // Where the options enter for a NodeCordon built directly (NodeUpgrade reports them earlier, with its other
        // problems): a bad window or selector fails the program before any node, not at this node's cordon.
        throwIfProblems(`NodeCordon ${name}`, sharedClusterProblems(args.sharedCluster));
        const props = resourceProps(["versionBefore", "alreadyAtTarget", "cordoned", "startedAt", "message", "runId"], {
            ...stepProps(args),
            skipIfAtTarget: args.skipIfAtTarget,
            sharedCluster: args.sharedCluster,
            stack: args.stack,
        });
        super(nodeCordonProvider, name, props, stepOptions(opts), DYNAMIC_MODULE, "NodeCordon");
    }
}
