// Reads the cluster at program time (also in preview): listing nodes for a selector, finding control-plane
// nodes and InternalIPs, and the roll plan shown in preview. It goes through the compiled drain engine and
// planner (both ship in the package). Tests inject their own reader instead (mocks cannot intercept these calls).
import type { KubeConfigSource, NodeInfo, DrainEngine, PlannerModule } from "./engine-contract";
import type { DrainOptions } from "../drain";
import type { SharedClusterOptions } from "../shared-cluster";
import { loadCompiled } from "./package-root";

export interface PlanRequest {
    /** Nodes in roll order. */
    nodes: string[];
    batchSize: number;
    /** As RollingNodeUpgrade's option: the planner batches with the same rule (kube-rules' rollBatches). */
    controlPlaneFirst?: boolean;
    skipNodesAtTarget?: boolean;
    targetVersion: string;
    drain: DrainOptions;
}

/** What preview shows of the shared-cluster checks: the report's lines, and a "start now" line per node. */
export interface PreflightSummary {
    ok: boolean;
    lines: string[];
    nodes: { node: string; startNow: boolean; line: string }[];
}

export interface ClusterReader {
    listNodes(labelSelector?: string): Promise<NodeInfo[]>;
    readNode(name: string): Promise<NodeInfo>;
    /**
     * Text blocks describing what the roll will do to each node, in roll order (read-only). A reader may
     * leave this out (or return undefined), and then preview logs no plan.
     */
    planRoll?(request: PlanRequest): Promise<{ node: string; text: string; verdict?: string }[] | undefined>;
    /**
     * Read-only: who holds the roll lock and kured's lock now, which gates would block now, whether the window is
     * open (`lines`), and for each node whether it would start now (shared-cluster's rollPreflight). Left out by
     * readers that cannot tell.
     */
    preflight?(options: SharedClusterOptions, nodes: string[]): Promise<PreflightSummary>;
}

/** A ClusterReader backed by the compiled drain engine and planner. */
export function kubeClusterReader(source: KubeConfigSource): ClusterReader {
    const engine = () => loadCompiled<DrainEngine>("drain/index.js");
    const kc = () => engine().loadKubeConfig(source);
    return {
        listNodes: (labelSelector) => engine().listNodes(kc(), labelSelector),
        readNode: (name) => engine().readNode(kc(), name),
        async preflight(options, nodes) {
            const sc = loadCompiled<typeof import("../shared-cluster")>("shared-cluster/index.js");
            const r = await sc.rollPreflight(kc(), options, nodes, { runCheckCommands: true });
            return {
                ok: r.ok,
                lines: sc.formatPreflight(r.report),
                nodes: r.nodes.map((n) => ({ node: n.node, startNow: n.startNow, line: sc.startNowLine(n) })),
            };
        },
        async planRoll(request) {
            const planner = loadCompiled<PlannerModule>("planner/index.js");
            let snapshot: unknown;
            try {
                snapshot = await planner.snapshotFromCluster(kc());
            } catch (err) {
                throw new Error(`reading the cluster for the plan: ${engine().errorMessage(err)}`);
            }
            const plan = planner.planRoll(snapshot, {
                nodes: request.nodes,
                batchSize: request.batchSize,
                controlPlaneFirst: request.controlPlaneFirst ?? true,
                targetVersion: request.targetVersion,
                drain: request.drain,
                skipNodesAtTarget: request.skipNodesAtTarget ?? true,
            }) as { nodes: { node: string; verdict: string }[] };
            const byName = new Map(plan.nodes.map((p) => [p.node, p]));
            return request.nodes
                .filter((n) => byName.has(n))
                .map((n) => ({ node: n, text: planner.formatNodePlan(byName.get(n)), verdict: byName.get(n)!.verdict }));
        },
    };
}
