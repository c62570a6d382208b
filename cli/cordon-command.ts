// node-upgrade cordon|uncordon NODE... [-l selector] [--dry-run]
import type { Command } from "commander";
import { cordon, uncordon } from "../drain";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, resolveNodes, type GlobalFlags } from "./common";
import { dryRunFlag } from "./options";
import { addFlags } from "./roll-flags";
import { progressPrinter, stdio } from "./output";

interface Flags extends GlobalFlags {
    selector?: string;
    dryRun?: string | boolean;
    onlyIfCordonedByUs?: boolean;
}

export function registerCordonCommands(program: Command): void {
    for (const verb of ["cordon", "uncordon"] as const) {
        const cmd = program
            .command(`${verb} [nodes...]`)
            .description(
                verb === "cordon"
                    ? "Mark nodes as unschedulable (like kubectl cordon)"
                    : "Mark nodes as schedulable (like kubectl uncordon)",
            );
        addFlags(cmd, ["selector", "dry-run"]);
        if (verb === "uncordon") cmd.option("--only-if-cordoned-by-us", "leave nodes alone unless node-upgrade made their cordon");
        addGlobalFlags(cmd).action(async (names: string[], flags: Flags) => {
            const kc = kubeConfigFrom(flags);
            const nodes = await resolveNodes(kc, names, flags.selector, `${verb} NODE [flags]`);
            const dryRun = dryRunFlag(flags.dryRun);
            const onProgress = progressPrinter(stdio);
            const failures: string[] = [];
            // kubectl goes on with the next node after an error and reports them all.
            for (const node of nodes) {
                try {
                    if (verb === "cordon") await cordon(kc, node, { onProgress, dryRun });
                    else await uncordon(kc, node, { onProgress, dryRun, onlyIfCordonedByUs: flags.onlyIfCordonedByUs });
                } catch (err) {
                    const msg = `unable to ${verb} node "${node}": ${errorText(err).replace(/^unable to \w+ node "[^"]*": /, "")}`;
                    stdio.err(`error: ${msg}`);
                    failures.push(msg);
                }
            }
            if (failures.length > 0) throw new CliError(failures.join("\n"), 1, true);
        });
    }
}
