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
     * open, for the first node to roll (shared-cluster's preflight). Left out by readers that cannot tell.
     */
    preflight?(options: SharedClusterOptions, node: string): Promise<{ ok: boolean; lines: string[] }>;
}

/** A ClusterReader backed by the compiled drain engine and planner. */
export function kubeClusterReader(source: KubeConfigSource): ClusterReader {
    const engine = () => loadCompiled<DrainEngine>("drain/index.js");
    const kc = () => engine().loadKubeConfig(source);
    return {
        listNodes: (labelSelector) => engine().listNodes(kc(), labelSelector),
        readNode: (name) => engine().readNode(kc(), name),
        async preflight(options, node) {
            const sc = loadCompiled<typeof import("../shared-cluster")>("shared-cluster/index.js");
            const report = await sc.preflight(kc(), options, node, { runCheckCommands: true });
            return { ok: report.ok, lines: sc.formatPreflight(report) };
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
