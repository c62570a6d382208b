// node-upgrade drain NODE... : kubectl drain's flags and flow (cordon every node first, then drain them one by
// one, carry on after a failed node, list the nodes left at the end), on the native drain engine.
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { cordon, drain, DrainError } from "../drain";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, resolveNodes, type GlobalFlags } from "./common";
import { DrainFlags, drainOptionsFrom } from "./options";
import { progressPrinter, stdio, type Printer } from "./output";
import { addFlags, DRAIN_ENGINE_FLAGS } from "./roll-flags";
import {
    addSharedClusterFlags,
    finishSharedCluster,
    sharedClusterHelp,
    sharedClusterOptionsFrom,
    startSharedCluster,
    type SharedClusterFlags,
} from "./shared-cluster";
import type { SharedClusterSession } from "../shared-cluster";

interface Flags extends DrainFlags, GlobalFlags, SharedClusterFlags {
    selector?: string;
    verbose?: boolean;
}

/** kubectl's aggregate formatting: one error as is, several as "[a, b]". */
function aggregate(lines: string[]): string {
    return lines.length === 1 ? lines[0] : `[${lines.join(", ")}]`;
}

function reportFailure(p: Printer, node: string, err: unknown): void {
    if (err instanceof DrainError && err.kind === "blocked") {
        // Same words as kubectl; nothing was evicted.
        p.err(`error: unable to drain node "${node}" due to error: ${aggregate(err.message.split("\n"))}, continuing command...`);
        return;
    }
    if (err instanceof DrainError && err.remaining.length > 0) {
        p.err(`There are pending pods in node "${node}" when an error occurred:`);
        for (const r of err.remaining) p.err(`pod/${r.pod.slice(r.pod.indexOf("/") + 1)}`);
    }
    p.err(`error: unable to drain node "${node}": ${errorText(err)}`);
}

export interface NodeFailure {
    node: string;
    /** The node was cordoned (its drain failed): it stays cordoned. */
    cordoned?: boolean;
    /** Lines for the final summary (kubectl prints an aggregate's errors one per line). */
    lines: string[];
}

export async function runDrain(
    kc: KubeConfig,
    nodes: string[],
    flags: Flags,
    p: Printer = stdio,
    signal?: AbortSignal,
    /** The shared-cluster session (--lock): a lost lock stops before the next node's drain. */
    session?: { assertHeld(): void },
): Promise<NodeFailure[]> {
    const opts = drainOptionsFrom(flags);
    const failed: NodeFailure[] = [];
    const cordonFailed = new Set<string>();
    // Like kubectl: cordon every selected node first, in order.
    for (const node of nodes) {
        try {
            await cordon(kc, node, { onProgress: progressPrinter(p), dryRun: opts.dryRun, signal });
        } catch (err) {
            const msg = `unable to cordon node "${node}": ${errorText(err).replace(/^unable to cordon node "[^"]*": /, "")}`;
            p.err(`error: ${msg}`);
            cordonFailed.add(node);
            failed.push({ node, lines: [msg] });
        }
    }
    for (const node of nodes) {
        // Unlike kubectl, a node we could not cordon is not drained: its pods could be scheduled straight back.
        if (cordonFailed.has(node)) continue;
        if (signal?.aborted) {
            failed.push({ node, cordoned: true, lines: [`drain of node "${node}" was cancelled`] });
            continue;
        }
        try {
            session?.assertHeld();
        } catch (err) {
            const msg = `not draining node "${node}": ${errorText(err)}`;
            p.err(`error: ${msg}`);
            failed.push({ node, cordoned: true, lines: [msg] });
            continue;
        }
        try {
            await drain(kc, node, { ...opts, onProgress: progressPrinter(p, { hideCordon: true, verbose: flags.verbose }), signal });
        } catch (err) {
            reportFailure(p, node, err);
            failed.push({
                node,
                cordoned: true,
                lines:
                    err instanceof DrainError && err.kind === "blocked"
                        ? err.message.split("\n")
                        : [errorText(err).split("\n")[0].replace(/:$/, "")],
            });
        }
    }
    return failed;
}

export function registerDrainCommand(program: Command): void {
    const cmd = program
        .command("drain [nodes...]")
        .description("Cordon nodes and evict their pods, honouring PodDisruptionBudgets (like kubectl drain)")
        .option("-v, --verbose", "print every retry");
    addGlobalFlags(addSharedClusterFlags(addFlags(cmd, [...DRAIN_ENGINE_FLAGS, "selector"]), "drain")).addHelpText(
        "after",
        sharedClusterHelp("drain"),
    );
    cmd.action(async (names: string[], flags: Flags) => {
        const shared = sharedClusterOptionsFrom(flags, "drain"); // before any request
        const kc = kubeConfigFrom(flags);
        const nodes = await resolveNodes(kc, names, flags.selector, "drain NODE [flags]");
        const abort = new AbortController();
        const onSignal = () => abort.abort();
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        let session: SharedClusterSession | undefined;
        try {
            if (shared) {
                const dryRun = flags.dryRun !== undefined && flags.dryRun !== false && flags.dryRun !== "none";
                session = await startSharedCluster(kc, shared, nodes, stdio, { dryRun, signal: abort.signal, verbose: flags.verbose });
            }
            const failed = await runDrain(kc, nodes, flags, stdio, abort.signal, session);
            if (session) {
                const stayCordoned = failed.filter((f) => f.cordoned).map((f) => f.node);
                await finishSharedCluster(session, stayCordoned, stdio);
            }
            if (failed.length > 0) {
                stdio.err("There are pending nodes to be drained:");
                for (const f of failed) stdio.err(` ${f.node}`);
                // kubectl's closing aggregate: a single error as "error: <msg>", several one per line.
                const lines = failed.flatMap((f) => f.lines);
                if (lines.length === 1) stdio.err(`error: ${lines[0]}`);
                else for (const l of lines) stdio.err(l);
                throw new CliError(lines.join("\n"), abort.signal.aborted ? 130 : 1, true);
            }
        } finally {
            await session?.release().catch(() => undefined); // idempotent: already released unless runDrain threw
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
        }
    });
}
