// NodeUncordon: makes the node schedulable again when (and only when) node-upgrade cordoned it. The work is
// done in steps/uncordon.ts inside the dynamic-provider host.
import * as pulumi from "@pulumi/pulumi";
import nodeUncordonProviderModule = require("./providers/uncordon");
import type { SharedClusterOptions } from "../shared-cluster";
import { DYNAMIC_MODULE, NodeStepArgs, resourceProps, stepOptions, stepProps } from "./node-step";

/** The one NodeUncordon provider object (serialized into state). */
export const nodeUncordonProvider: pulumi.dynamic.ResourceProvider = nodeUncordonProviderModule;

export interface NodeUncordonArgs extends NodeStepArgs {
    /** The roll lock, kured's lock, gates and window (plain options, see ../shared-cluster-args.ts); a setting. */
    sharedCluster?: SharedClusterOptions;
    /** "project/stack", named in the lock's holder identity. */
    stack?: string;
    /** Leave a cordon that node-upgrade did not make (default true). */
    onlyIfCordonedByUs?: pulumi.Input<boolean>;
}

/** Uncordons one node at the end of its chain. */
export class NodeUncordon extends pulumi.dynamic.Resource {
    declare public readonly nodeName: pulumi.Output<string>;
    declare public readonly targetVersion: pulumi.Output<string>;
    /** This step changed spec.unschedulable. */
    declare public readonly uncordoned: pulumi.Output<boolean>;
    declare public readonly finishedAt: pulumi.Output<string>;
    declare public readonly message: pulumi.Output<string>;

    constructor(name: string, args: NodeUncordonArgs, opts?: pulumi.CustomResourceOptions) {
        const props = resourceProps(["uncordoned", "finishedAt", "message"], {
            ...stepProps(args),
            onlyIfCordonedByUs: args.onlyIfCordonedByUs,
            sharedCluster: args.sharedCluster,
            stack: args.stack,
        });
        super(nodeUncordonProvider, name, props, stepOptions(opts), DYNAMIC_MODULE, "NodeUncordon");
    }
}
