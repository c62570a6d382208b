// What the four step resources (NodeCordon, NodeDrain, NodeReady, NodeUncordon) have in common on the
// program side: their trigger and connection inputs, and how those are passed to the dynamic resource.
import * as pulumi from "@pulumi/pulumi";

/** Inputs every step takes. nodeName, targetVersion, commandHash and revision are the triggers. */
export interface NodeStepArgs {
    /** The Kubernetes node (a DNS-1123 subdomain). */
    nodeName: pulumi.Input<string>;
    /** Kubelet version the node must end up at, e.g. "v1.29.3". */
    targetVersion: pulumi.Input<string>;
    /** Hash of the upgrade command; a new command re-runs the step. */
    commandHash?: pulumi.Input<string>;
    /** Bump to re-run the step at the same version. */
    revision?: pulumi.Input<string>;
    /** Kubeconfig YAML. Stored (as a secret) with every step; prefer `kubeconfigConfigKey`. */
    kubeconfig?: pulumi.Input<string>;
    /**
     * A stack configuration key holding the kubeconfig, e.g. "my-project:kubeconfig". The steps read it from
     * the configuration the Pulumi engine gives the provider, so the kubeconfig is never copied into the state,
     * and `pulumi up` and `pulumi refresh` always use the current value (a rotated token just works).
     */
    kubeconfigConfigKey?: pulumi.Input<string>;
    /** Path of a kubeconfig file (relative paths are relative to the Pulumi program directory). */
    kubeconfigPath?: pulumi.Input<string>;
    /** Kubeconfig context to use instead of current-context. */
    context?: pulumi.Input<string>;
    /** The run id of the node's cordon (NodeCordon.runId): when the cordon runs again, so does this step. */
    chainRunId?: pulumi.Input<string>;
}

/** The dynamic-resource props for the shared inputs. The kubeconfig is always wrapped as a secret. */
export function stepProps(args: NodeStepArgs): Record<string, pulumi.Input<any> | undefined> {
    return {
        nodeName: args.nodeName,
        targetVersion: args.targetVersion,
        commandHash: args.commandHash,
        revision: args.revision,
        kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
        kubeconfigConfigKey: args.kubeconfigConfigKey,
        kubeconfigPath: args.kubeconfigPath,
        context: args.context,
        chainRunId: args.chainRunId,
    };
}

/**
 * The props of a step resource: its output properties (as undefined, so they become Outputs), then its inputs
 * without the ones that are not set. An unset input sends nothing to the engine either way, but every key costs
 * the SDK several promises (each with a captured stack trace) per resource, which dominates large rolls.
 */
export function resourceProps(outputs: readonly string[], inputs: Record<string, unknown>): Record<string, unknown> {
    const props: Record<string, unknown> = {};
    for (const k of outputs) props[k] = undefined;
    for (const [k, v] of Object.entries(inputs)) if (v !== undefined) props[k] = v;
    return props;
}

/**
 * Resource options for a step: the engine re-marks same-named outputs of secret inputs as secret, and we say so
 * explicitly too, so the kubeconfig echoed into the outputs (needed by refresh) never lands in state in clear.
 */
export function stepOptions(opts?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    const extra = opts?.additionalSecretOutputs ?? [];
    return { ...opts, additionalSecretOutputs: Array.from(new Set([...extra, "kubeconfig"])) };
}

/** The dynamic resource module: types become `pulumi-nodejs:dynamic/node-upgrade:<Type>`. */
export const DYNAMIC_MODULE = "node-upgrade";
