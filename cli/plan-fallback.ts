// A basic `node-upgrade plan NODE...` used when the planner's cli/plan.ts is not available: prints, per node,
// what a drain with the given flags would evict, leave, or be blocked by (read-only).
import type { Command } from "commander";
import { planDrain } from "../drain/plan-drain";
import { CliError, addGlobalFlags, errorText, kubeConfigFrom, resolveNodes, type GlobalFlags } from "./common";
import { addDrainFlags } from "./drain-command";
import { DrainFlags, drainOptionsFrom } from "./options";
import { stdio } from "./output";

export function registerFallbackPlanCommand(program: Command): void {
    const cmd = program.command("plan [nodes...]").description("Show what draining the nodes would do (read-only)");
    addGlobalFlags(addDrainFlags(cmd)).action(async (names: string[], flags: DrainFlags & GlobalFlags & { selector?: string }) => {
        const kc = kubeConfigFrom(flags);
        const nodes = await resolveNodes(kc, names, flags.selector, "plan NODE [flags]");
        const opts = drainOptionsFrom(flags);
        let blocked = 0;
        for (const node of nodes) {
            try {
                const c = await planDrain(kc, node, opts);
                stdio.out(`node/${node}: ${c.evict.length} to evict, ${c.skip.length} left in place, ${c.blocked.length} blocking`);
                for (const e of c.evict) stdio.out(`  evict  ${e.key}${e.verdict.action === "evict" && e.verdict.warning ? `  (${e.verdict.warning})` : ""}`);
                for (const s of c.skip) stdio.out(`  keep   ${s.key}${s.verdict.action === "skip" && s.verdict.reason ? `  (${s.verdict.reason})` : ""}`);
                for (const b of c.blocked) stdio.out(`  BLOCK  ${b.key}  (${b.verdict.action === "block" ? b.verdict.reason : ""})`);
                for (const w of c.warnings) stdio.err(`Warning: ${w}`);
                for (const e of c.errors) stdio.err(`error: ${e}`);
                if (c.blocked.length > 0) blocked++;
            } catch (err) {
                stdio.err(`error: unable to plan node "${node}": ${errorText(err)}`);
                blocked++;
            }
        }
        if (blocked > 0) throw new CliError(`${blocked} node(s) cannot be drained with these flags`, 1, true);
    });
}
