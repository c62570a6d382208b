// The Kubernetes rules the product code shares (drain engine, planner, components, CLI, demo): one answer to
// "is this node control plane", "does this kubelet run the target", "in which batches does the roll go".
// The simulated cluster and the test oracles keep their own code on purpose: they are the referee.
export { CONTROL_PLANE_LABELS, WORKERS_SELECTOR, isControlPlaneLabels } from "./control-plane";
export { targetVersionProblem, parseKubeVersion, displayVersion, versionSatisfiesTarget } from "./version";
export { rollBatches, needsRoll } from "./roll-batches";
export type { RollCandidate, RollBatchOptions, RollBatches } from "./roll-batches";
