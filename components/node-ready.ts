// NodeReady: waits until the node is Ready with its kubelet at the target version, tolerating a restart
// (NotReady, then back), then optionally soaks. The work is done in steps/ready.ts inside the host.
import * as pulumi from "@pulumi/pulumi";
import nodeReadyProviderModule = require("./providers/ready");
import { DYNAMIC_MODULE, NodeStepArgs, resourceProps, stepOptions, stepProps } from "./node-step";

/** The one NodeReady provider object (serialized into state). */
export const nodeReadyProvider: pulumi.dynamic.ResourceProvider = nodeReadyProviderModule;

export interface NodeReadyArgs extends NodeStepArgs {
    /** How long to wait for Ready at the target version: "15m", "90s" or seconds; 0 = forever. Default 15m. */
    timeout?: pulumi.Input<string | number>;
    /** How long the node must then stay Ready before the step completes (and uncordon runs). Default 0. */
    soak?: pulumi.Input<string | number>;
    /** The upgrade restarts the node: first wait to see it NotReady (up to notReadyTimeout). */
    expectNotReady?: pulumi.Input<boolean>;
    /** Window for seeing the node go down when expectNotReady. Default 5m; if it never does, the wait continues. */
    notReadyTimeout?: pulumi.Input<string | number>;
    /** How often to poll the node: "2s" (default), "500ms" or seconds. */
    pollInterval?: pulumi.Input<string | number>;
}

/** Waits for the node to come back Ready at the target version. */
export class NodeReady extends pulumi.dynamic.Resource {
    declare public readonly nodeName: pulumi.Output<string>;
    declare public readonly targetVersion: pulumi.Output<string>;
    declare public readonly ready: pulumi.Output<boolean>;
    /** The kubelet version reported when the wait ended (refreshed by `pulumi refresh`). */
    declare public readonly kubeletVersion: pulumi.Output<string>;
    declare public readonly readyAt: pulumi.Output<string>;
    declare public readonly waitedSeconds: pulumi.Output<number>;
    declare public readonly soakedSeconds: pulumi.Output<number>;
    declare public readonly message: pulumi.Output<string>;

    constructor(name: string, args: NodeReadyArgs, opts?: pulumi.CustomResourceOptions) {
        const props = resourceProps(["ready", "kubeletVersion", "readyAt", "waitedSeconds", "soakedSeconds", "message"], {
            ...stepProps(args),
            timeout: args.timeout,
            soak: args.soak,
            expectNotReady: args.expectNotReady,
            notReadyTimeout: args.notReadyTimeout,
            pollInterval: args.pollInterval,
        });
        super(nodeReadyProvider, name, props, stepOptions(opts), DYNAMIC_MODULE, "NodeReady");
    }
}
