#!/usr/bin/env node
// node-upgrade: kubectl-compatible cordon / uncordon / drain on the native drain engine, plus `wait` for a node
// to come back after its upgrade and `plan` (the planner's roll plan).
import { Command, CommanderError } from "commander";
import { CliError, errorText } from "./common";
import { registerCordonCommands } from "./cordon-command";
import { registerDrainCommand } from "./drain-command";
import { normaliseBooleanFlags } from "./options";
import { registerPlanCommand } from "./plan";
import { registerRehearseCommand } from "./rehearse-command";
import { registerWaitCommand } from "./wait-command";

export function buildProgram(): Command {
    const program = new Command("node-upgrade")
        .description("Roll Kubernetes node upgrades: cordon, drain honouring PodDisruptionBudgets, wait, uncordon")
        .showHelpAfterError("(run with --help for usage)")
        .exitOverride();
    program.configureOutput({ outputError: (text, write) => write(text.startsWith("error: ") ? text : `error: ${text}`) });
    registerCordonCommands(program);
    registerDrainCommand(program);
    registerWaitCommand(program);
    registerPlanCommand(program);
    registerRehearseCommand(program);
    for (const c of program.commands) c.exitOverride();
    return program;
}

export async function main(argv: string[]): Promise<number> {
    const program = buildProgram();
    try {
        await program.parseAsync(normaliseBooleanFlags(argv), { from: "user" });
        return 0;
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and version exit 0; usage errors were already printed by commander.
            return err.exitCode === 0 || err.code === "commander.helpDisplayed" || err.code === "commander.help" ? 0 : 1;
        }
        if (err instanceof CliError) {
            if (!err.printed) process.stderr.write(`error: ${err.message}\n`);
            return err.code;
        }
        process.stderr.write(`error: ${errorText(err)}\n`);
        return 1;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            process.stderr.write(`error: ${errorText(err)}\n`);
            process.exit(1);
        },
    );
}
