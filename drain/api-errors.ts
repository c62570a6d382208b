// Reading errors from the Kubernetes API the way apimachinery's errors package does
// (IsNotFound, IsTooManyRequests, HasStatusCause...), from whatever @kubernetes/client-node throws.
//
// client-node throws ApiException {code, body, headers} for HTTP errors (body = raw response text, which is a
// JSON metav1.Status, except for API Priority & Fairness 429s that are plain text), FetchError / AbortError
// for network trouble, and Error{statusCode} from Watch. Its own `message` embeds the whole body and headers,
// so we never show it: messages here are built only from the Status fields.
import { STATUS_CODES } from "node:http";

export interface StatusCause {
    reason?: string;
    message?: string;
    field?: string;
}

/** The useful parts of a failed API call, normalised. */
export interface ApiFailure {
    /** HTTP status; 0 when the request never got an answer (connection refused/reset, timeout). */
    code: number;
    /** metav1.Status reason, e.g. "NotFound", "TooManyRequests"; "" when unknown. */
    reason: string;
    /** metav1.Status message, or a short description of a network error. Safe to print. */
    message: string;
    causes: StatusCause[];
    /** From details.retryAfterSeconds or the Retry-After header. */
    retryAfterSeconds?: number;
    /** False when the body was not a JSON Status (e.g. priority-and-fairness 429). */
    isStatus: boolean;
    /** The object the Status is about (details.kind, details.name), when it names one. */
    object?: { kind: string; name: string };
    /** The API server's address, when the client that failed knew it (KubeClient adds it). */
    server?: string;
    /** Whose credentials were sent, e.g. `/home/me/.kube/config (context "prod", user "admin")`, for a 401. */
    credentials?: string;
}

/** What a network error code (err.code, err.cause.code) means, in words: "connection refused" for ECONNREFUSED. */
export const NETWORK_WORDS: Readonly<Record<string, string>> = {
    ECONNRESET: "connection reset",
    ECONNREFUSED: "connection refused",
    ECONNABORTED: "connection aborted",
    EPIPE: "connection closed",
    ETIMEDOUT: "connection timed out",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "DNS lookup failed",
};

/** TLS/certificate failures: retrying cannot help. */
const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|EPROTO$)/;

function parseJson(text: unknown): any {
    if (typeof text !== "string") return typeof text === "object" ? text : undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function headerValue(headers: unknown, name: string): string | undefined {
    if (!headers || typeof headers !== "object") return undefined;
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
        if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
    }
    return undefined;
}

/** Normalises anything thrown by client-node (or our own request timeouts) into an ApiFailure. */
export function toApiFailure(err: unknown): ApiFailure {
    if (err instanceof KubeApiError) return err.failure;
    const e = err as any;
    if (e && typeof e === "object" && typeof e.code === "number") {
        // ApiException
        const status = parseJson(e.body);
        const isStatus = !!status && typeof status === "object" && status.kind === "Status";
        const header = Number(headerValue(e.headers, "retry-after"));
        const fromBody = isStatus ? Number(status.details?.retryAfterSeconds) : NaN;
        const retryAfter = fromBody > 0 ? fromBody : header > 0 ? header : undefined;
        let message: string;
        if (isStatus && status.message) message = String(status.message);
        else if (typeof e.body === "string" && e.body.trim() && e.body.length < 300) message = e.body.trim();
        // client-node throws a 401 without its body (the API spec lists 401 with no schema): the standard status text.
        else message = STATUS_CODES[e.code] ?? `the server responded with HTTP ${e.code}`;
        return {
            code: e.code,
            reason: isStatus ? String(status.reason ?? "") : "",
            message,
            causes: isStatus && Array.isArray(status.details?.causes) ? status.details.causes : [],
            retryAfterSeconds: retryAfter,
            isStatus,
            object:
                isStatus && status.details?.kind && status.details?.name
                    ? { kind: String(status.details.kind), name: String(status.details.name) }
                    : undefined,
        };
    }
    if (e && typeof e === "object" && typeof e.statusCode === "number") {
        // Watch start failure: only the status line is known.
        return {
            code: e.statusCode,
            reason: "",
            message: `watch failed: HTTP ${e.statusCode} ${e.message ?? ""}`.trim(),
            causes: [],
            isStatus: false,
        };
    }
    if (e && typeof e === "object" && e.name === "RequestTimeoutError") {
        return { code: 0, reason: "Timeout", message: String(e.message), causes: [], isStatus: false };
    }
    const code = String(e?.code ?? e?.errno ?? e?.cause?.code ?? e?.erroredSysCall ?? "");
    if (TLS_CODES.test(code)) {
        return {
            code: 0,
            reason: "TLSError",
            message: `cannot reach the API server: TLS error ${code} (check the cluster's certificate-authority in the kubeconfig)`,
            causes: [],
            isStatus: false,
        };
    }
    const what = NETWORK_WORDS[code]
        ? `${NETWORK_WORDS[code]} (${code})`
        : code
          ? code
          : e?.name === "AbortError"
            ? "request aborted"
            : redactUrl(String(e?.message ?? e));
    return { code: 0, reason: "", message: `cannot reach the API server: ${what}`, causes: [], isStatus: false };
}

/** Drops query strings and userinfo from URLs in a message (tokens never travel there, but be safe). */
export function redactUrl(text: string): string {
    return text.replace(/(https?:\/\/)([^@/\s]*@)?([^\s?]*)\?[^\s]*/g, "$1$3").replace(/(https?:\/\/)[^@/\s]*@/g, "$1");
}

export function isNotFound(f: ApiFailure): boolean {
    return f.reason === "NotFound" || (f.code === 404 && (f.reason === "" || !f.isStatus));
}

/**
 * The API server says this very object does not exist: a 404 Status naming it. A 404 for a wrong URL (a proxy,
 * a wrong server path) names nothing, and a missing kubeconfig file or context never reaches the server.
 */
export function isObjectNotFound(err: unknown, kind: string, name: string): boolean {
    if (!err || typeof err !== "object") return false;
    const f = toApiFailure(err);
    return f.code === 404 && f.isStatus && f.reason === "NotFound" && f.object?.kind === kind && f.object?.name === name;
}

export function isTooManyRequests(f: ApiFailure): boolean {
    return f.reason === "TooManyRequests" || f.code === 429;
}

export function isForbidden(f: ApiFailure): boolean {
    return f.reason === "Forbidden" || (f.code === 403 && f.reason === "");
}

export function isGone(f: ApiFailure): boolean {
    return f.code === 410 || f.reason === "Expired" || f.reason === "Gone";
}

export function hasStatusCause(f: ApiFailure, reason: string): boolean {
    return f.causes.some((c) => c.reason === reason);
}

/** 429 "Cannot evict pod as it would violate the pod's disruption budget." */
export function isDisruptionBudgetRefusal(f: ApiFailure): boolean {
    return isTooManyRequests(f) && hasStatusCause(f, "DisruptionBudget");
}

/** 403 from NamespaceLifecycle admission: the namespace is being deleted. */
export function isNamespaceTerminating(f: ApiFailure): boolean {
    return isForbidden(f) && hasStatusCause(f, "NamespaceTerminating");
}

/** 500 "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." */
export function isMultiplePdbRefusal(f: ApiFailure): boolean {
    return f.code === 500 && /more than one PodDisruptionBudget/i.test(f.message);
}

/**
 * 401 (the credentials were not accepted), or a 403 from the authorizer (`<resource> is forbidden: User "x"
 * cannot <verb> resource ...`): the kubeconfig's user lacks a permission, and retrying cannot help. Other 403s
 * (a terminating namespace, admission webhooks, a PDB's negative disruptions) are not about permissions.
 */
export function isAccessDenied(f: ApiFailure): boolean {
    if (f.code === 401 || f.reason === "Unauthorized") return true;
    if (!isForbidden(f) || isNamespaceTerminating(f)) return false;
    return !f.isStatus || /\bcannot \S+ (resource|path)\b/.test(f.message);
}

/** What to do about an access-denied failure ("" for any other failure). */
export function accessHint(f: ApiFailure): string {
    if (!isAccessDenied(f)) return "";
    if (f.code === 401 || f.reason === "Unauthorized")
        return "the API server did not accept the kubeconfig's credentials (expired or revoked token or certificate?)";
    return "grant the kubeconfig's user this permission: deploy/rbac.yaml has the ClusterRole with every permission node-upgrade needs (kubectl apply -f deploy/rbac.yaml)";
}

/**
 * Errors worth retrying: no answer at all, 5xx (except the deterministic multi-PDB 500 and 501), 429s
 * (priority & fairness, "still being processed"), 408 and 504 timeouts. Never 401/403 and other 4xx.
 */
export function isTransient(f: ApiFailure): boolean {
    // Unreachable: refused or unresolvable before the server ever answered (KubeClient's failFastUntilReached).
    // ClientConfig: the client refuses to send the request at all (e.g. http:// without insecure-skip-tls-verify).
    if (f.code === 0) return f.reason !== "TLSError" && f.reason !== "Unreachable" && f.reason !== "ClientConfig";
    if (isMultiplePdbRefusal(f)) return false;
    if (f.code === 429 || f.code === 408) return true;
    if (f.code >= 500 && f.code !== 501) return true;
    return f.reason === "ServerTimeout" || f.reason === "Timeout" || f.reason === "InternalError";
}

/**
 * One line describing the failure: the server's Status message and the HTTP status, e.g. "pods is forbidden:
 * User "x" cannot watch resource "pods" ... (HTTP 403 Forbidden); grant ...", plus what to do when access was
 * denied.
 */
export function describeFailure(f: ApiFailure): string {
    if (f.code === 0) return f.message;
    if (f.code === 401) {
        // One line: who refused what (client-node gives no body for a 401, so there is nothing else to say).
        const whose = f.credentials ? `the credentials in ${f.credentials}` : "the kubeconfig's credentials";
        return (
            `the API server${f.server ? ` ${f.server}` : ""}: 401 Unauthorized: ${whose} were refused; the token or client ` +
            "certificate may have expired or been revoked, or the kubeconfig may be for another cluster"
        );
    }
    const text = f.reason ? `${f.message} (HTTP ${f.code} ${f.reason})` : `${f.message} (HTTP ${f.code})`;
    const hint = accessHint(f);
    return hint ? `${text}; ${hint}` : text;
}

/**
 * A printable message for anything thrown: client-node's own errors (ApiException, whose message embeds the
 * raw body and headers; FetchError; Watch errors) as describeFailure says them, our errors as they are.
 * The one error-text function of the CLI.
 */
export function errorMessage(err: unknown): string {
    const e = err as any;
    const fromClientNode =
        !!e &&
        typeof e === "object" &&
        ((typeof e.code === "number" && "body" in e) ||
            typeof e.statusCode === "number" ||
            e.name === "FetchError" ||
            e.name === "AbortError");
    if (fromClientNode) return describeFailure(toApiFailure(err));
    return err instanceof Error ? err.message : String(err);
}

/** An error carrying a normalised ApiFailure, for errors we rethrow. */
export class KubeApiError extends Error {
    constructor(
        message: string,
        public readonly failure: ApiFailure,
    ) {
        super(message);
        this.name = "KubeApiError";
    }
}
