// What goes into a rehearsal and what comes out. The report holds only strings, numbers and booleans, so it
// prints as JSON as-is (`node-upgrade rehearse --json`). Every time in it is in simulated seconds, which are the
// predicted real seconds of the roll.
import type { ClusterSnapshot } from "../planner";
import type { DrainOptions } from "../drain";

/**
 * Drain options of the rehearsed roll: the drain engine's own (the component's `drain` options), with the
 * component's defaults: maxUnavailablePerWorkload 1 (the `drain` CLI's default is 0), and timeoutSeconds 600 (the
 * components' 10m; 0 = none), a limit in predicted (simulated) seconds. gracePeriodSeconds -1 (the default) is
 * each pod's own terminationGracePeriodSeconds. A rehearsal always evicts for real, so there is no dry run.
 */
export type RehearsalDrainOptions = Omit<DrainOptions, "dryRun" | "concurrency" | "safetyRecheckSeconds">;

/**
 * Pod start-up and shut-down times, per workload ("namespace/name" of a Deployment, StatefulSet or ReplicaSet)
 * or "default" for every workload. Seconds. Anything not given comes from the snapshot (see timings.ts).
 */
export interface TimingOverrides {
    startupSeconds?: Record<string, number>;
    shutdownSeconds?: Record<string, number>;
}

export interface RehearsalOptions {
    /** A snapshot file (`kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json`), or a snapshot already read. */
    snapshot: string | ClusterSnapshot;
    targetVersion: string;
    /** Exactly one of nodes / selector / all picks the nodes, as for `node-upgrade plan`. */
    nodes?: string[];
    selector?: string;
    all?: boolean;
    /** Workers drained at once (maxUnavailable). Default 1. */
    batchSize?: number;
    /** Default true. */
    controlPlaneFirst?: boolean;
    drain?: RehearsalDrainOptions;
    /** How long the upgrade command runs on a node (the SSH script), before its kubelet restarts. Default 60. */
    upgradeSeconds?: number;
    /** How long the node is NotReady while its kubelet restarts at the new version. Default 15. */
    restartSeconds?: number;
    /** The wait for Ready at the target (the components' readyTimeout). Default 900; 0 = none. */
    readyTimeoutSeconds?: number;
    /** How long a node must stay Ready before its uncordon (the components' soak). Default 0. */
    soakSeconds?: number;
    timings?: TimingOverrides;
    /**
     * Simulated seconds per real second while anything is in flight. Default 1: API requests and the controllers'
     * work then take their real time. Waits (grace periods, start-ups, the upgrade) are skipped over when
     * fastForward is on, whatever the scale.
     */
    timeScale?: number;
    /**
     * Jump the simulated clock over waits once nothing is in flight (no API traffic, no store write, the
     * controllers idle). Default true. false: the clock only runs at timeScale (a "real" roll at that speed).
     */
    fastForward?: boolean;
    /** Real milliseconds without any activity before the clock may jump. Default 3. */
    quietMs?: number;
    /**
     * Longest single jump, in simulated seconds: bounds the effect of the one kind of wait not on the simulated
     * clock, a real-time back-off of the drain engine. Default 60.
     */
    maxJumpSeconds?: number;
    /** One line per step as the roll goes (for a CLI's progress output). */
    onProgress?: (line: string) => void;
    signal?: AbortSignal;
}

export type StepName = "cordon" | "drain" | "upgrade" | "ready" | "soak" | "uncordon";

/** What a drain waited on, from its progress events. */
export interface WaitReport {
    kind: "budget" | "workload";
    /** "PodDisruptionBudget default/web-pdb" or "Deployment default/http-go". */
    name: string;
    /** Pods that waited on it. */
    pods: number;
    /** The longest wait of one pod, seconds. */
    longestSeconds: number;
    /** From the first pod that waited to the last pod it released, seconds. */
    spanSeconds: number;
}

export interface NodeReport {
    node: string;
    batch: number;
    controlPlane: boolean;
    versionBefore?: string;
    /**
     * done: uncordoned at the target. failed: this node stops the roll. stopped: it finished the step it was in
     * after another node of its batch failed, then nothing more ran (as `pulumi up` does). notReached: a later batch.
     */
    status: "done" | "failed" | "stopped" | "notReached";
    /** Seconds from the start of the roll to this node's cordon. */
    startSeconds?: number;
    cordonSeconds?: number;
    drainSeconds?: number;
    upgradeSeconds?: number;
    readySeconds?: number;
    soakSeconds?: number;
    uncordonSeconds?: number;
    /** Cordon to uncordon (or to the end of its last step). */
    totalSeconds?: number;
    evicted: string[];
    waitedOn: WaitReport[];
    /** The planner's verdict for this node (ok, waits, blocked, skip), for comparison. */
    planVerdict?: string;
    warnings: string[];
    /** The step that failed and why (status failed), or the step it stopped after (status stopped). */
    failedStep?: StepName;
    error?: string;
    remaining?: { pod: string; reason: string }[];
}

export interface WorkloadReport {
    kind: "Deployment" | "StatefulSet" | "ReplicaSet";
    namespace: string;
    name: string;
    replicas: number;
    /** Ready, not terminating replicas when the roll started. */
    readyAtStart: number;
    /** The lowest number of Ready, not terminating replicas during the roll. */
    minReady: number;
    /** When minReady was first reached, seconds from the start; and the nodes being rolled then, with their step ("worker1 drain"). */
    minReadyAtSeconds?: number;
    minReadyDuring?: string[];
    /** The PodDisruptionBudget that covers it, with its minimum (status.desiredHealthy). */
    budget?: { name: string; desiredHealthy: number; rule: string };
    /** minReady - desiredHealthy (negative: the budget was broken). */
    marginOverBudget?: number;
    /** Seconds its pods take to become Ready after they start, and to go away after their eviction, and why. */
    startupSeconds: number;
    startupFrom: string;
    shutdownSeconds: number;
    shutdownFrom: string;
}

export interface RehearsalStop {
    node: string;
    step: StepName;
    /** One line: why. */
    reason: string;
    /** Seconds from the start when it failed. */
    atSeconds: number;
}

export interface RehearsalReport {
    targetVersion: string;
    batchSize: number;
    /** The batches `pulumi up` runs, as the planner (planRoll) makes them. */
    batches: string[][];
    skipped: { node: string; reason: string }[];
    /** True when every node would be upgraded and uncordoned. */
    completed: boolean;
    /** Where and why the roll would stop. */
    stop?: RehearsalStop;
    /** Predicted duration of the roll (to its last step, or to the end of the steps in flight when it stops). */
    totalSeconds: number;
    nodes: NodeReport[];
    /** Workloads whose pods were on rolled nodes, least margin first. */
    workloads: WorkloadReport[];
    /** The model's assumptions and the defaults used (printed under the tables). */
    assumptions: string[];
    warnings: string[];
    simulation: {
        timeScale: number;
        fastForward: boolean;
        /** Real seconds the rehearsal took. */
        realSeconds: number;
        /** Clock jumps made. */
        jumps: number;
        nodes: number;
        pods: number;
        upgradeSeconds: number;
        restartSeconds: number;
        drainTimeoutSeconds: number;
        readyTimeoutSeconds: number;
        soakSeconds: number;
        maxUnavailablePerWorkload: number;
    };
}

/** Bad options or an unusable snapshot (the CLI's exit code 1). */
export class RehearsalInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RehearsalInputError";
    }
}
