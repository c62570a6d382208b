// Public API of the drain engine: kubectl's cordon / drain / uncordon, natively on @kubernetes/client-node.
export * from "./types";
export { classifyPod, classifyPods, MESSAGES } from "./filters";
export { loadKubeConfig, clientFor, KubeConfigError, type KubeConfigSource } from "./kube-client";
export { cordon, uncordon, CORDONED_BY_ANNOTATION, type CordonOptions, type UncordonOptions, type DryRun } from "./cordon";
export { drain, DEFAULT_CONCURRENCY, type DrainCallOptions } from "./drain";
export { listPodsOnNode, listEvery, type PageCall } from "./list-pods";
export { planDrain } from "./plan-drain";
export {
    waitForNode,
    kubeletVersionMatches,
    NodeWaitError,
    DEFAULT_NODE_WAIT_TIMEOUT_SECONDS,
    type WaitForNodeOptions,
} from "./wait-for-node";
export { readNode, listNodes, readServerVersion, type NodeInfo } from "./node-info";
export { formatProgress } from "./progress-format";
export { isPaced, decideEviction, describeWorkloadWait, pacedWorkloadOf, readyReplicas as workloadReadyReplicas } from "./workload-pacing";
export {
    errorMessage,
    isObjectNotFound,
    toApiFailure,
    isTransient,
    isAccessDenied,
    describeFailure,
    KubeApiError,
    NETWORK_WORDS,
    redactUrl,
    type ApiFailure,
} from "./api-errors";
export { sleep } from "./retry";
