// Helpers for component tests under `pulumi.runtime.setMocks`: a recording mock monitor, a fake cluster for
// the program-time reads, and access to Output values. Secret envelopes: local-engine/secrets.ts.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterReader, PlanRequest } from "../../components/cluster-reader";
import type { NodeInfo } from "../../components/engine-contract";

export interface RegisteredResource {
    type: string;
    name: string;
    inputs: any;
    custom: boolean;
    start: number;
    end: number;
}

/**
 * Mocks that record every registration with start/end times; each takes `delayMs` (so an ordering bug shows
 * as overlapping intervals). In preview mode state echoes the inputs, as the engine does for providers
 * without preview support, so computed outputs stay unknown.
 */
export function recordingMocks(
    opts: { delayMs?: number; preview?: boolean; outputs?: (r: pulumi.runtime.MockResourceArgs) => Record<string, any> } = {},
) {
    const registered: RegisteredResource[] = [];
    const t0 = Date.now();
    const mocks: pulumi.runtime.Mocks = {
        async newResource(args) {
            const start = Date.now() - t0;
            if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
            const extra = opts.preview ? {} : (opts.outputs?.(args) ?? {});
            registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: !!args.custom, start, end: Date.now() - t0 });
            return { id: args.custom ? `${args.name}-id` : undefined!, state: { ...args.inputs, ...extra } };
        },
        call(args) {
            throw new Error(`unexpected invoke ${args.token}`);
        },
    };
    return { mocks, registered };
}

/** Plausible outputs of a successful step, by type, for non-preview graph tests. */
export function stepOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
    const step = args.type.split(":").pop();
    const node = args.inputs.nodeName;
    switch (step) {
        case "NodeCordon":
            return {
                versionBefore: "v1.19.0",
                alreadyAtTarget: false,
                cordoned: true,
                startedAt: "2024-01-01T00:00:00.000Z",
                message: "cordoned",
            };
        case "NodeDrain":
            return {
                alreadyAtTarget: false,
                evictedPods: [`default/pod-on-${node}`],
                skippedPods: [],
                warnings: [],
                drainSeconds: 1.5,
                drainedAt: "x",
                message: "drained",
            };
        case "NodeReady":
            return { ready: true, kubeletVersion: "v1.20.0", readyAt: "x", waitedSeconds: 3, soakedSeconds: 0, message: "Ready" };
        case "NodeUncordon":
            return { uncordoned: true, finishedAt: "2024-01-01T00:01:00.000Z", message: "uncordoned" };
        case "Command":
            return { stdout: "upgraded", stderr: "" };
        default:
            return {};
    }
}

/** A ClusterReader over a fixed node list; planRoll returns one text block per node and records the request. */
export function fakeCluster(nodes: Partial<NodeInfo>[]): ClusterReader & { planRequests: PlanRequest[]; reads: string[] } {
    const full: NodeInfo[] = nodes.map((n) => ({
        name: n.name!,
        unschedulable: n.unschedulable ?? false,
        cordonedByUs: n.cordonedByUs ?? false,
        ready: n.ready ?? true,
        kubeletVersion: n.kubeletVersion ?? "v1.19.0",
        internalIP: n.internalIP,
        controlPlane: n.controlPlane ?? false,
        labels: n.labels ?? {},
    }));
    const planRequests: PlanRequest[] = [];
    const reads: string[] = [];
    return {
        planRequests,
        reads,
        async listNodes(selector?: string) {
            if (!selector) return full;
            const [k, v] = selector.split("=");
            return full.filter((n) => (v === undefined ? k in n.labels : n.labels[k] === v));
        },
        async readNode(name: string) {
            reads.push(name);
            const n = full.find((x) => x.name === name);
            if (!n) throw new Error(`node "${name}" not found`);
            return n;
        },
        async planRoll(request: PlanRequest) {
            planRequests.push(request);
            return request.nodes.map((node) => ({ node, text: `PLAN ${node}: evict pods, then upgrade to ${request.targetVersion}` }));
        },
    };
}

/** The value of an Output (undefined when unknown). Uses the SDK's internal promise, as its own code does. */
export async function valueOf<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return (pulumi.output(o) as any).promise();
}

export async function isKnown(o: pulumi.Output<unknown>): Promise<boolean> {
    return (o as any).isKnown;
}

export async function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
    return (o as any).isSecret;
}

/** The URNs of resources (waits for registration). */
export function urnOf(r: pulumi.Resource): Promise<string> {
    return valueOf(r.urn);
}
