// Input validation shared by the components (program side, for plain values) and by the providers' check()
// (host side, loaded from dist/components/validate.js). Every function returns a problem text or undefined,
// so callers can turn problems into Pulumi check failures or thrown errors.
import { targetVersionProblem, parseLabelSelector } from "../kube-rules";

/** The string the engine sends for values that are not known yet (preview). Checks that need them are skipped. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
    return value === UNKNOWN;
}

/** Kubernetes object names (nodes included) are DNS-1123 subdomains. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function nodeNameProblem(name: unknown): string | undefined {
    if (typeof name !== "string" || name === "") return "a node name is required";
    if (name.length > 253) return `node name "${name.slice(0, 40)}..." is longer than 253 characters`;
    if (!DNS1123_SUBDOMAIN.test(name)) {
        return (
            `node name ${JSON.stringify(name)} is not a valid DNS-1123 subdomain ` +
            `(lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)`
        );
    }
    return undefined;
}

/** Why a target version is unusable (the product's one rule, kube-rules/version.ts). */
export function versionProblem(version: unknown): string | undefined {
    return targetVersionProblem(version);
}

/** Batch sizes and node counts: whole numbers ≥ 1. */
export function positiveIntegerProblem(what: string, value: unknown): string | undefined {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        return `${what} must be a whole number of at least 1, got ${JSON.stringify(value)}`;
    }
    return undefined;
}

/** Percentages for the blast-radius guard: (0, 100]. */
export function percentProblem(what: string, value: unknown): string | undefined {
    if (typeof value !== "number" || !(value > 0) || value > 100) {
        return `${what} must be a percentage above 0 and at most 100, got ${JSON.stringify(value)}`;
    }
    return undefined;
}

/**
 * A duration given as seconds (number) or Go-style text ("90s", "5m", "1h30m"), as seconds.
 * `parse` is kube-rules' parseDuration. Returns {seconds} or {problem}.
 */
export function durationSeconds(
    what: string,
    value: unknown,
    parse: (text: string) => number,
    opts: { allowNegative?: boolean } = {},
): { seconds?: number; problem?: string } {
    let seconds: number;
    if (typeof value === "number") {
        seconds = value;
    } else if (typeof value === "string") {
        try {
            seconds = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : parse(value);
        } catch (err: any) {
            return { problem: `${what}: ${err?.message ?? err}` };
        }
    } else {
        return { problem: `${what} must be a duration such as "90s" or "5m", or a number of seconds` };
    }
    if (!Number.isFinite(seconds)) return { problem: `${what} must be a finite duration` };
    if (seconds < 0 && !opts.allowNegative) return { problem: `${what} must not be negative, got ${JSON.stringify(value)}` };
    return { seconds };
}

/** Why `selector` is not a label selector the API server would accept, or undefined when it is one. */
export function selectorProblem(what: string, selector: unknown): string | undefined {
    if (typeof selector !== "string") return `${what} must be a label selector string`;
    try {
        parseLabelSelector(selector);
        return undefined;
    } catch (err: any) {
        return (
            `${what} ${JSON.stringify(selector)} is not a valid label selector: ${err?.message ?? err}; ` +
            `use kubectl's syntax, e.g. "node-role.kubernetes.io/worker" or "pool in (a,b),zone!=z1"`
        );
    }
}

/** Why a text cannot be passed to a command (a NUL byte ends a C string: it would be cut short), or undefined. */
export function nulProblem(what: string, value: unknown): string | undefined {
    return typeof value === "string" && value.includes("\0") ? `${what} contains a NUL byte, which no command can receive` : undefined;
}

/** Throws one error listing every problem (program-side validation of plain values). */
export function throwIfProblems(context: string, problems: (string | undefined)[]): void {
    const real = problems.filter((p): p is string => !!p);
    if (real.length === 1) throw new Error(`${context}: ${real[0]}`);
    if (real.length > 1) throw new Error(`${context}:\n  - ${real.join("\n  - ")}`);
}
