// Reading nodes: the few facts cordon/drain/upgrade decisions need, in one flat shape.
import { CORDONED_BY_ANNOTATION, isControlPlaneLabels, isNodeReady } from "../kube-rules";
import type { KubeConfig, V1Node } from "@kubernetes/client-node";
import { KubeApiError, isNotFound } from "./api-errors";
import { clientFor } from "./kube-client";
import { listAllPages } from "./list-pods";
import { withRetry } from "./retry";

export interface NodeInfo {
    name: string;
    unschedulable: boolean;
    /** The node carries our cordoned-by annotation. */
    cordonedByUs: boolean;
    ready: boolean;
    kubeletVersion: string;
    internalIP?: string;
    controlPlane: boolean;
    labels: Record<string, string>;
}

export function summarizeNode(node: V1Node): NodeInfo {
    const labels = node.metadata?.labels ?? {};
    return {
        name: node.metadata?.name ?? "",
        unschedulable: !!node.spec?.unschedulable,
        cordonedByUs: node.metadata?.annotations?.[CORDONED_BY_ANNOTATION] !== undefined,
        ready: isNodeReady(node),
        kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? "",
        internalIP: node.status?.addresses?.find((a) => a.type === "InternalIP")?.address,
        controlPlane: isControlPlaneLabels(labels),
        labels,
    };
}

/** GET a node (retrying transient errors). 404 → Error `node "x" not found`. */
export async function getNode(kc: KubeConfig, name: string, signal?: AbortSignal): Promise<V1Node> {
    const client = clientFor(kc);
    try {
        return await withRetry(`get node "${name}"`, () => client.call((o) => client.core.readNode({ name }, o), { signal }), { signal });
    } catch (err) {
        if (err instanceof KubeApiError && isNotFound(err.failure)) throw new KubeApiError(`node "${name}" not found`, err.failure);
        throw err;
    }
}

export async function readNode(kc: KubeConfig, node: string): Promise<NodeInfo> {
    return summarizeNode(await getNode(kc, node));
}

/** The API server's version (GET /version, which every authenticated user may read), retried like every read. */
export async function readServerVersion(kc: KubeConfig, signal?: AbortSignal): Promise<string | undefined> {
    const client = clientFor(kc);
    const info = await withRetry("get the API server version", () => client.call((o) => client.version.getCode({}, o), { signal }), {
        signal,
    });
    return info.gitVersion || undefined;
}

/** Lists nodes (optionally by label selector), chunked at 500 like kubectl. */
export async function listNodes(kc: KubeConfig, labelSelector?: string): Promise<NodeInfo[]> {
    const client = clientFor(kc);
    const { items } = await listAllPages("list nodes", (token) =>
        client.call((o) => client.core.listNode({ labelSelector: labelSelector || undefined, limit: 500, _continue: token }, o)),
    );
    return items.map(summarizeNode);
}
