// Safe in a shared cluster (issue 14), the CLI side: the roll lock (a Lease), kured's lock, health gates and a
// maintenance window as flags of `drain` and `plan`. Flag parsing and checks happen here, before any request;
// the work itself is shared-cluster/'s (acquireAndCheck for drain, the read-only preflight for plan).
//
//   drain: before anything is cordoned, take the Lease (waiting up to --lock-timeout, saying who holds it), wait
//          for (or take) kured's lock, check the window and the gates for every node; refuse naming the blocker.
//          The locks are released when the drain ends, whether it succeeded or not.
//   plan:  the same items, read only (no writes): who holds the locks now, which gates block now, is the window
//          open; and per node whether it would start now.
import { KubeConfig } from "@kubernetes/client-node";
import { InvalidArgumentError, type Command } from "commander";
import {
    acquireAndCheck,
    formatPreflight,
    holderIdentity,
    labelSelectorProblem,
    namespaceProblem,
    objectNameProblem,
    parseMaintenanceWindow,
    preflight,
    prometheusUrlProblem,
    promQueryProblem,
    regexpProblem,
    validateSharedClusterOptions,
    SharedClusterBlockedError,
    DEFAULT_LEASE_NAME,
    DEFAULT_LEASE_NAMESPACE,
    type GateSpec,
    rollPreflight,
    type RollPreflight,
    type SharedClusterEvent,
    type SharedClusterOptions,
    type SharedClusterSession,
} from "../shared-cluster";
import { DurationError, parseDuration } from "../kube-rules";
import { CliError, errorText } from "./common";
import type { Printer } from "./output";

/** The flags as commander parses them (durations in seconds). */
export interface SharedClusterFlags {
    lock?: boolean;
    lockTimeout?: number;
    lockName?: { namespace: string; name: string };
    kuredLock?: "wait" | "take" | "off";
    blockingPodSelector?: string[];
    prometheusUrl?: string;
    alertFilterRegexp?: string;
    alertFilterMatchOnly?: boolean;
    alertFiringOnly?: boolean;
    alertIncludePending?: boolean;
    prometheusQuery?: string[];
    checkCommand?: string[];
    gatesTimeout?: number;
    maintenanceWindow?: string;
}

const WAIT_FORM = "a Go duration such as 30s, 5m or 1h2m; 0 = do not wait";

/** --lock-timeout, --gates-timeout: how long to wait; 0 = check once and refuse at once. */
function waitFlag(flag: string) {
    return (value: string): number => {
        let seconds: number;
        try {
            seconds = parseDuration(value);
        } catch (err) {
            const detail =
                err instanceof DurationError ? err.message.replace(/^invalid duration "[^"]*": /, "").replace(/; expected .*$/, "") : "";
            throw new InvalidArgumentError(`${flag} takes ${WAIT_FORM}${detail ? ` (${detail})` : ""}`);
        }
        if (seconds < 0) throw new InvalidArgumentError(`${flag} must not be negative; ${WAIT_FORM}`);
        return seconds;
    };
}

/** --lock-name NAMESPACE/NAME (or NAME, in kube-system); the name rules are shared-cluster's. */
function lockNameFlag(value: string): { namespace: string; name: string } {
    const parts = value.split("/");
    const [namespace, name] = parts.length === 2 ? parts : [DEFAULT_LEASE_NAMESPACE, parts[0]];
    const problem = parts.length > 2 ? "more than one /" : (namespaceProblem(namespace) ?? objectNameProblem("Lease", name));
    if (problem)
        throw new InvalidArgumentError(
            `--lock-name takes NAMESPACE/NAME of a Lease in lower case, e.g. ${DEFAULT_LEASE_NAMESPACE}/${DEFAULT_LEASE_NAME} (${problem})`,
        );
    return { namespace, name };
}

function kuredLockFlag(value: string): "wait" | "take" | "off" {
    if (value === "wait" || value === "take" || value === "off") return value;
    throw new InvalidArgumentError(`--kured-lock must be "wait", "take" or "off"`);
}

function collect<T>(parse: (v: string) => T) {
    return (value: string, previous: T[] = []): T[] => [...previous, parse(value)];
}

// The value rules (and their wording) are shared-cluster's; the flag name is said here.
function blockingPodSelectorFlag(value: string): string {
    const problem = labelSelectorProblem(value);
    if (problem) throw new InvalidArgumentError(`--blocking-pod-selector: ${problem}`);
    return value;
}

function prometheusUrlFlag(value: string): string {
    const problem = prometheusUrlProblem(value);
    if (problem) throw new InvalidArgumentError(`--prometheus-url: ${problem}`);
    return value;
}

function regexpFlag(flag: string) {
    return (value: string): string => {
        const problem = regexpProblem(value);
        if (problem) throw new InvalidArgumentError(`${flag} is not a valid regular expression (${problem})`);
        return value;
    };
}

function queryFlag(value: string): string {
    const problem = promQueryProblem(value);
    if (problem) throw new InvalidArgumentError(`--prometheus-query: ${problem}`);
    return value;
}

/**
 * --check-command: a JSON array of strings (["/usr/local/bin/db-ok", "--quick"]), or words split on whitespace.
 * Never run through a shell: no quoting, globbing or variables; an argument with spaces needs the JSON form.
 */
export function checkCommandFlag(value: string): string[] {
    const text = value.trim();
    let argv: unknown;
    if (text.startsWith("[")) {
        try {
            argv = JSON.parse(text);
        } catch (err) {
            throw new InvalidArgumentError(`--check-command looks like a JSON array but is not valid JSON (${(err as Error).message})`);
        }
        if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string") || !argv[0])
            throw new InvalidArgumentError(
                `--check-command as JSON must be a list of strings, program first, e.g. '["/usr/local/bin/check", "--quick"]'`,
            );
        return argv as string[];
    }
    argv = text.split(/\s+/).filter(Boolean);
    if ((argv as string[]).length === 0) throw new InvalidArgumentError("--check-command must name a program");
    return argv as string[];
}

function windowFlag(value: string): string {
    try {
        parseMaintenanceWindow(value);
    } catch (err) {
        throw new InvalidArgumentError(`--maintenance-window: ${(err as Error).message}`);
    }
    return value;
}

/** Adds the shared-cluster flags to `drain` or `plan`, with help that says what each does for that command. */
export function addSharedClusterFlags(cmd: Command, verb: "drain" | "plan"): Command {
    const drain = verb === "drain";
    return cmd
        .option(
            "--lock",
            drain
                ? `take the roll lock, a Lease (default ${DEFAULT_LEASE_NAMESPACE}/${DEFAULT_LEASE_NAME}), before cordoning; released when the drain ends, whether it succeeded or not; implies --kured-lock wait`
                : `report who holds the roll lock (a Lease, default ${DEFAULT_LEASE_NAMESPACE}/${DEFAULT_LEASE_NAME}); implies --kured-lock wait`,
        )
        .option(
            "--lock-timeout <duration>",
            drain
                ? "how long to wait for the lock's holder (and for kured's lock), as a Go duration; 0 = refuse at once, naming the holder (default 0)"
                : "accepted for the same command line as drain (plan does not wait)",
            waitFlag("--lock-timeout"),
        )
        .option(
            "--lock-name <namespace/name>",
            `the Lease to use as the lock (default ${DEFAULT_LEASE_NAMESPACE}/${DEFAULT_LEASE_NAME})`,
            lockNameFlag,
        )
        .option(
            "--kured-lock <mode>",
            drain
                ? 'kured\'s lock (annotation weave.works/kured-node-lock on DaemonSet kube-system/kured): "wait" while kured reboots a node, "take" it too so kured waits for us until the drain ends, "off"; a no-op without kured (default: wait with --lock, else off)'
                : 'report kured\'s lock (annotation weave.works/kured-node-lock on DaemonSet kube-system/kured): "wait", "take" or "off" (default: wait with --lock, else off)',
            kuredLockFlag,
        )
        .option(
            "--blocking-pod-selector <selector>",
            `health gate: do not start a node while a pod matching this label selector runs on it (completed pods do not count); repeatable`,
            collect(blockingPodSelectorFlag),
        )
        .option("--prometheus-url <url>", "health gate: do not start while Prometheus at this URL has a firing alert", prometheusUrlFlag)
        .option(
            "--alert-filter-regexp <regexp>",
            "alerts whose name matches this regular expression do not block (unanchored, as kured's flag of the same name)",
            regexpFlag("--alert-filter-regexp"),
        )
        .option("--alert-filter-match-only", "invert --alert-filter-regexp: only alerts whose name matches it block (as kured)")
        .option("--alert-include-pending", "pending alerts block too, not only firing ones")
        .option("--alert-firing-only", "only firing alerts block, pending ones do not (the default; accepted for kured's flag)")
        .option(
            "--prometheus-query <promql>",
            "health gate: this PromQL query (at --prometheus-url) must return nothing, e.g. 'ALERTS{severity=\"critical\"}'; repeatable",
            collect(queryFlag),
        )
        .option(
            "--check-command <command>",
            "health gate: this command must exit 0; a JSON array of strings (program first), or words split on whitespace; run without a shell, with the node's name in $NODE_NAME" +
                (drain ? "" : " (plan runs it too: it must not change anything)"),
            checkCommandFlag,
        )
        .option(
            "--gates-timeout <duration>",
            drain
                ? "how long to wait for the health gates to pass, as a Go duration; 0 = refuse at once, naming what blocks (default 0)"
                : "accepted for the same command line as drain (plan does not wait)",
            waitFlag("--gates-timeout"),
        )
        .option(
            "--maintenance-window <window>",
            drain
                ? 'start only inside this window: "[DAYS] HH:MM-HH:MM [TIME_ZONE]", e.g. "mon-fri 22:00-04:00 Europe/Berlin" (an end before the start crosses midnight); outside it the drain refuses, saying when it opens'
                : 'report whether this window is open now and when it opens: "[DAYS] HH:MM-HH:MM [TIME_ZONE]", e.g. "mon-fri 22:00-04:00 Europe/Berlin"',
            windowFlag,
        );
}

/** Help text after the flags of `drain` / `plan`. */
export function sharedClusterHelp(verb: "drain" | "plan"): string {
    const common = `
Shared cluster (--lock, --kured-lock, health gates, --maintenance-window):
  The lock's holder identity is "cli <user>@<host> pid <pid>"; see who holds it with
  kubectl get lease -n ${DEFAULT_LEASE_NAMESPACE} ${DEFAULT_LEASE_NAME} -o jsonpath='{.spec.holderIdentity}'.
  --check-command is never run through a shell: '["/usr/local/bin/db-ok", "--quick"]' (JSON) or
  '/usr/local/bin/db-ok --quick' (split on whitespace, no quoting); it gets the node's name as $NODE_NAME.
  A gate that cannot be checked (Prometheus unreachable, a command that cannot start) counts as blocking.`;
    if (verb === "drain")
        return `${common}
  All of these are checked before the first cordon: when something blocks (and its timeout, if any, has passed)
  the drain ends with exit code 1, naming the holder, alert, pod or window, and no node has been cordoned. With
  several nodes, the gates are checked for each of them before any is cordoned. A drain that fails leaves its
  node cordoned, as kubectl does, and still releases the locks. With --dry-run nothing is taken: the current
  state is printed (read only) and the dry run goes on.`;
    return `${common}
  With any of these flags, plan prints first what a drain would meet now (read only: nothing is written, nothing
  is waited for), then the plan with a "start now" line per node. Exit code 2 also when a lock is held, a gate
  blocks, a gate cannot be checked or the window is closed. --lock, --kured-lock and --blocking-pod-selector need
  the cluster (not --snapshot).`;
}

/**
 * The flags → shared-cluster options, or undefined when no flag asks for anything. Every check happens here,
 * before any request; problems end the command with exit code 1.
 */
export function sharedClusterOptionsFrom(f: SharedClusterFlags, verb: "drain" | "plan"): SharedClusterOptions | undefined {
    const problems: string[] = [];
    const lockish = !!f.lock || (f.kuredLock !== undefined && f.kuredLock !== "off");
    if (f.lockName && !f.lock) problems.push("--lock-name needs --lock");
    if (f.lockTimeout !== undefined && !lockish) problems.push("--lock-timeout needs --lock (or --kured-lock wait|take)");
    const alertFlags = (
        [
            ["--alert-filter-regexp", f.alertFilterRegexp !== undefined],
            ["--alert-filter-match-only", !!f.alertFilterMatchOnly],
            ["--alert-include-pending", !!f.alertIncludePending],
            ["--alert-firing-only", !!f.alertFiringOnly],
            ["--prometheus-query", !!f.prometheusQuery?.length],
        ] as const
    ).filter(([, given]) => given);
    if (!f.prometheusUrl) for (const [flag] of alertFlags) problems.push(`${flag} needs --prometheus-url`);
    if (f.alertIncludePending && f.alertFiringOnly) problems.push("give either --alert-include-pending or --alert-firing-only, not both");
    if (f.alertFilterMatchOnly && f.alertFilterRegexp === undefined) problems.push("--alert-filter-match-only needs --alert-filter-regexp");

    const gates: GateSpec[] = [];
    for (const selector of f.blockingPodSelector ?? []) gates.push({ type: "pods", selector, scope: "node" });
    if (f.prometheusUrl) {
        gates.push({
            type: "alerts",
            url: f.prometheusUrl,
            includePending: !!f.alertIncludePending,
            ...(f.alertFilterRegexp !== undefined
                ? f.alertFilterMatchOnly
                    ? { alertNames: f.alertFilterRegexp }
                    : { ignoreAlertNames: f.alertFilterRegexp }
                : {}),
        });
        for (const query of f.prometheusQuery ?? []) gates.push({ type: "query", url: f.prometheusUrl, query });
    }
    if (f.checkCommand) gates.push({ type: "command", command: f.checkCommand });
    if (f.gatesTimeout !== undefined && gates.length === 0)
        problems.push("--gates-timeout needs a health gate (--blocking-pod-selector, --prometheus-url or --check-command)");

    const options: SharedClusterOptions = { holderIdentity: holderIdentity({ tool: "cli" }) };
    const timeoutMs = (f.lockTimeout ?? 0) * 1000;
    if (f.lock) options.lock = { ...(f.lockName ?? {}), timeoutMs };
    const kured = f.kuredLock ?? (f.lock ? "wait" : "off");
    if (kured !== "off") options.kuredLock = { take: kured === "take", timeoutMs };
    if (gates.length) options.gates = gates;
    if (f.gatesTimeout !== undefined) options.gatesTimeoutMs = f.gatesTimeout * 1000;
    if (f.maintenanceWindow !== undefined) {
        options.window = f.maintenanceWindow;
        options.windowHint = verb === "drain" ? "run the drain again then" : "";
    }
    problems.push(...validateSharedClusterOptions(options));
    if (problems.length) throw new CliError(problems.join("\n"));
    return options.lock || options.kuredLock || options.gates || options.window !== undefined ? options : undefined;
}

/** Whether these options read the cluster (and so cannot be checked against a --snapshot file). */
export function needsCluster(o: SharedClusterOptions): string[] {
    const flags: string[] = [];
    if (o.lock) flags.push("--lock");
    if (o.kuredLock) flags.push("--kured-lock");
    if (o.gates?.some((g) => g.type === "pods")) flags.push("--blocking-pod-selector");
    return flags;
}

/** Progress of the locks and gates, one line each on stderr (renewals only with --verbose). */
export function sharedClusterPrinter(p: Printer, verbose = false): (e: SharedClusterEvent) => void {
    return (e) => {
        if (e.phase === "renewed" && !verbose) return;
        p.err(e.message);
    };
}

const isAbort = (err: unknown, signal?: AbortSignal) => !!signal?.aborted || (err as any)?.name === "AbortError";

/**
 * Before drain cordons anything: wait for and take the locks, check the window and the gates for every node.
 * Returns the session to release when the drain ends. Refusals throw a CliError naming the blocker (exit 1;
 * 130 when interrupted); whatever was taken is released first. With a dry run: the read-only report only.
 */
export async function startSharedCluster(
    kc: KubeConfig,
    o: SharedClusterOptions,
    nodes: string[],
    p: Printer,
    ctx: { dryRun?: boolean; signal?: AbortSignal; verbose?: boolean } = {},
): Promise<SharedClusterSession | undefined> {
    if (ctx.dryRun) {
        for (const node of nodes) {
            const report = await preflight(kc, o, node, { signal: ctx.signal });
            for (const line of formatPreflight(report)) p.err(`(dry run) ${nodes.length > 1 ? `${node}: ` : ""}${line}`);
        }
        p.err("(dry run) no lock was taken");
        return undefined;
    }
    const onProgress = sharedClusterPrinter(p, ctx.verbose);
    let session: SharedClusterSession | undefined;
    try {
        session = await acquireAndCheck(kc, o, nodes[0], {
            signal: ctx.signal,
            onProgress,
            onLost: (err) => p.err(`error: ${err.message}: no further node will be drained`),
        });
        for (const node of nodes.slice(1)) await session.checkNode(node);
        return session;
    } catch (err) {
        await session?.release().catch((e) => p.err(`error: ${errorText(e)}`));
        if (isAbort(err, ctx.signal)) throw new CliError("cancelled before anything was cordoned", 130);
        const message = err instanceof SharedClusterBlockedError ? err.message : errorText(err);
        // after a command's output (several lines) the note goes on a line of its own
        throw new CliError(`${message}${message.includes("\n") ? "\n" : "; "}nothing was cordoned`);
    }
}

/** Releases the locks after the drain; says so when some node failed (it stays cordoned, as kubectl leaves it). */
export async function finishSharedCluster(session: SharedClusterSession, failedDrains: string[], p: Printer): Promise<void> {
    if (failedDrains.length > 0)
        p.err(
            `the drain failed: ${failedDrains.length === 1 ? `node ${failedDrains[0]} stays` : `nodes ${failedDrains.join(", ")} stay`} cordoned; releasing the lock`,
        );
    try {
        await session.release();
    } catch (err) {
        p.err(`error: ${errorText(err)}`);
    }
}

/**
 * What `plan` shows: shared-cluster's rollPreflight (read only). `kc` may be undefined when the options need no
 * cluster (plan --snapshot).
 */
export function planPreflight(kc: KubeConfig | undefined, o: SharedClusterOptions, nodes: string[]): Promise<RollPreflight> {
    return rollPreflight(kc ?? new KubeConfig(), o, nodes);
}

/** "Shared cluster now (read only):" and the report's lines, for the top of the plan. */
export function formatPlanPreflight(r: RollPreflight): string {
    return ["Shared cluster now (read only):", ...formatPreflight(r.report).map((l) => `  ${l}`)].join("\n");
}
