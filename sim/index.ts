// Public entry point of the simulated Kubernetes cluster. See sim/README.md.

export { startCluster, writeFileAtomic } from "./cluster";
export type { StartClusterOptions, SimCluster, FaultInjectorApi } from "./cluster";
export { FaultInjector } from "./faults";
export type { FaultRule, FaultType } from "./faults";
export type { RequestLogEntry } from "./apiserver/server";
export type { StoreEvent } from "./apiserver/store";
export { clusterRoleRules, clusterRoleRulesFromFile } from "./apiserver/rbac";
export type { PolicyRule } from "./apiserver/rbac";
export { KNOB_PREFIX } from "./controllers/controller";
export { normalizeVersion } from "./controllers/node-upgrade";
export { PDB_BLOCKED_NODE, PDB_BLOCKING_PDB } from "./scenarios/pdb";
// Builders of already-running objects, for programs that write scenario files (bench/drain.ts).
export { Prng } from "./random";
export {
    buildBaseCluster,
    buildNamespace,
    buildNode,
    buildDaemonSet,
    buildDeployment,
    buildPdb,
    buildStatefulSet,
    workerNodeSpecs,
} from "./scenarios/builders";
export type {
    BaseCluster,
    BaseClusterOptions,
    BuildContext,
    NodeSpec,
    DeploymentSpec,
    DaemonSetSpec,
    StatefulSetSpec,
    PlacedPod,
    PodTemplateOptions,
} from "./scenarios/builders";
