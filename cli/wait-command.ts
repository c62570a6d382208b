// node-upgrade wait NODE... [--version v1.20.0] [--timeout 10m]: wait until nodes are Ready (and run the
// wanted kubelet version).
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { isObjectNotFound, clientFor, DEFAULT_NODE_WAIT_TIMEOUT_SECONDS, waitForNode } from "../drain";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, resolveNodes, type GlobalFlags } from "./common";
import { durationFlag, targetVersionFlag } from "./options";
import { addFlags } from "./roll-flags";
import { progressPrinter, stdio } from "./output";
import { formatDuration } from "../kube-rules";

interface Flags extends GlobalFlags {
    version?: string;
    timeout?: number;
    selector?: string;
}

/**
 * Named nodes the API server says it does not have (one GET each, no retries). An error that says the API server
 * cannot be talked to at all (refused or unknown at first contact, TLS, 401) ends the command now; any other is
 * left to waitForNode, which keeps trying until its timeout.
 */
async function missingNodes(kc: KubeConfig, names: string[], timeoutSeconds: number | undefined): Promise<string[]> {
    const client = clientFor(kc);
    const timeoutMs = timeoutSeconds ? Math.min(timeoutSeconds * 1000, 30_000) : undefined;
    const missing: string[] = [];
    for (const name of names) {
        try {
            await client.call((o) => client.core.readNode({ name }, o), { timeoutMs });
        } catch (err) {
            if (isObjectNotFound(err, "nodes", name)) missing.push(name);
            else if (client.isConnectionProblem(err)) throw err;
        }
    }
    return missing;
}

export function registerWaitCommand(program: Command): void {
    const cmd = program
        .command("wait [nodes...]")
        .description("Wait until nodes are Ready and (with --version) run the given kubelet version")
        .option("--version <version>", "kubelet version to wait for, e.g. v1.20.0", targetVersionFlag("--version"))
        .option(
            "--timeout <duration>",
            `how long to wait per node, as a Go duration; 0 = forever (default ${formatDuration(DEFAULT_NODE_WAIT_TIMEOUT_SECONDS)})`,
            durationFlag("--timeout"),
        );
    addFlags(cmd, ["selector"]);
    addGlobalFlags(cmd).action(async (names: string[], flags: Flags) => {
        const kc = kubeConfigFrom(flags);
        const nodes = flags.selector || names.length === 0 ? await resolveNodes(kc, names, flags.selector, "wait NODE [flags]") : names;
        if (!flags.selector && names.length > 0) {
            // A node the cluster does not have (a typo) fails now rather than at the timeout, as in kubectl wait.
            const missing = await missingNodes(kc, names, flags.timeout);
            for (const node of missing) stdio.err(`error: node "${node}" not found`);
            if (missing.length > 0) throw new CliError(`nodes not found: ${missing.join(", ")}`, 1, true);
        }
        const failed: string[] = [];
        for (const node of nodes) {
            try {
                await waitForNode(kc, node, {
                    kubeletVersion: flags.version,
                    timeoutSeconds: flags.timeout,
                    onProgress: progressPrinter(stdio),
                });
            } catch (err) {
                stdio.err(`error: ${errorText(err)}`);
                failed.push(node);
            }
        }
        if (failed.length > 0) throw new CliError(`nodes not ready: ${failed.join(", ")}`, 1, true);
    });
}
