// The Kubernetes rules the product code shares (drain engine, planner, components, CLI, demo): one answer to
// "is this pod Ready", "which controller owns it", "does this selector match", "how much does it request",
// "how many disruptions does this budget allow", "is this node control plane", "can this pod go there",
// "does this kubelet run the target", "in which batches does the roll go".
// Pure functions of Kubernetes objects: no I/O, no client. The simulated cluster and the test oracles keep
// their own code on purpose: they are the referee.
export { isPodReady, controllerOf, isFinished, podKey } from "./pods";
export { parseLabelSelector, compileSelector, compileSelectorText, selectorMatches, requirementsMatch } from "./label-selector";
export type { Requirement, CompiledSelector } from "./label-selector";
export { parseQuantity, podRequests, nodeAllocatable, formatCpu, formatMemory } from "./resources";
export type { ResourceAmount, NodeAllocatable } from "./resources";
export {
    budgetKey,
    budgetNumbers,
    budgetIsStale,
    budgetAllowsDisruption,
    budgetMatchesPod,
    describeBudgetBlock,
    describeBudgetWait,
    budgetRule,
    desiredHealthy,
    countsAsHealthy,
} from "./pdb";
export type { BudgetNumbers, BudgetRule } from "./pdb";
export { CONTROL_PLANE_LABELS, WORKERS_SELECTOR, isControlPlaneLabels, isControlPlane } from "./control-plane";
export {
    isNodeReady,
    schedulingTaints,
    toleratesAll,
    matchesNodeConstraints,
    constraintLabelKeys,
    constraintSignature,
} from "./scheduling";
export { CORDONED_BY_ANNOTATION } from "./cordoned-by";
export { parseDuration, formatDuration, DurationError } from "./duration";
export { targetVersionProblem, parseKubeVersion, displayVersion, versionSatisfiesTarget } from "./version";
export { rollBatches, needsRoll } from "./roll-batches";
export type { RollCandidate, RollBatchOptions, RollBatches } from "./roll-batches";
