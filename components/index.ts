// Public API of pulumi-node-upgrade: Pulumi components that roll Kubernetes node upgrades.
// Only what a program uses is exported here: the components, their Args and reports, and the documented helpers.
// Everything else (shell quoting, input validation, the package-root lookup) is internal and may change.
export { NodeUpgrade, DEFAULT_REBOOT_COMMAND } from "./node-upgrade";
export type { NodeUpgradeArgs, NodeUpgradeReport, SshArgs, BeforeDrainHook, BeforeDrainContext } from "./node-upgrade";
export { RollingNodeUpgrade } from "./rolling-node-upgrade";
export type { RollingNodeUpgradeArgs, RollingNodeUpgradeReport } from "./rolling-node-upgrade";
// Safe in a shared cluster: the roll lock, kured's lock, health gates and a maintenance window.
export type { SharedClusterArgs } from "./shared-cluster-args";
export type { GateSpec, MaintenanceWindowSpec } from "../shared-cluster";
// The step resources, and the provider objects Pulumi stores for them (as a require() of this package).
export { NodeCordon, nodeCordonProvider } from "./node-cordon";
export type { NodeCordonArgs } from "./node-cordon";
export { NodeDrain, nodeDrainProvider } from "./node-drain";
export type { NodeDrainArgs, DrainArgs } from "./node-drain";
export { NodeReady, nodeReadyProvider } from "./node-ready";
export type { NodeReadyArgs } from "./node-ready";
export { NodeUncordon, nodeUncordonProvider } from "./node-uncordon";
export type { NodeUncordonArgs } from "./node-uncordon";
export type { NodeStepArgs } from "./node-step";
// The root program's logic: stack configuration → RollingNodeUpgrade.
export { rollFromConfig } from "./from-config";
export type { RollFromConfig, RollFromConfigOptions } from "./from-config";
// Helpers: the blast-radius guard, the roll batches (the same function preview and up use), version checks.
export { blastRadiusProblem, allowedDownAtOnce } from "./roll-order";
export type { BlastRadius } from "./roll-order";
export { rollBatches, needsRoll, WORKERS_SELECTOR, versionSatisfiesTarget } from "../kube-rules";
export type { RollCandidate, RollBatchOptions, RollBatches } from "../kube-rules";
// Reading the cluster at program time (nodes, and the planner's per-node plan shown in preview).
export { kubeClusterReader } from "./cluster-reader";
export type { ClusterReader, PlanRequest } from "./cluster-reader";
export type { NodeInfo } from "./engine-contract";
