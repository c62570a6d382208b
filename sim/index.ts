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
