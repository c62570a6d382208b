// The rules for shared-cluster settings, one function per kind of value, each returning what is wrong (a sentence
// without the setting's name, which the caller adds: "lock", "--lock-name", "sharedCluster.lock") or undefined.
// validateSharedClusterOptions (preflight.ts) applies them to a whole SharedClusterOptions; the gate constructors
// and the CLI's flag parsers use the same functions, so a rule and its message exist once.
import { parseLabelSelector } from "../kube-rules";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A namespace name: an RFC 1123 label (at most 63 characters). */
export function namespaceProblem(namespace: string): string | undefined {
    if (DNS_LABEL.test(namespace) && namespace.length <= 63) return undefined;
    return `namespace "${namespace}" is not a valid namespace name (lower-case letters, digits and "-", at most 63 characters)`;
}

/** The name of a Lease or a DaemonSet: an RFC 1123 subdomain (at most 253 characters). */
export function objectNameProblem(kind: string, name: string): string | undefined {
    if (DNS_SUBDOMAIN.test(name) && name.length <= 253) return undefined;
    return `"${name}" is not a valid ${kind} name (lower-case letters, digits, "-" and ".")`;
}

/** A label selector for blocking pods: not empty (it would match every pod), in kubectl's syntax. */
export function labelSelectorProblem(selector: string): string | undefined {
    if (typeof selector !== "string" || !selector.trim()) return "the label selector is empty (it would match every pod)";
    try {
        parseLabelSelector(selector);
        return undefined;
    } catch (err) {
        return `${selector} is not a valid label selector (${(err as Error).message})`;
    }
}

/**
 * A Prometheus base URL: http:// or https://, without credentials (user:password@): Node's fetch refuses such a
 * URL, and the URL is shown in gate names and messages. The URL in a message has its password (or a username
 * alone) replaced by "***".
 */
export function prometheusUrlProblem(url: string): string | undefined {
    // userinfo is everything between "//" and the first "@" before any "/", "?" or "#"
    const shown = JSON.stringify(
        String(url).replace(/^([^:/?#]*:\/\/)([^/?#@]*)@/, (_, scheme: string, info: string) => {
            const user = info.includes(":") ? info.slice(0, info.indexOf(":")) : "";
            return `${scheme}${user ? `${user}:***` : "***"}@`;
        }),
    );
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return `invalid Prometheus URL ${shown}: give one such as http://prometheus.monitoring:9090`;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return `invalid Prometheus URL ${shown}: use http:// or https://`;
    if (u.username || u.password)
        return (
            `invalid Prometheus URL ${shown}: it must not contain credentials (user:password@); ` +
            'pass them in the gate\'s headers option instead, e.g. headers: { Authorization: "Basic <base64 of user:password>" }'
        );
    return undefined;
}

/** A regular expression (alert-name filters, label matchers): the engine's message, e.g. "Invalid regular expression: /(/: Unterminated group". */
export function regexpProblem(source: string): string | undefined {
    try {
        new RegExp(source);
        return undefined;
    } catch (err) {
        return (err as Error).message;
    }
}

/** A PromQL query for the query gate: not empty. */
export function promQueryProblem(query: string): string | undefined {
    return typeof query === "string" && query.trim() ? undefined : "the query is empty";
}

/** A time limit in milliseconds: a finite number ≥ 0 (0: do not wait). */
export function waitMsProblem(ms: unknown): string | undefined {
    return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? undefined : `must be a number of milliseconds ≥ 0, not ${ms}`;
}

/** A pause between checks in milliseconds: a finite number > 0. */
export function pollMsProblem(ms: unknown): string | undefined {
    return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? undefined : `must be a number > 0, not ${ms}`;
}
