// The read-only half of a drain: list the node's pods, check which DaemonSet owners still exist, run
// kubectl's filter chain. Nothing is written, so the planner and `node-upgrade plan` can call it freely.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { KubeApiError, isNotFound } from "./api-errors";
import { classifyPods } from "./filters";
import { clientFor } from "./kube-client";
import { listPodsOnNodeWithVersion, type Listing } from "./list-pods";
import { withRetry, type RetryOptions } from "./retry";
import type { DrainOptions, PodClassification } from "./types";
import { controllerOf, isFinished } from "../kube-rules";

export interface PlanInternals {
    signal?: AbortSignal;
    onRetry?: RetryOptions["onRetry"];
}

/** ns/name of every live apps/v1 DaemonSet that owns a pod in the list (the only ones kubectl looks up). */
function daemonSetOwners(pods: V1Pod[]): string[] {
    const keys = new Set<string>();
    for (const pod of pods) {
        const owner = controllerOf(pod);
        if (owner?.kind === "DaemonSet" && owner.apiVersion === "apps/v1" && !isFinished(pod)) {
            keys.add(`${pod.metadata?.namespace ?? "default"}/${owner.name}`);
        }
    }
    return [...keys];
}

/** GETs each DaemonSet once; 404 → missing. Other errors (after retries) are thrown, as kubectl fails then. */
export async function findExistingDaemonSets(kc: KubeConfig, keys: string[], internals: PlanInternals = {}): Promise<Set<string>> {
    const client = clientFor(kc);
    const existing = new Set<string>();
    await Promise.all(
        keys.map(async (key) => {
            const [namespace, name] = key.split("/");
            try {
                await withRetry(
                    `get DaemonSet ${key}`,
                    () => client.call((o) => client.apps.readNamespacedDaemonSet({ name, namespace }, o), { signal: internals.signal }),
                    { signal: internals.signal, onRetry: internals.onRetry },
                );
                existing.add(key);
            } catch (err) {
                if (err instanceof KubeApiError && isNotFound(err.failure)) return;
                throw err;
            }
        }),
    );
    return existing;
}

/** Classification plus the listing it came from (drain starts its pod watch at that resourceVersion). */
export async function planDrainWithListing(
    kc: KubeConfig,
    node: string,
    opts: DrainOptions,
    internals: PlanInternals = {},
): Promise<{ classification: PodClassification; listing: Listing<V1Pod> }> {
    const listing = await listPodsOnNodeWithVersion(kc, node, {
        podSelector: opts.podSelector,
        chunkSize: opts.chunkSize,
        signal: internals.signal,
        onRetry: internals.onRetry,
    });
    const existing = await findExistingDaemonSets(kc, daemonSetOwners(listing.items), internals);
    const classification = classifyPods(node, listing.items, opts, {
        now: new Date(),
        daemonSetExists: (namespace, name) => existing.has(`${namespace}/${name}`),
    });
    return { classification, listing };
}

/** Read-only: what a drain of `node` with `opts` would evict, skip, or refuse. */
export async function planDrain(kc: KubeConfig, node: string, opts: DrainOptions = {}): Promise<PodClassification> {
    return (await planDrainWithListing(kc, node, opts)).classification;
}
