// Safe in a shared cluster, as component arguments: the roll lock (a Lease, on by default), kured's lock,
// health gates and a maintenance window. Program side: validates the arguments and turns them into the plain
// options the cordon and uncordon steps hand to shared-cluster/ (../shared-cluster/README.md).
//
// The lock is taken before each node's cordon and released after its uncordon (while a batch of several nodes
// is down, it is held until the last of them is uncordoned). Between two nodes of our roll it is free, so kured
// or another roll can take a turn instead of waiting for our whole roll; a node whose chain fails keeps it
// while `pulumi up` runs and, since nobody renews it after that, for one TTL (60 s) more.
import type * as SharedCluster from "../shared-cluster";
import type { GateSpec, MaintenanceWindowSpec, SharedClusterOptions } from "../shared-cluster";
import { parseDuration } from "../kube-rules";
import { loadCompiled } from "./package-root";
import { durationSeconds } from "./validate";

export interface SharedClusterArgs {
    /**
     * The roll lock: a coordination.k8s.io/v1 Lease (default kube-system/node-upgrade) that every node-upgrade roll
     * takes before a cordon. Default on. `false` turns it off; `timeout` ("10m") waits that long for another
     * holder (default 0: fail at once, naming the holder, before anything is cordoned).
     */
    lock?: boolean | { namespace?: string; name?: string; timeout?: string | number; leaseDurationSeconds?: number };
    /**
     * kured's lock (the `weave.works/kured-node-lock` annotation on DaemonSet kube-system/kured). Default
     * "wait": while kured reboots a node we wait (up to `timeout`); without a kured DaemonSet it is a no-op. "take"
     * also takes kured's lock in kured's own format while we roll (needs the optional kured Role of
     * deploy/rbac.yaml). `false`: ignore kured.
     */
    kuredLock?:
        | false
        | "wait"
        | "take"
        | { mode?: "wait" | "take"; namespace?: string; daemonSet?: string; annotation?: string; timeout?: string | number };
    /** Health gates checked before each node's cordon: blocking pods, Prometheus alerts or a query, a command. */
    gates?: GateSpec[];
    /** How long a gate may block before the roll stops ("10m"). Default 0: stop at once, naming what blocks. */
    gatesTimeout?: string | number;
    /** Nodes start only inside it: "mon-fri 22:00-04:00 Europe/Berlin" or { days, start, end, timeZone }. */
    maintenanceWindow?: string | MaintenanceWindowSpec;
}

/** A duration argument, through the same rule as every other duration of the components. */
const seconds = (what: string, v: string | number | undefined, problems: string[]): number | undefined => {
    if (v === undefined || v === "") return undefined;
    const r = durationSeconds(what, v, parseDuration);
    if (r.problem) problems.push(r.problem);
    return r.seconds;
};

/**
 * The steps' options (plain JSON, stored with the cordon and uncordon steps as a setting: changing it never
 * re-runs a node), or the problems with the arguments. The holder identity is made in the step (user, host and
 * process of the `pulumi up` that holds the lock), from `stack` ("project/stack").
 */
export function sharedClusterOptions(args: SharedClusterArgs | undefined): { options: SharedClusterOptions; problems: string[] } {
    const problems: string[] = [];
    const a = args ?? {};
    const options: SharedClusterOptions = {};
    if (a.lock !== false) {
        const lock = typeof a.lock === "object" ? a.lock : {};
        const timeout = seconds("sharedCluster.lock.timeout", lock.timeout, problems);
        options.lock = {
            ...(lock.namespace ? { namespace: lock.namespace } : {}),
            ...(lock.name ? { name: lock.name } : {}),
            ...(lock.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: lock.leaseDurationSeconds } : {}),
            ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
        };
    }
    if (a.kuredLock !== false) {
        const k = typeof a.kuredLock === "object" ? a.kuredLock : { mode: a.kuredLock ?? "wait" };
        if (k.mode !== undefined && k.mode !== "wait" && k.mode !== "take")
            problems.push(`sharedCluster.kuredLock: "${String(k.mode)}" is not one of false, "wait", "take"`);
        const timeout = seconds("sharedCluster.kuredLock.timeout", k.timeout, problems);
        options.kuredLock = {
            take: k.mode === "take",
            ...(k.namespace ? { namespace: k.namespace } : {}),
            ...(k.daemonSet ? { daemonSet: k.daemonSet } : {}),
            ...(k.annotation ? { annotation: k.annotation } : {}),
            ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
        };
    }
    if (a.gates?.length) options.gates = a.gates;
    const gatesTimeout = seconds("sharedCluster.gatesTimeout", a.gatesTimeout, problems);
    if (gatesTimeout) options.gatesTimeoutMs = gatesTimeout * 1000;
    if (a.maintenanceWindow !== undefined && a.maintenanceWindow !== "") options.window = a.maintenanceWindow;
    problems.push(...sharedClusterProblems(options));
    return { options, problems };
}

/**
 * shared-cluster's one validation of the options (window, names, selectors, URLs, regexps, commands), as
 * "sharedCluster window: …" lines; [] when fine or when nothing is enabled. Run where the options enter: at the
 * construction of NodeUpgrade (and so of every roll) and of a NodeCordon given them directly, so preview fails
 * on them before any node.
 */
export function sharedClusterProblems(o: SharedClusterOptions | undefined): string[] {
    if (!sharedClusterEnabled(o)) return [];
    const sc = loadCompiled<typeof SharedCluster>("shared-cluster/index.js");
    return sc.validateSharedClusterOptions(o).map((p) => `sharedCluster ${p}`);
}

/** Whether the options ask for anything at all (a roll with everything off sends no extra request). */
export function sharedClusterEnabled(o: SharedClusterOptions | undefined): o is SharedClusterOptions {
    if (!o) return false;
    return !!(o.lock || o.kuredLock || o.gates?.length || o.window !== undefined);
}
