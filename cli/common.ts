// What every node-upgrade command shares: kubeconfig from --kubeconfig/--context (KUBECONFIG by default),
// resolving NODE arguments or -l/--selector to node names, and the error type that ends a command.
import { formatDuration } from "../kube-rules";
import type { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { clientFor, errorMessage, loadKubeConfig, listNodes, readNode } from "../drain";
import { stdio, type Printer } from "./output";

/** Ends the command: printed as "error: <message>" on stderr, exit code `code`. */
export class CliError extends Error {
    /** printed: the details are already on stderr; only the exit code remains to be set. */
    constructor(
        message: string,
        public readonly code = 1,
        public readonly printed = false,
    ) {
        super(message);
        this.name = "CliError";
    }
}

export interface GlobalFlags {
    kubeconfig?: string;
    context?: string;
}

export function addGlobalFlags(cmd: Command): Command {
    return cmd
        .option("--kubeconfig <file>", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
        .option("--context <name>", "the kubeconfig context to use");
}

/** How long until the next attempt, in the Go form every duration we print uses ("400ms", "2.5s", "1m30s"). */
function delayText(ms: number): string {
    return formatDuration(Math.round(ms / 100) / 10);
}

/**
 * The kubeconfig the flags name (else $KUBECONFIG, ~/.kube/config, the in-cluster service account), and its
 * client set up for the CLI: the first contact fails at once when the server is refused or unknown (see
 * failFastUntilReached in drain/kube-client.ts), and every retry of a call is said on stderr.
 */
export function kubeConfigFrom(flags: GlobalFlags, p: Printer = stdio): KubeConfig {
    const kc = loadKubeConfig({ kubeconfigPath: flags.kubeconfig, kubeconfigPathOption: "--kubeconfig", context: flags.context });
    clientFor(kc, {
        failFastUntilReached: true,
        onRetry: (n) => p.err(`retrying in ${delayText(n.delayMs)}: ${n.what}: ${n.message}, attempt ${n.nextAttempt} of ${n.maxAttempts}`),
    });
    return kc;
}

/**
 * NODE arguments or a selector, never both (kubectl's rule). Named nodes are read first, so a typo fails the
 * whole command before anything changes.
 */
export async function resolveNodes(kc: KubeConfig, names: string[], selector: string | undefined, usage: string): Promise<string[]> {
    if (names.length > 0 && selector) throw new CliError("cannot specify both a node name and a --selector option");
    if (names.length === 0 && !selector)
        throw new CliError(`USAGE: ${usage}\nSee 'node-upgrade ${usage.split(" ")[0]} --help' for help and examples`);
    if (selector) {
        const nodes = await listNodes(kc, selector);
        if (nodes.length === 0) throw new CliError(`no nodes match the selector "${selector}"`);
        return nodes.map((n) => n.name);
    }
    for (const name of names) await readNode(kc, name);
    return names;
}

/**
 * The text of any error the CLI prints: the API server's Status message and a hint for client-node's errors
 * (never its "HTTP-Code ... Body ... Headers" dump), our own errors' messages as they are.
 */
export const errorText = errorMessage;
