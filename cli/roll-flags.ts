// One definition of each flag that more than one command takes (drain, plan, rehearse, cordon, uncordon, wait): its
// name, its help, how its value is parsed and checked, its default. A command picks the flags it takes, so a flag
// cannot mean different things in two commands; drainOptionsFrom (options.ts) turns the parsed drain flags into the
// drain engine's options for all three.
import { Option, type Command } from "commander";
import { DEFAULT_DRAIN_TIMEOUT_SECONDS } from "../drain";
import { formatDuration } from "../kube-rules";
import { dryRunFlag, durationFlag, intFlag, podSelectorFlag, selectorFlag, targetVersionFlag } from "./options";

const DEFINITIONS = {
    // Which nodes, in which batches.
    selector: () => new Option("-l, --selector <selector>", "label selector to pick the nodes").argParser(selectorFlag),
    all: () => new Option("--all", "roll every node of the cluster (or of the snapshot)"),
    snapshot: () =>
        new Option("--snapshot <file>", "read the cluster from a file: kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json > FILE"),
    "target-version": () =>
        new Option(
            "--target-version <version>",
            "kubelet version to upgrade to, e.g. v1.30.2 (nodes already there are skipped; version skew is checked)",
        ).argParser(targetVersionFlag("--target-version")),
    "batch-size": () =>
        new Option("--batch-size <n>", "workers drained at once (maxUnavailable); control-plane nodes go one at a time")
            .argParser(intFlag("--batch-size", 1))
            .default(1),
    "no-control-plane-first": () =>
        new Option("--no-control-plane-first", "keep the given order instead of putting control-plane nodes first"),

    // kubectl drain's flags.
    force: () => new Option("--force", "continue even if there are pods that do not declare a controller"),
    "ignore-daemonsets": () => new Option("--ignore-daemonsets", "ignore DaemonSet-managed pods"),
    "delete-emptydir-data": () =>
        new Option(
            "--delete-emptydir-data",
            "continue even if there are pods using emptyDir (local data that will be deleted when the node is drained)",
        ),
    "grace-period": () =>
        new Option("--grace-period <seconds>", "seconds given to each pod to terminate gracefully; negative = the pod's own value")
            .argParser(intFlag("--grace-period"))
            .default(-1),
    timeout: () =>
        new Option(
            "--timeout <duration>",
            `how long each node's drain may take before giving up, as a Go duration (30s, 5m, 1h2m); 0 = forever (default ${formatDuration(DEFAULT_DRAIN_TIMEOUT_SECONDS)})`,
        ).argParser(durationFlag("--timeout")),
    "pod-selector": () => new Option("--pod-selector <selector>", "label selector to filter pods on the node").argParser(podSelectorFlag),
    "disable-eviction": () =>
        new Option("--disable-eviction", "delete pods instead of evicting them, bypassing PodDisruptionBudgets (use with caution)"),
    "skip-wait-for-delete-timeout": () =>
        new Option(
            "--skip-wait-for-delete-timeout <seconds>",
            "if a pod's DeletionTimestamp is older than N seconds, stop waiting for it (0 = never)",
        )
            .argParser(intFlag("--skip-wait-for-delete-timeout", 0))
            .default(0),
    "chunk-size": () =>
        new Option("--chunk-size <n>", "list pods in chunks of this size; 0 disables chunking")
            .argParser(intFlag("--chunk-size", 0))
            .default(500),
    "dry-run": () => new Option("--dry-run [strategy]", 'one of "none", "server", "client"').argParser((v: string) => dryRunFlag(v)),
    "max-unavailable-per-workload": () =>
        new Option(
            "--max-unavailable-per-workload <n>",
            "not in kubectl: keep at most N pods of each Deployment/StatefulSet/ReplicationController without a PodDisruptionBudget unavailable, evicting the next one once a replacement is Ready elsewhere (0 = off, kubectl's behaviour)",
        )
            .argParser(intFlag("--max-unavailable-per-workload", 0))
            .default(0),
} satisfies Record<string, () => Option>;

export type SharedFlag = keyof typeof DEFINITIONS;

/** The drain engine's flags, in `kubectl drain --help` order. */
export const DRAIN_ENGINE_FLAGS = [
    "force",
    "ignore-daemonsets",
    "delete-emptydir-data",
    "grace-period",
    "timeout",
    "pod-selector",
    "disable-eviction",
    "skip-wait-for-delete-timeout",
    "chunk-size",
    "dry-run",
    "max-unavailable-per-workload",
] as const satisfies readonly SharedFlag[];

/** The flags that pick a roll's nodes and batches from a cluster or a snapshot (plan, rehearse). */
export interface RollFlags {
    all?: boolean;
    selector?: string;
    snapshot?: string;
    targetVersion?: string;
    batchSize?: number;
    controlPlaneFirst?: boolean;
}

export const ROLL_FLAGS = [
    "all",
    "selector",
    "snapshot",
    "target-version",
    "batch-size",
    "no-control-plane-first",
] as const satisfies readonly SharedFlag[];

/**
 * Adds the named flags to `cmd`, in the order given. `defaults` sets a command's own default where commands
 * differ on purpose: `drain` keeps kubectl's (--max-unavailable-per-workload 0), `rehearse` the components'
 * (1). The help shows it, with its reason.
 */
export function addFlags(
    cmd: Command,
    names: readonly SharedFlag[],
    defaults: Partial<Record<SharedFlag, { value: unknown; why: string }>> = {},
): Command {
    for (const name of names) {
        const option = DEFINITIONS[name]();
        const d = defaults[name];
        if (d) option.default(d.value, `${String(d.value)}, ${d.why}`);
        cmd.addOption(option);
    }
    return cmd;
}
