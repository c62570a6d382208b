// The read-only roll planner: what a node-by-node upgrade would do, computed from a cluster snapshot.
export { planRoll } from "./plan-roll";
export { formatPlan, formatNodePlan } from "./format";
export { snapshotFromCluster, snapshotFromFile, snapshotFromText, emptySnapshot } from "./snapshot";
export * as types from "./types";
export type {
    ClusterSnapshot,
    RollSpec,
    RollPlan,
    NodePlan,
    NodeVerdict,
    PlannedEviction,
    SkippedPod,
    BlockedPod,
    WaitingPod,
    BudgetReport,
    CapacityReport,
    VersionReport,
    ResourceAmount,
    ApiServerVersionSource,
} from "./types";
export { PlanInputError } from "./types";
