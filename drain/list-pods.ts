// Listing the pods of a node like kubectl's GetPodsForDeletion: all namespaces, fieldSelector
// spec.nodeName=<node>, the --pod-selector, pages of --chunk-size (limit/continue). An expired continue
// token (410) restarts the listing from the beginning, as client-go's pager does.
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware, V1Pod } from "@kubernetes/client-node";
import { KubeApiError, isGone, toApiFailure } from "./api-errors";
import { clientFor, type KubeClient } from "./kube-client";
import { RetryOptions, withRetry } from "./retry";

export interface Page<T> {
    items: T[];
    metadata?: { _continue?: string; resourceVersion?: string };
}

export interface Listing<T> {
    items: T[];
    /** resourceVersion of the (first page's) snapshot; a watch can start from it. */
    resourceVersion?: string;
}

/** Follows continue tokens; restarts once per 410 Expired (at most 5 times). */
export async function listAllPages<T>(
    what: string,
    fetchPage: (token: string | undefined) => Promise<Page<T>>,
    retry: RetryOptions = {},
): Promise<Listing<T>> {
    for (let restarts = 0; ; restarts++) {
        const items: T[] = [];
        let token: string | undefined;
        let resourceVersion: string | undefined;
        try {
            do {
                const page = await withRetry(what, () => fetchPage(token), retry);
                items.push(...(page.items ?? []));
                resourceVersion ??= page.metadata?.resourceVersion;
                token = page.metadata?._continue || undefined;
            } while (token);
            return { items, resourceVersion };
        } catch (err) {
            const failure = err instanceof KubeApiError ? err.failure : toApiFailure(err);
            if (token && isGone(failure) && restarts < 5) continue; // continue token expired: start over
            throw err;
        }
    }
}

/** One page of a LIST made with one of the client's APIs, e.g. `(c, page, o) => c.apps.listDaemonSetForAllNamespaces(page, o)`. */
export type PageCall<T> = (
    client: KubeClient,
    page: { limit?: number; _continue?: string },
    options: ConfigurationOptions<ObservableMiddleware>,
) => Promise<Page<T>>;

/**
 * Every object a LIST returns, read as the engine reads: through the KubeConfig's client (a time limit per
 * request, and the fail-fast and retry reports its owner set, e.g. the CLI), transient errors retried, pages of
 * `chunkSize` (default 500), an expired continue token restarting the list. For readers outside the engine
 * (the planner's snapshot), so that they meet a flaky API server as a drain does.
 */
export async function listEvery<T>(
    kc: KubeConfig,
    what: string,
    call: PageCall<T>,
    opts: { signal?: AbortSignal; chunkSize?: number } = {},
): Promise<T[]> {
    const client = clientFor(kc);
    const limit = opts.chunkSize ?? 500;
    const page = (token: string | undefined) => ({ limit: limit > 0 ? limit : undefined, _continue: token });
    const { items } = await listAllPages<T>(what, (token) => client.call((o) => call(client, page(token), o), { signal: opts.signal }), {
        signal: opts.signal,
    });
    return items;
}

export interface ListPodsOptions {
    podSelector?: string;
    /** Page size; 0 = one request. Default 500. */
    chunkSize?: number;
    signal?: AbortSignal;
    onRetry?: RetryOptions["onRetry"];
}

/** Every pod bound to `node`, in all namespaces, with the listing's resourceVersion. */
export async function listPodsOnNodeWithVersion(kc: KubeConfig, node: string, opts: ListPodsOptions = {}): Promise<Listing<V1Pod>> {
    const client = clientFor(kc);
    const limit = opts.chunkSize === undefined ? 500 : opts.chunkSize;
    return listAllPages<V1Pod>(
        `list pods on node "${node}"`,
        (token) =>
            client.call(
                (o) =>
                    client.core.listPodForAllNamespaces(
                        {
                            fieldSelector: `spec.nodeName=${node}`,
                            labelSelector: opts.podSelector || undefined,
                            limit: limit > 0 ? limit : undefined,
                            _continue: token,
                        },
                        o,
                    ),
                { signal: opts.signal },
            ),
        { signal: opts.signal, onRetry: opts.onRetry },
    );
}

export async function listPodsOnNode(
    kc: KubeConfig,
    node: string,
    opts: { podSelector?: string; chunkSize?: number } = {},
): Promise<V1Pod[]> {
    return (await listPodsOnNodeWithVersion(kc, node, opts)).items;
}
