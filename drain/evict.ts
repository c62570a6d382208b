// One eviction (or delete) attempt and what its answer means, following kubectl's DeleteOrEvictPods:
// 2xx accepted; 404 already gone (no wait); 429 retry (PDB, or priority & fairness / "still being processed"
// which carry Retry-After); 403 NamespaceTerminating retry until the pod is terminating; 500 "more than one
// PodDisruptionBudget" is fatal for the pod; any other error is fatal. We add: 5xx and connection errors
// are transient and retried with backoff. A refused eviction never falls back to a delete.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import {
    ApiFailure,
    describeFailure,
    isDisruptionBudgetRefusal,
    isMultiplePdbRefusal,
    isNamespaceTerminating,
    isNotFound,
    isTooManyRequests,
    isTransient,
    toApiFailure,
} from "./api-errors";
import { clientFor } from "./kube-client";
import { withRetry } from "./retry";

export type AttemptOutcome =
    | { kind: "accepted" }
    | { kind: "not-found" }
    /**
     * 429 from a PodDisruptionBudget: wait for the budget to allow a disruption. With Retry-After the budget's
     * status is stale ("still being processed"): wait for the disruption controller, at most that long.
     */
    | { kind: "budget"; failure: ApiFailure }
    /** 403 NamespaceTerminating: retry until the pod shows a deletionTimestamp. */
    | { kind: "namespace-terminating"; failure: ApiFailure }
    /** 5xx, connection trouble, APF 429, "still being processed" 429: retry after backoff / Retry-After. */
    | { kind: "transient"; failure: ApiFailure }
    | { kind: "fatal"; failure: ApiFailure; message: string };

/** Classifies the answer to an eviction POST. */
export function classifyEvictionError(err: unknown, pod: string): AttemptOutcome {
    const f = toApiFailure(err);
    if (isNotFound(f)) return { kind: "not-found" };
    if (isDisruptionBudgetRefusal(f)) return { kind: "budget", failure: f };
    if (isTooManyRequests(f)) return { kind: "transient", failure: f };
    if (isNamespaceTerminating(f)) return { kind: "namespace-terminating", failure: f };
    if (isMultiplePdbRefusal(f)) {
        return {
            kind: "fatal",
            failure: f,
            message: `pod ${pod} matches more than one PodDisruptionBudget, which the eviction API does not support; it cannot be evicted until all but one of those budgets are removed (server: ${f.message})`,
        };
    }
    if (isTransient(f)) return { kind: "transient", failure: f };
    return { kind: "fatal", failure: f, message: `error when evicting pod ${pod}: ${describeFailure(f)}` };
}

/** Classifies the answer to a pod DELETE (delete path): only 404 and transient errors are special. */
export function classifyDeleteError(err: unknown, pod: string): AttemptOutcome {
    const f = toApiFailure(err);
    if (isNotFound(f)) return { kind: "not-found" };
    if (isTransient(f)) return { kind: "transient", failure: f };
    return { kind: "fatal", failure: f, message: `error when deleting pod ${pod}: ${describeFailure(f)}` };
}

export interface AttemptOptions {
    gracePeriodSeconds?: number;
    dryRun?: "none" | "client" | "server";
    signal?: AbortSignal;
}

/** POST pods/{name}/eviction once. */
export async function evictOnce(kc: KubeConfig, pod: V1Pod, opts: AttemptOptions, groupVersion = "policy/v1"): Promise<AttemptOutcome> {
    const client = clientFor(kc);
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    // kubectl always sends deleteOptions; grace only when >= 0; server dry run inside deleteOptions.
    const deleteOptions: Record<string, unknown> = {};
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds >= 0) deleteOptions.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.dryRun === "server") deleteOptions.dryRun = ["All"];
    const body = { apiVersion: groupVersion, kind: "Eviction", metadata: { name, namespace }, deleteOptions };
    try {
        await client.call((o) => client.core.createNamespacedPodEviction({ name, namespace, body: body as any }, o), {
            signal: opts.signal,
        });
        return { kind: "accepted" };
    } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        return classifyEvictionError(err, `${namespace}/${name}`);
    }
}

/** DELETE the pod once. */
export async function deleteOnce(kc: KubeConfig, pod: V1Pod, opts: AttemptOptions): Promise<AttemptOutcome> {
    const client = clientFor(kc);
    const name = pod.metadata?.name ?? "";
    const namespace = pod.metadata?.namespace ?? "default";
    const grace = opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds >= 0 ? opts.gracePeriodSeconds : undefined;
    try {
        await client.call(
            (o) =>
                client.core.deleteNamespacedPod(
                    { name, namespace, gracePeriodSeconds: grace, dryRun: opts.dryRun === "server" ? "All" : undefined },
                    o,
                ),
            { signal: opts.signal },
        );
        return { kind: "accepted" };
    } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        return classifyDeleteError(err, `${namespace}/${name}`);
    }
}

/**
 * kubectl's CheckEvictionSupport: GET /api/v1 and look for pods/eviction with kind Eviction and a group and
 * version. Returns the group/version to use ("policy/v1"), or undefined when only DELETE is possible.
 */
export async function evictionGroupVersion(kc: KubeConfig, signal?: AbortSignal): Promise<string | undefined> {
    const client = clientFor(kc);
    const list = await withRetry(
        "discover the eviction API (GET /api/v1)",
        () => client.call((o) => client.core.getAPIResources({}, o), { signal }),
        { signal },
    );
    const entry = (list.resources ?? []).find((r) => r.name === "pods/eviction" && r.kind === "Eviction" && r.group && r.version);
    return entry ? `${entry.group}/${entry.version}` : undefined;
}
