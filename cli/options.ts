// Flag parsing shared by the node-upgrade commands: kubectl-compatible names and value forms, and error
// messages that say which flag was wrong and what form it expects.
import { InvalidArgumentError } from "commander";
import type { DrainOptions } from "../drain";
import { targetVersionProblem, parseLabelSelector, DurationError, parseDuration } from "../kube-rules";

const DURATION_FORM = "a Go duration such as 30s, 5m or 1h2m; 0 means no limit";

/** --timeout and friends: Go durations, "0" = no limit. */
export function durationFlag(flag: string) {
    return (value: string): number => {
        try {
            const seconds = parseDuration(value);
            if (seconds < 0) throw new InvalidArgumentError(`${flag} must not be negative; ${DURATION_FORM}`);
            return seconds;
        } catch (err) {
            if (err instanceof InvalidArgumentError) throw err;
            const detail =
                err instanceof DurationError
                    ? err.message.replace(/^invalid duration "[^"]*": /, "").replace(/; expected .*$/, "")
                    : String(err);
            throw new InvalidArgumentError(`${flag} takes ${DURATION_FORM} (${detail})`);
        }
    };
}

/** Integer flags (--grace-period, --chunk-size, --skip-wait-for-delete-timeout). */
export function intFlag(flag: string, min?: number) {
    return (value: string): number => {
        if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} takes a whole number of seconds or items, e.g. 30`);
        const n = Number(value);
        if (min !== undefined && n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}`);
        return n;
    };
}

/** Target-version flags (plan --target-version, wait --version): kube-rules' one rule, checked before any request. */
export function targetVersionFlag(flag: string) {
    return (value: string): string => {
        const problem = targetVersionProblem(value);
        if (!problem) return value;
        // "v1.2O.0": a letter O typed for a zero.
        const zeroed = value.replace(/[oO]/g, "0");
        const fix =
            zeroed !== value && !targetVersionProblem(zeroed) ? `did you mean ${flag} ${zeroed}?` : `pass one, e.g. ${flag} v1.29.3`;
        throw new InvalidArgumentError(`${problem}; ${fix}`);
    };
}

/** --dry-run=none|client|server; a bare --dry-run means client (kubectl, with a deprecation warning). */
export function dryRunFlag(value: string | boolean | undefined): "none" | "client" | "server" {
    if (value === undefined || value === false) return "none";
    if (value === true || value === "") {
        process.stderr.write("W: --dry-run is deprecated and can be replaced with --dry-run=client.\n");
        return "client";
    }
    if (value === "true") return "client";
    if (value === "false") return "none";
    if (value === "none" || value === "client" || value === "server") return value;
    throw new InvalidArgumentError(`--dry-run must be "none", "server", or "client"`);
}

export function podSelectorFlag(value: string): string {
    try {
        parseLabelSelector(value);
    } catch (err) {
        throw new InvalidArgumentError(`--pod-selector=${value} must be a valid label selector (${(err as Error).message})`);
    }
    return value;
}

export function selectorFlag(value: string): string {
    try {
        parseLabelSelector(value);
    } catch (err) {
        throw new InvalidArgumentError(`--selector=${value} must be a valid label selector (${(err as Error).message})`);
    }
    return value;
}

/** Boolean flags kubectl accepts as --force=true / --force=false. Commander does not, so argv is rewritten. */
export const BOOLEAN_FLAGS = [
    "--force",
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--disable-eviction",
    "--only-if-cordoned-by-us",
    "--not-ready",
    "--lock",
    "--alert-filter-match-only",
    "--alert-include-pending",
    "--alert-firing-only",
];

export function normaliseBooleanFlags(argv: string[]): string[] {
    const out: string[] = [];
    for (const arg of argv) {
        const m = /^(--[a-z-]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.exec(arg);
        if (m && BOOLEAN_FLAGS.includes(m[1])) {
            if (/^(true|1|t)$/i.test(m[2])) out.push(m[1]);
            continue;
        }
        out.push(arg);
    }
    return out;
}

/** Commander's parsed drain flags → DrainOptions. */
export interface DrainFlags {
    force?: boolean;
    ignoreDaemonsets?: boolean;
    deleteEmptydirData?: boolean;
    gracePeriod?: number;
    timeout?: number;
    podSelector?: string;
    disableEviction?: boolean;
    skipWaitForDeleteTimeout?: number;
    chunkSize?: number;
    dryRun?: string | boolean;
    concurrency?: number;
    maxUnavailablePerWorkload?: number;
}

export function drainOptionsFrom(f: DrainFlags): DrainOptions {
    return {
        force: !!f.force,
        ignoreDaemonSets: !!f.ignoreDaemonsets,
        deleteEmptyDirData: !!f.deleteEmptydirData,
        gracePeriodSeconds: f.gracePeriod ?? -1,
        timeoutSeconds: f.timeout,
        podSelector: f.podSelector || undefined,
        disableEviction: !!f.disableEviction,
        skipWaitForDeleteTimeoutSeconds: f.skipWaitForDeleteTimeout ?? 0,
        chunkSize: f.chunkSize ?? 500,
        dryRun: dryRunFlag(f.dryRun),
        concurrency: f.concurrency,
        maxUnavailablePerWorkload: f.maxUnavailablePerWorkload ?? 0,
    };
}
