// node-upgrade rehearse [NODE...] --snapshot FILE --target-version V: the roll `pulumi up` would run, on a
// simulated copy of the snapshot, timed node by node (rehearse/). This file only parses flags and prints.
// Exit code: 0 when the roll completes, 2 when it would stop (the reason on stderr), 1 for bad input.
import { InvalidArgumentError, type Command } from "commander";
import type { RehearsalOptions, RehearsalReport, TimingOverrides } from "../rehearse";
import { CliError, errorText } from "./common";
import { drainOptionsFrom, durationFlag, type DrainFlags } from "./options";
import { addFlags, DRAIN_ENGINE_FLAGS, ROLL_FLAGS, type RollFlags } from "./roll-flags";

/** As `node-upgrade plan`: the roll would stop. */
const EXIT_ROLL_STOPS = 2;

/** A rehearsal always evicts for real (no --dry-run). */
const REHEARSE_DRAIN_FLAGS = DRAIN_ENGINE_FLAGS.filter((f) => f !== "dry-run");

/** The roll flags and the drain flags are plan's and drain's, plus the rehearsal's own. */
interface RehearseFlags extends RollFlags, Omit<DrainFlags, "dryRun" | "concurrency"> {
    upgradeSeconds?: number;
    restartSeconds?: number;
    readyTimeout?: number;
    soak?: number;
    startupSeconds?: [string, number][];
    shutdownSeconds?: [string, number][];
    timings?: string;
    timeScale?: number;
    fastForward?: boolean;
    json?: boolean;
    verbose?: boolean;
}

/** The rehearsal module and the simulator it runs are repository code, not in the npm package: load on use. */
type RehearseModule = typeof import("../rehearse");
async function loadRehearse(): Promise<RehearseModule> {
    try {
        return await import("../rehearse");
    } catch (err) {
        throw new CliError(`rehearse needs the simulated cluster (sim/), which this installation does not have: ${errorText(err)}`);
    }
}

function secondsFlag(flag: string) {
    return (value: string): number => {
        const n = Number(value);
        if (value.trim() === "" || !Number.isFinite(n) || n < 0)
            throw new InvalidArgumentError(`${flag} takes a number of seconds, 0 or more`);
        return n;
    };
}

function timingFlag(flag: string) {
    return (value: string, previous: [string, number][] = []): [string, number][] => {
        const m = /^(?:([^=\s]+)=)?(\d+(?:\.\d+)?)$/.exec(value.trim());
        if (!m)
            throw new InvalidArgumentError(
                `${flag} takes namespace/name=SECONDS, or SECONDS for every workload (e.g. ${flag} shop/web=45)`,
            );
        if (m[1] !== undefined && !/^[^/]+\/[^/]+$/.test(m[1]))
            throw new InvalidArgumentError(`${flag} ${value}: name the workload as namespace/name (e.g. default/web=30)`);
        return [...previous, [m[1] ?? "default", Number(m[2])]];
    };
}

/** Flags → rehearse() options (the module checks the combination and the snapshot). */
function rehearsalOptionsFrom(names: string[], flags: RehearseFlags, rehearse: RehearseModule): RehearsalOptions {
    if (!flags.snapshot) throw new CliError("--snapshot FILE is required (kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json > FILE)");
    if (!flags.targetVersion) throw new CliError("--target-version is required, e.g. --target-version v1.30.4");
    const { dryRun: _dryRun, concurrency: _concurrency, ...drain } = drainOptionsFrom(flags);
    const fromFlags = (pairs: [string, number][] = []) => (pairs.length > 0 ? Object.fromEntries(pairs) : undefined);
    let timings: TimingOverrides;
    try {
        timings = rehearse.mergeTimings(flags.timings ? rehearse.readTimingsFile(flags.timings) : undefined, {
            startupSeconds: fromFlags(flags.startupSeconds),
            shutdownSeconds: fromFlags(flags.shutdownSeconds),
        });
    } catch (err) {
        throw new CliError(errorText(err));
    }
    return {
        snapshot: flags.snapshot,
        targetVersion: flags.targetVersion,
        nodes: names.length > 0 ? names : undefined,
        selector: flags.selector,
        all: flags.all,
        batchSize: flags.batchSize,
        controlPlaneFirst: flags.controlPlaneFirst ?? true,
        drain,
        upgradeSeconds: flags.upgradeSeconds,
        restartSeconds: flags.restartSeconds,
        readyTimeoutSeconds: flags.readyTimeout,
        soakSeconds: flags.soak,
        timings,
        timeScale: flags.timeScale,
        fastForward: flags.fastForward ?? true,
    };
}

/** Runs and renders; the caller prints. Throws CliError (exit 1) for bad input. */
async function runRehearse(
    names: string[],
    flags: RehearseFlags,
    onProgress?: (line: string) => void,
): Promise<{ report: RehearsalReport; output: string; exitCode: number }> {
    const mod = await loadRehearse();
    const options = rehearsalOptionsFrom(names, flags, mod);
    let report: RehearsalReport;
    try {
        report = await mod.rehearse({ ...options, onProgress });
    } catch (err) {
        if (err instanceof mod.RehearsalInputError) throw new CliError(err.message);
        throw err;
    }
    const output = flags.json ? JSON.stringify(report, null, 2) : mod.formatReport(report);
    return { report, output, exitCode: report.completed ? 0 : EXIT_ROLL_STOPS };
}

export function registerRehearseCommand(program: Command): void {
    const cmd = program
        .command("rehearse")
        .argument("[nodes...]", "nodes to roll, in order (control-plane nodes still go first)")
        .description(
            "Rehearse the roll `pulumi up` would run on a simulated copy of a snapshot: the same batches, the same drain " +
                "engine and pacing, the upgrade replaced by a simulated one. Reports per node the predicted drain, upgrade and " +
                "Ready-wait times, what each drain waited on and the pods it evicted; per workload the lowest number of Ready " +
                "replicas against its PodDisruptionBudget's minimum; the total time, and where and why the roll would stop. " +
                "Times are predicted real seconds. Exit code 0: the roll completes; 2: it would stop; 1: bad input.",
        );
    addFlags(cmd, [...ROLL_FLAGS, ...REHEARSE_DRAIN_FLAGS], {
        "max-unavailable-per-workload": { value: 1, why: "as pulumi up" },
    })
        .option("--upgrade-seconds <n>", "how long the upgrade command runs on each node (default 60)", secondsFlag("--upgrade-seconds"))
        .option(
            "--restart-seconds <n>",
            "how long the kubelet is NotReady while it restarts at the target (default 15)",
            secondsFlag("--restart-seconds"),
        )
        .option("--ready-timeout <duration>", "the wait for Ready at the target (default 15m)", durationFlag("--ready-timeout"))
        .option("--soak <duration>", "how long a node must stay Ready before its uncordon (default 0)", durationFlag("--soak"))
        .option(
            "--startup-seconds <[ns/name=]n>",
            "seconds from placement to Ready for a workload's new pods (repeatable; a bare number for every workload); default: 2 + the probes' initialDelaySeconds",
            timingFlag("--startup-seconds"),
        )
        .option(
            "--shutdown-seconds <[ns/name=]n>",
            "seconds from eviction to gone for a workload's pods (repeatable; a bare number for every workload); default: the grace period",
            timingFlag("--shutdown-seconds"),
        )
        .option("--timings <file>", 'JSON: {"startupSeconds": {"ns/name": 30, "default": 5}, "shutdownSeconds": {...}}')
        .option("--time-scale <n>", "simulated seconds per real second while requests are in flight (default 1)", (v: string) => {
            const n = Number(v);
            if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError("--time-scale takes a number above 0");
            return n;
        })
        .option("--no-fast-forward", "do not jump the simulated clock over waits (the roll then takes its time divided by --time-scale)")
        .option("--json", "print the full report as JSON")
        .option("-v, --verbose", "print each step as the rehearsal goes (on stderr; the default on a terminal)");
    cmd.action(async (names: string[], flags: RehearseFlags) => {
        const progress =
            flags.verbose || (!flags.json && process.stderr.isTTY) ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
        const { output, exitCode, report } = await runRehearse(names, flags, progress);
        process.stdout.write(output + "\n");
        if (exitCode !== 0) {
            const stop = report.stop;
            throw new CliError(
                stop ? `the roll would stop at node ${stop.node} (${stop.step}): ${stop.reason}` : "the roll would not complete",
                exitCode,
            );
        }
    });
}
