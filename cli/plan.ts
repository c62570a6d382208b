// node-upgrade plan [NODE...]: what a roll would do, node by node, before anything is touched.
// Reads the cluster (GET/LIST only) or a snapshot file, runs the planner, prints the plan.
// Exit code: 0 when every node is ok or only waits on budgets, 2 when the roll would stop, 1 on errors.
// With the shared-cluster flags (--lock, gates, --maintenance-window) it first reports, read only, what a drain
// would meet now; a held lock, a blocking gate or a closed window also make the exit code 2.
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import {
    formatNodePlan,
    formatPlan,
    planRoll,
    snapshotFromCluster,
    snapshotFromFile,
    PlanInputError,
    type ClusterSnapshot,
    type RollPlan,
    type RollSpec,
} from "../planner";
import { startNowLine, type RollPreflight } from "../shared-cluster";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, type GlobalFlags } from "./common";
import { drainOptionsFrom, targetVersionFlag, type DrainFlags } from "./options";
import { addFlags, ROLL_FLAGS, type RollFlags } from "./roll-flags";
import {
    addSharedClusterFlags,
    formatPlanPreflight,
    needsCluster,
    planPreflight,
    sharedClusterHelp,
    sharedClusterOptionsFrom,
    type SharedClusterFlags,
} from "./shared-cluster";

/** The drain flags a plan reads (the rest only change how a drain runs, not what it does). */
const PLAN_DRAIN_FLAGS = [
    "force",
    "ignore-daemonsets",
    "delete-emptydir-data",
    "pod-selector",
    "disable-eviction",
    "timeout",
    "skip-wait-for-delete-timeout",
    "max-unavailable-per-workload",
] as const;

export interface PlanFlags
    extends
        GlobalFlags,
        SharedClusterFlags,
        RollFlags,
        Pick<
            DrainFlags,
            | "force"
            | "ignoreDaemonsets"
            | "deleteEmptydirData"
            | "podSelector"
            | "disableEviction"
            | "timeout"
            | "skipWaitForDeleteTimeout"
            | "maxUnavailablePerWorkload"
        > {
    json?: boolean;
}

export const EXIT_ROLL_STOPS = 2;

/** Flags → RollSpec (the planner validates the combination). */
export function rollSpecFrom(names: string[], flags: PlanFlags): RollSpec {
    return {
        nodes: names.length > 0 ? names : undefined,
        selector: flags.selector,
        all: flags.all,
        batchSize: flags.batchSize,
        controlPlaneFirst: flags.controlPlaneFirst ?? true,
        targetVersion: flags.targetVersion,
        drain: drainOptionsFrom(flags),
    };
}

async function loadSnapshot(flags: PlanFlags): Promise<ClusterSnapshot> {
    if (flags.snapshot) {
        if (flags.kubeconfig || flags.context) throw new CliError("give either --snapshot or --kubeconfig/--context, not both");
        try {
            return snapshotFromFile(flags.snapshot);
        } catch (err) {
            throw new CliError(`cannot read snapshot ${flags.snapshot}: ${errorText(err)}`);
        }
    }
    const kc = kubeConfigFrom(flags);
    try {
        return await snapshotFromCluster(kc);
    } catch (err) {
        // The planner reads through the drain engine's client, whose errors already name the server (and, for a
        // 401, the kubeconfig and context).
        throw new CliError(`cannot list the cluster's nodes, pods, workloads and PodDisruptionBudgets: ${errorText(err)}`);
    }
}

/** The plan's text with the shared-cluster report first and a "start now" line under each node. */
function withPreflight(plan: RollPlan, text: string, pre: RollPreflight): string {
    for (const n of pre.nodes) {
        const node = plan.nodes.find((p) => p.node === n.node)!;
        const block = formatNodePlan(node);
        text = text.replace(block, () => `${block}\n      ${startNowLine(n)}`);
    }
    return `${formatPlanPreflight(pre)}\n${text}`;
}

/** Plans and renders; the caller prints. Throws CliError (exit 1) for bad arguments or an unreadable cluster. */
export async function runPlan(
    names: string[],
    flags: PlanFlags,
    load = loadSnapshot,
    clusterFor: (flags: PlanFlags) => KubeConfig | undefined = (f) => (f.snapshot ? undefined : kubeConfigFrom(f)),
): Promise<{ plan: RollPlan; output: string; exitCode: number; sharedCluster?: RollPreflight }> {
    const spec = rollSpecFrom(names, flags); // cheap checks first, before any request
    if (!spec.nodes && !spec.selector && !spec.all) throw new CliError("name the nodes to plan, or give -l/--selector, or --all");
    if (flags.targetVersion !== undefined) {
        try {
            targetVersionFlag("--target-version")(flags.targetVersion); // for callers that skip commander
        } catch (err) {
            throw new CliError((err as Error).message);
        }
    }
    const shared = sharedClusterOptionsFrom(flags, "plan");
    if (shared && flags.snapshot && needsCluster(shared).length)
        throw new CliError(`${needsCluster(shared).join(", ")} read the cluster: drop --snapshot to use them`);
    const snapshot = await load(flags);
    let plan: RollPlan;
    try {
        plan = planRoll(snapshot, spec);
    } catch (err) {
        if (err instanceof PlanInputError) throw new CliError(err.message);
        throw err;
    }
    if (!shared) {
        const output = flags.json ? JSON.stringify(plan, null, 2) : formatPlan(plan);
        return { plan, output, exitCode: plan.stopsAt ? EXIT_ROLL_STOPS : 0 };
    }
    // Read only, and only the nodes the roll would reach with work to do.
    const pre = await planPreflight(
        clusterFor(flags),
        shared,
        plan.nodes.filter((n) => n.verdict !== "skip").map((n) => n.node),
    );
    const output = flags.json ? JSON.stringify({ ...plan, sharedCluster: pre }, null, 2) : withPreflight(plan, formatPlan(plan), pre);
    return { plan, output, exitCode: plan.stopsAt || !pre.ok ? EXIT_ROLL_STOPS : 0, sharedCluster: pre };
}

export function registerPlanCommand(program: Command): void {
    const cmd = program
        .command("plan")
        .argument("[nodes...]", "nodes to roll, in order (control-plane nodes still go first)")
        .description(
            "Show what rolling the nodes would do, node by node, without changing anything: pods evicted, skipped or " +
                "blocking, PodDisruptionBudget outcomes simulated across the whole roll, room for replacements, version " +
                "skew, and the node where the roll would stop. Exit code 0: the roll completes; 2: it would stop (or, with the " +
                "shared-cluster flags, would not start now); 1: error.",
        );
    // Pacing defaults to what `pulumi up` does (and preview plans with), so plan and preview give the same verdicts.
    addFlags(cmd, [...ROLL_FLAGS, ...PLAN_DRAIN_FLAGS], {
        "max-unavailable-per-workload": { value: 1, why: "as pulumi up; 0 plans a kubectl-style node-upgrade drain" },
    }).option("--json", "print the plan as JSON");
    addSharedClusterFlags(cmd, "plan").addHelpText("after", sharedClusterHelp("plan"));
    addGlobalFlags(cmd).action(async (names: string[], flags: PlanFlags) => {
        const { output, exitCode, plan } = await runPlan(names, flags);
        process.stdout.write(output + "\n");
        if (exitCode !== 0)
            throw new CliError(
                plan.stopsAt ? `the roll would stop at node ${plan.stopsAt}` : "the roll would not start now",
                exitCode,
                true,
            );
    });
}
