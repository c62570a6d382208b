// RollingNodeUpgrade: upgrades many nodes in sequence. Control-plane nodes first (one at a time), then
// workers in batches of maxUnavailable; every node of a batch starts only after the previous batch's
// uncordon, so the first failure stops the roll with that node cordoned and later nodes untouched.
// The nodes come from a list or a label selector, read from the cluster at program time (also in preview)
// inside `initialize`, so `dependsOn: [roll]` waits for every node chain.
// The node chains are constructed a bounded number of nodes ahead of the last node whose chain the engine has
// finished (in preview, at once): the engine sees the same registrations in the same order, and a roll of
// thousands of nodes does not hold every pending registration in memory at the same time (bench/scale.ts).
import * as pulumi from "@pulumi/pulumi";
import { NodeUpgrade, NodeUpgradeArgs, NodeUpgradeReport, plainArgsProblems, SshArgs } from "./node-upgrade";
import { ClusterReader, kubeClusterReader } from "./cluster-reader";
import { blastRadiusProblem } from "./roll-order";
import { rollBatches, parseDuration } from "../kube-rules";
import { withoutPromiseStackTraces } from "./construction";
import { requireKnown, resolveInput, plainValue, stackConfigValue } from "./program-values";
import { nodeNameProblem, percentProblem, positiveIntegerProblem, throwIfProblems, selectorProblem } from "./validate";
import type { DrainOptions } from "../drain";
import type { NodeInfo } from "./engine-contract";
import { sharedClusterEnabled, sharedClusterOptions } from "./shared-cluster-args";

export interface RollingNodeUpgradeArgs extends Omit<NodeUpgradeArgs, "nodeName" | "ssh" | "clusterReader"> {
    /** Node names, in the order to roll them (control-plane nodes still go first). */
    nodes?: pulumi.Input<pulumi.Input<string>[]>;
    /** Label selector over node labels; the matching nodes roll in name order. Give nodes or selector. */
    selector?: pulumi.Input<string>;
    /** Workers upgraded at once. Default 1. */
    maxUnavailable?: number;
    /** Blast-radius guard: refuse a plan that takes down more nodes at once than this. */
    maxNodesDownAtOnce?: number;
    /** Blast-radius guard as a percentage of the cluster's nodes (at least 1 node is always allowed). */
    maxNodesDownPercent?: number;
    /** Control-plane nodes first, one at a time. Default true. */
    controlPlaneFirst?: boolean;
    /** Order within each group: "declared" (default with `nodes`) or "name" (always with `selector`). */
    order?: "declared" | "name";
    /** SSH settings for every node, plus per-node host overrides (`hosts: { worker1: "10.0.0.7" }`). */
    ssh?: Omit<SshArgs, "host"> & { hosts?: Record<string, pulumi.Input<string>> };
    /** In preview, log the planner's per-node plan (when the planner is built). Default true. */
    logPlan?: boolean;
    /**
     * Make `pulumi preview` (and the preview step of `pulumi up`) fail when the plan says a node is BLOCKED.
     * Default false: a BLOCKED node is a warning on that node in the preview, and `up` rolls the nodes before it
     * and stops, cordoned, at it (the plan is a prediction from a snapshot; a budget may allow the eviction by
     * then). Set it where a CI job should refuse a roll that is predicted to stop.
     */
    failOnBlockedPlan?: boolean;
    /** Program-time cluster access. Default: the drain engine with the kubeconfig. Tests inject a fake. */
    clusterReader?: ClusterReader;
}

export interface RollingNodeUpgradeReport {
    targetVersion: string;
    /** Node names per batch, in roll order. */
    batches: string[][];
    nodes: NodeUpgradeReport[];
}

interface RollData {
    upgrades: NodeUpgrade[];
    batches: string[][];
    report: pulumi.Output<RollingNodeUpgradeReport>;
}

const ARGS = "rollArgs";
const ON_BATCHES = "rollOnBatches";

/**
 * How many nodes may have their chains constructed ahead of the roll (at least one whole batch always is).
 * Every pending registration costs the SDK about half a megabyte (an Output and four promises per property), so
 * a 1,000-node roll constructed at once needed well over a gigabyte; the engine registers node after node
 * anyway (a batch starts only when the previous one is done), so a short look-ahead costs nothing. Measured with
 * bench/scale.ts: 4 used the least CPU and memory (32: +20% CPU, +50% peak RSS).
 */
export const LOOKAHEAD_NODES = 4;

export class RollingNodeUpgrade extends pulumi.ComponentResource<RollData> {
    /** The per-node components, in roll order (resolves once every node's component has been constructed). */
    public readonly upgrades: Promise<NodeUpgrade[]>;
    /** Node names per batch, in roll order. */
    public readonly batches: pulumi.Output<string[][]>;
    public readonly report: pulumi.Output<RollingNodeUpgradeReport>;

    constructor(name: string, args: RollingNodeUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
        validatePlainRollArgs(name, args);
        // The full args reach initialize() through a non-enumerable property: enumerable keys are recorded as
        // the component's inputs in state, and the args may hold a plain-text kubeconfig or SSH key.
        let onBatches!: (batches: string[][]) => void;
        const batchesKnown = new Promise<string[][]>((resolve) => (onBatches = resolve));
        const carrier = Object.defineProperties(
            { targetVersion: args.targetVersion, nodes: args.nodes, selector: args.selector, maxUnavailable: args.maxUnavailable ?? 1 },
            { [ARGS]: { value: args, enumerable: false }, [ON_BATCHES]: { value: onBatches, enumerable: false } },
        );
        super("node-upgrade:index:RollingNodeUpgrade", name, carrier, opts);
        const data = this.getData();
        this.upgrades = data.then((d) => d.upgrades);
        // Known as soon as the plan is, not only once every chain has been constructed.
        this.batches = pulumi.output(Promise.race([batchesKnown, data.then((d) => d.batches)]));
        this.report = pulumi.output(data.then((d) => d.report));
        this.registerOutputs({ batches: this.batches, report: this.report });
    }

    protected async initialize(carrier: any, opts?: pulumi.ComponentResourceOptions, name?: string): Promise<RollData> {
        const args: RollingNodeUpgradeArgs = carrier[ARGS];
        // Let the constructor finish before creating children (this runs from inside super()).
        await Promise.resolve();
        const label = `RollingNodeUpgrade ${name}`;

        const kubeconfig = args.kubeconfigConfigKey
            ? { known: true as const, value: stackConfigValue(`${label}: kubeconfigConfigKey`, args.kubeconfigConfigKey) }
            : await resolveInput(args.kubeconfig);
        const kubeconfigPath = await requireKnown(`${label}: kubeconfigPath`, args.kubeconfigPath);
        const context = await requireKnown(`${label}: context`, args.context);
        if (!kubeconfig.known)
            throw new Error(`${label}: the kubeconfig must be known when the program runs (nodes are read from the cluster)`);
        if (!kubeconfig.value && !kubeconfigPath)
            throw new Error(
                `${label}: set kubeconfigConfigKey (a stack config key), kubeconfig (YAML text, as a secret) or kubeconfigPath`,
            );
        const reader = args.clusterReader ?? kubeClusterReader({ kubeconfig: kubeconfig.value, kubeconfigPath, context });

        const wanted = (await requireKnown(`${label}: nodes`, args.nodes)) as string[] | undefined;
        const selector = await requireKnown(`${label}: selector`, args.selector);
        const useList = !!wanted && wanted.length > 0;
        if (useList === !!selector)
            throw new Error(
                `${label}: give either nodes (a list of node names) or selector (a label selector), not ${useList ? "both" : "neither"}`,
            );

        // One read of the cluster: which nodes exist, which are control-plane, their addresses.
        const clusterNodes = await readCluster(label, () => reader.listNodes());
        const byName = new Map(clusterNodes.map((n) => [n.name, n]));
        let picked: NodeInfo[];
        if (useList) {
            throwIfProblems(
                label,
                wanted!.map((n) => nodeNameProblem(n)),
            );
            const missing = wanted!.filter((n) => !byName.has(n));
            if (missing.length) {
                throw new Error(
                    `${label}: node${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")} not found in the cluster (\`kubectl get nodes\` lists its nodes)`,
                );
            }
            picked = wanted!.map((n) => byName.get(n)!);
        } else {
            throwIfProblems(label, [selectorProblem("selector", selector)]);
            picked = await readCluster(label, () => reader.listNodes(selector));
            if (picked.length === 0) throw new Error(`${label}: no nodes match selector "${selector}"`);
        }

        const maxUnavailable = args.maxUnavailable ?? 1;
        const problem = blastRadiusProblem({
            maxUnavailable,
            clusterNodes: clusterNodes.length,
            maxNodesDownAtOnce: args.maxNodesDownAtOnce,
            maxNodesDownPercent: args.maxNodesDownPercent,
        });
        if (problem) throw new Error(`${label}: ${problem}`);
        // The same batches the plan shows (kube-rules' rollBatches): nodes that need nothing are in no batch; their
        // (no-op) chains come last, together, so a finished roll keeps every node's resources in the stack.
        const targetVersion = await requireKnown(`${label}: targetVersion`, args.targetVersion);
        const skipAtTarget = await requireKnown(`${label}: skipIfAtTarget`, args.skipIfAtTarget);
        const planned = rollBatches(picked, {
            maxUnavailable,
            controlPlaneFirst: args.controlPlaneFirst ?? true,
            order: useList ? (args.order ?? "declared") : "name",
            targetVersion,
            skipNodesAtTarget: skipAtTarget !== false,
        });
        const batches = planned.batches;
        const chains = planned.skipped.length ? [...batches, planned.skipped.map((s) => s.name)] : batches;

        carrier[ON_BATCHES](batches);

        // The chains: every node of batch i+1 depends on every uncordon of batch i.
        const {
            nodes: _n,
            selector: _s,
            maxUnavailable: _m,
            maxNodesDownAtOnce: _a,
            maxNodesDownPercent: _p,
            controlPlaneFirst: _c,
            order: _o,
            logPlan: _l,
            failOnBlockedPlan: _f,
            ssh,
            clusterReader: _r,
            ...common
        } = args;
        const upgrades: NodeUpgrade[] = [];
        const { hosts, ...connection } = ssh ?? {};
        // Batches whose chains are constructed but not yet finished by the engine (their uncordons' URNs).
        const inFlight: { nodes: number; done: Promise<unknown> }[] = [];
        let inFlightNodes = 0;
        let previous: pulumi.Resource[] = [];
        for (const batch of chains) {
            // Whole batches, at most LOOKAHEAD_NODES nodes ahead (but always the next batch): a batch starts only
            // once the previous one is done anyway. A failed node's uncordon never finishes, so nothing after the
            // window is constructed, just as nothing after it would be registered.
            while (inFlight.length > 0 && inFlightNodes + batch.length > LOOKAHEAD_NODES) {
                const oldest = inFlight.shift()!;
                await oldest.done;
                inFlightNodes -= oldest.nodes;
            }
            const current = withoutPromiseStackTraces(() =>
                batch.map((node) => {
                    const host = hosts?.[node] ?? byName.get(node)?.internalIP;
                    return new NodeUpgrade(
                        `${name}-${node}`,
                        { ...common, nodeName: node, ssh: { ...connection, host }, clusterReader: reader },
                        { parent: this, dependsOn: previous },
                    );
                }),
            );
            upgrades.push(...current);
            previous = current.map((u) => u.uncordon);
            const done = Promise.all(previous.map((r) => (r.urn as unknown as { promise(): Promise<string> }).promise()));
            done.catch(() => undefined); // observed when awaited above; a failed step is reported by the engine
            inFlight.push({ nodes: current.length, done });
            inFlightNodes += current.length;
        }

        if (pulumi.runtime.isDryRun() && args.logPlan !== false) {
            await this.logPlan(reader, args, chains, upgrades, maxUnavailable, skipAtTarget !== false);
            const inRollOrder = chains.flat(); // the order the upgrades were built in
            await logPreflightOf(this, reader, args, batches, new Map(upgrades.map((u, i) => [inRollOrder[i], u])));
        }

        const report = pulumi.output({
            targetVersion: pulumi.output(args.targetVersion),
            batches,
            nodes: upgrades.map((u) => u.report),
        }) as pulumi.Output<RollingNodeUpgradeReport>;
        return { upgrades, batches, report };
    }

    /** Preview only: the planner's read-only verdict per node, logged on that node's component in roll order. */
    private async logPlan(
        reader: ClusterReader,
        args: RollingNodeUpgradeArgs,
        batches: string[][],
        upgrades: NodeUpgrade[],
        batchSize: number,
        skipNodesAtTarget: boolean,
    ) {
        if (!reader.planRoll) return;
        let blocked: string[] = [];
        try {
            const target = await resolveInput(args.targetVersion);
            if (!target.known || !target.value) return;
            const plan = await reader.planRoll({
                nodes: batches.flat(),
                batchSize,
                controlPlaneFirst: args.controlPlaneFirst ?? true,
                skipNodesAtTarget,
                targetVersion: target.value,
                drain: await drainOptionsForPlan(args),
            });
            if (!plan) return;
            const inRollOrder = batches.flat();
            const byNode = new Map(upgrades.map((u, i) => [inRollOrder[i], u]));
            // A BLOCKED node is a warning on its own row, so a reviewer of the preview cannot miss it.
            for (const p of plan) (p.verdict === "blocked" ? pulumi.log.warn : pulumi.log.info)(p.text, byNode.get(p.node) ?? this);
            blocked = plan.filter((p) => p.verdict === "blocked").map((p) => p.node);
        } catch (err: any) {
            pulumi.log.warn(`could not compute the roll plan: ${err?.message ?? err}`, this);
        }
        if (blocked.length > 0 && args.failOnBlockedPlan) {
            throw new Error(
                `the roll plan is BLOCKED at ${blocked.join(", ")} (see the warnings above); failOnBlockedPlan is set, so the preview fails. ` +
                    "Fix what blocks (the warning says what), or unset failOnBlockedPlan to roll up to the blocked node and stop there.",
            );
        }
    }
}

/**
 * In preview: the lock, kured's lock, the gates and the window as they stand now (on the component), and on each
 * node's component whether it would start now (its node-scoped gates, and whatever blocks the whole roll). A node
 * that would not start is a warning, so a reviewer of the preview sees what `up` would wait for, node by node.
 */
async function logPreflightOf(
    component: pulumi.Resource,
    reader: ClusterReader,
    args: RollingNodeUpgradeArgs,
    batches: string[][],
    byNode: Map<string, pulumi.Resource>,
) {
    const options = sharedClusterOptions(args.sharedCluster).options;
    const nodes = batches.flat();
    if (!reader.preflight || nodes.length === 0 || !sharedClusterEnabled(options)) return;
    try {
        const report = await reader.preflight(options, nodes);
        const first = report.nodes[0];
        const head = first?.startNow
            ? `shared cluster: ${first.node} would start now`
            : `shared cluster: ${nodes[0]} would NOT start now (up waits for what blocks, up to its timeout, then stops before cordoning it)`;
        (first?.startNow ? pulumi.log.info : pulumi.log.warn)([head, ...report.lines.map((l) => `      ${l}`)].join("\n"), component);
        for (const n of report.nodes)
            (n.startNow ? pulumi.log.info : pulumi.log.warn)(`shared cluster: ${n.line}`, byNode.get(n.node) ?? component);
    } catch (err: any) {
        pulumi.log.warn(`could not check the roll lock, gates and window: ${err?.message ?? err}`, component);
    }
}

async function readCluster<T>(label: string, read: () => Promise<T>): Promise<T> {
    try {
        return await read();
    } catch (err: any) {
        throw new Error(`${label}: cannot read the cluster's nodes: ${err?.message ?? err}`);
    }
}

/** The drain options as plain values, for the planner. */
async function drainOptionsForPlan(args: RollingNodeUpgradeArgs): Promise<DrainOptions> {
    const d = args.drain ?? {};
    const value = async <T>(i: pulumi.Input<T> | undefined) => {
        const r = await resolveInput(i);
        return r.known ? r.value : undefined;
    };
    const timeout = await value(d.timeout);
    return {
        force: await value(d.force),
        ignoreDaemonSets: await value(d.ignoreDaemonSets),
        deleteEmptyDirData: await value(d.deleteEmptyDirData),
        gracePeriodSeconds: await value(d.gracePeriodSeconds),
        timeoutSeconds: planTimeoutSeconds(timeout),
        podSelector: await value(d.podSelector),
        disableEviction: await value(d.disableEviction),
        skipWaitForDeleteTimeoutSeconds: await value(d.skipWaitForDeleteTimeoutSeconds),
        // Workload pacing; the planner may ignore it. Same default as the NodeDrain step (steps/drain.ts).
        maxUnavailablePerWorkload: (await value(d.maxUnavailablePerWorkload)) ?? 1,
    };
}

/** Synchronous validation of plain settings, so a bad value fails before anything registers. */
function validatePlainRollArgs(name: string, args: RollingNodeUpgradeArgs): void {
    const nodes = plainValue(args.nodes);
    const selector = plainValue(args.selector);
    throwIfProblems(`RollingNodeUpgrade ${name}`, [
        ...(Array.isArray(nodes) ? nodes.map((n) => (typeof n === "string" ? nodeNameProblem(n) : undefined)) : []),
        selector !== undefined && selector !== "" ? selectorProblem("selector", selector) : undefined,
        ...plainArgsProblems(args),
        args.maxUnavailable !== undefined ? positiveIntegerProblem("maxUnavailable", args.maxUnavailable) : undefined,
        args.maxNodesDownAtOnce !== undefined ? positiveIntegerProblem("maxNodesDownAtOnce", args.maxNodesDownAtOnce) : undefined,
        args.maxNodesDownPercent !== undefined ? percentProblem("maxNodesDownPercent", args.maxNodesDownPercent) : undefined,
        args.order !== undefined && args.order !== "declared" && args.order !== "name"
            ? `order must be "declared" or "name", got ${JSON.stringify(args.order)}`
            : undefined,
    ]);
}

/** The drain timeout as the plan's messages show it: stack config gives text ("15m"), programs may give seconds. */
function planTimeoutSeconds(timeout: unknown): number | undefined {
    if (typeof timeout === "number") return timeout;
    if (typeof timeout !== "string" || timeout === "") return undefined;
    try {
        return parseDuration(timeout);
    } catch {
        return undefined; // check() reports a malformed duration with a clear message
    }
}
