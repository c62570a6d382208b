// The few Kubernetes API calls shared-cluster/ makes, with a time limit per request and an optional caller
// signal. The kubeconfig comes from the caller (drain's loadKubeConfig); error text comes from drain's
// errorMessage, which never prints response bodies or headers.
import {
    AppsV1Api,
    CoordinationV1Api,
    CoreV1Api,
    KubeConfig,
    Observable,
    type ConfigurationOptions,
    type ObservableMiddleware,
} from "@kubernetes/client-node";
import { errorMessage } from "../drain";

export interface RequestOptions {
    signal?: AbortSignal;
    /** Time limit of one request. Default 30 s. */
    timeoutMs?: number;
    headers?: Record<string, string>;
}

interface Clients {
    coordination: CoordinationV1Api;
    apps: AppsV1Api;
    core: CoreV1Api;
}

const cache = new WeakMap<KubeConfig, Clients>();

export function clients(kc: KubeConfig): Clients {
    let c = cache.get(kc);
    if (!c) {
        c = { coordination: kc.makeApiClient(CoordinationV1Api), apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api) };
        cache.set(kc, c);
    }
    return c;
}

function callOptions(o: RequestOptions): ConfigurationOptions<ObservableMiddleware> {
    const middleware: ObservableMiddleware = {
        pre: (ctx) => {
            for (const [k, v] of Object.entries(o.headers ?? {})) ctx.setHeaderParam(k, v);
            const signals = [AbortSignal.timeout(o.timeoutMs ?? 30_000)];
            if (o.signal) signals.push(o.signal);
            ctx.setSignal(AbortSignal.any(signals) as any);
            return new Observable(Promise.resolve(ctx));
        },
        post: (rsp) => new Observable(Promise.resolve(rsp)),
    };
    return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/** Runs one client-node call with our per-request options; a caller abort rethrows the caller's reason. */
export async function call<T>(fn: (opts: ConfigurationOptions<ObservableMiddleware>) => Promise<T>, o: RequestOptions = {}): Promise<T> {
    try {
        return await fn(callOptions(o));
    } catch (err: any) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (err?.name === "AbortError" || err?.name === "TimeoutError" || err?.type === "aborted")
            throw new Error(`request timed out after ${Math.round((o.timeoutMs ?? 30_000) / 1000)}s`);
        throw err;
    }
}

/** HTTP status of a failed call (0 when there was no answer). */
export function statusCode(err: unknown): number {
    const c = (err as any)?.code;
    return typeof c === "number" ? c : 0;
}

/** metav1.Status reason of a failed call ("AlreadyExists", "Conflict", ...), or "". */
export function statusReason(err: unknown): string {
    const body = (err as any)?.body;
    if (typeof body !== "string") return typeof body === "object" && body ? String(body.reason ?? "") : "";
    try {
        return String(JSON.parse(body)?.reason ?? "");
    } catch {
        return "";
    }
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
/** 409: "the object has been modified" (resourceVersion mismatch) or "already exists" (create race). */
export const isConflict = (err: unknown) => statusCode(err) === 409;

/** Text for people about a failed API call (no bodies, no headers). */
export function apiErrorText(err: unknown): string {
    return errorMessage(err);
}

/** A time field from the API: client-node leaves MicroTime fields as strings and turns Time fields into Dates. */
export function toDate(v: unknown): Date | undefined {
    if (v === undefined || v === null || v === "") return undefined;
    const d = v instanceof Date ? v : new Date(String(v));
    return Number.isNaN(d.getTime()) ? undefined : d;
}
