// node-upgrade wait NODE... [--version v1.20.0] [--timeout 10m]: wait until nodes are Ready (and run the
// wanted kubelet version).
import type { Command } from "commander";
import { formatDuration } from "../drain/duration";
import { DEFAULT_NODE_WAIT_TIMEOUT_SECONDS, waitForNode } from "../drain/wait-for-node";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, resolveNodes, type GlobalFlags } from "./common";
import { durationFlag, selectorFlag } from "./options";
import { progressPrinter, stdio } from "./output";

interface Flags extends GlobalFlags {
    version?: string;
    timeout?: number;
    selector?: string;
}

export function registerWaitCommand(program: Command): void {
    const cmd = program
        .command("wait [nodes...]")
        .description("Wait until nodes are Ready and (with --version) run the given kubelet version")
        .option("--version <version>", "kubelet version to wait for, e.g. v1.20.0")
        .option("--timeout <duration>", `how long to wait per node, as a Go duration; 0 = forever (default ${formatDuration(DEFAULT_NODE_WAIT_TIMEOUT_SECONDS)})`, durationFlag("--timeout"))
        .option("-l, --selector <selector>", "label selector to pick the nodes", selectorFlag);
    addGlobalFlags(cmd).action(async (names: string[], flags: Flags) => {
        const kc = kubeConfigFrom(flags);
        // A node may be missing while it re-registers, so names are not checked up front here.
        const nodes = flags.selector || names.length === 0 ? await resolveNodes(kc, names, flags.selector, "wait NODE [flags]") : names;
        const failed: string[] = [];
        for (const node of nodes) {
            try {
                await waitForNode(kc, node, { kubeletVersion: flags.version, timeoutSeconds: flags.timeout, onProgress: progressPrinter(stdio) });
            } catch (err) {
                stdio.err(`error: ${errorText(err)}`);
                failed.push(node);
            }
        }
        if (failed.length > 0) throw new CliError(`nodes not ready: ${failed.join(", ")}`, 1, true);
    });
}
