// Listing the pods of a node like kubectl's GetPodsForDeletion: all namespaces, fieldSelector
// spec.nodeName=<node>, the --pod-selector, pages of --chunk-size (limit/continue). An expired continue
// token (410) restarts the listing from the beginning, as client-go's pager does.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { KubeApiError, isGone, toApiFailure } from "./api-errors";
import { clientFor } from "./kube-client";
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
