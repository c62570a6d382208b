// Getting a ClusterSnapshot: from a live cluster (LIST requests and GET /version, never a write) or from a
// file holding what `kubectl get nodes,pods,deploy,rs,ds,sts,pdb -A -o json` (or `-o yaml`) prints.
import { readFileSync, statSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { ClusterSnapshot } from "./types";

/** Page size of every LIST, as kubectl's --chunk-size default. */
const PAGE_SIZE = 500;

interface Page<T> {
    items: T[];
    metadata?: { _continue?: string };
}

/** Follows `continue` tokens until the list is complete; starts over once if a token expires (410). */
async function listAll<T>(fetchPage: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
        const items: T[] = [];
        let cont: string | undefined;
        try {
            do {
                const page = await fetchPage(cont);
                items.push(...page.items);
                cont = page.metadata?._continue || undefined;
            } while (cont);
            return items;
        } catch (err) {
            const code = (err as { code?: number }).code;
            if (code === 410 && attempt === 0) continue;
            throw err;
        }
    }
}

/**
 * The API server's version (GET /version, which every authenticated user may read). Undefined when it cannot
 * be read: the planner then falls back to the kube-apiserver pods and says so.
 */
async function serverVersion(kc: KubeConfig, k8s: typeof import("@kubernetes/client-node")): Promise<string | undefined> {
    try {
        const info = await kc.makeApiClient(k8s.VersionApi).getCode();
        return info.gitVersion || undefined;
    } catch {
        return undefined;
    }
}

/** Lists everything the planner needs, in all namespaces, and the API server's version. Read-only: GET requests only. */
export async function snapshotFromCluster(kc: KubeConfig): Promise<ClusterSnapshot> {
    // Loaded here so that planning from a file or in tests does not load the client.
    const k8s = await import("@kubernetes/client-node");
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const policy = kc.makeApiClient(k8s.PolicyV1Api);
    const paged = { limit: PAGE_SIZE };
    const takenAt = new Date();
    const [version, nodes, pods, podDisruptionBudgets, replicaSets, deployments, statefulSets, daemonSets] = await Promise.all([
        serverVersion(kc, k8s),
        listAll((_continue) => core.listNode({ ...paged, _continue })),
        listAll((_continue) => core.listPodForAllNamespaces({ ...paged, _continue })),
        listAll((_continue) => policy.listPodDisruptionBudgetForAllNamespaces({ ...paged, _continue })),
        listAll((_continue) => apps.listReplicaSetForAllNamespaces({ ...paged, _continue })),
        listAll((_continue) => apps.listDeploymentForAllNamespaces({ ...paged, _continue })),
        listAll((_continue) => apps.listStatefulSetForAllNamespaces({ ...paged, _continue })),
        listAll((_continue) => apps.listDaemonSetForAllNamespaces({ ...paged, _continue })),
    ]);
    const snapshot: ClusterSnapshot = { nodes, pods, podDisruptionBudgets, replicaSets, deployments, statefulSets, daemonSets, takenAt };
    if (version) snapshot.serverVersion = version;
    return snapshot;
}

type AnyObject = { kind?: string; items?: unknown[]; [key: string]: unknown };

const FIELD_BY_KIND: Record<string, keyof Omit<ClusterSnapshot, "takenAt" | "serverVersion">> = {
    Node: "nodes",
    Pod: "pods",
    PodDisruptionBudget: "podDisruptionBudgets",
    ReplicaSet: "replicaSets",
    Deployment: "deployments",
    StatefulSet: "statefulSets",
    DaemonSet: "daemonSets",
};

export function emptySnapshot(takenAt: Date | string = new Date()): ClusterSnapshot {
    return { nodes: [], pods: [], podDisruptionBudgets: [], replicaSets: [], deployments: [], statefulSets: [], daemonSets: [], takenAt };
}

/** Files the objects of a List (or typed list, or single object) into the snapshot by kind. */
function collect(obj: unknown, into: ClusterSnapshot, kindHint?: string): void {
    if (!obj || typeof obj !== "object") return;
    const o = obj as AnyObject;
    if (Array.isArray(o.items)) {
        // A typed list (PodList) may leave out each item's kind.
        const hint = o.kind && o.kind !== "List" && o.kind.endsWith("List") ? o.kind.slice(0, -4) : undefined;
        for (const item of o.items) collect(item, into, hint);
        return;
    }
    const field = FIELD_BY_KIND[o.kind ?? kindHint ?? ""];
    if (field) (into[field] as unknown[]).push(o);
}

/** Parses snapshot text (JSON or YAML, one or many documents). Other kinds in the file are ignored. */
export function snapshotFromText(text: string, takenAt: Date | string = new Date()): ClusterSnapshot {
    const snapshot = emptySnapshot(takenAt);
    const trimmed = text.trimStart();
    const documents: unknown[] =
        trimmed.startsWith("{") || trimmed.startsWith("[")
            ? [JSON.parse(text)]
            : parseAllDocuments(text).map((d) => {
                  if (d.errors.length > 0) throw new Error(`not valid YAML: ${d.errors[0].message}`);
                  return d.toJS();
              });
    for (const doc of documents) {
        const d = doc as AnyObject & Partial<ClusterSnapshot>;
        if (Array.isArray(doc)) for (const item of doc) collect(item, snapshot);
        else if (d && !d.kind && Array.isArray(d.nodes)) {
            // A ClusterSnapshot saved as JSON.
            for (const field of Object.values(FIELD_BY_KIND)) (snapshot[field] as unknown[]).push(...((d[field] as unknown[]) ?? []));
            if (d.takenAt) snapshot.takenAt = d.takenAt;
            if (typeof d.serverVersion === "string") snapshot.serverVersion = d.serverVersion;
        } else collect(doc, snapshot);
    }
    return snapshot;
}

/** Reads a snapshot file; "taken at" is the file's modification time (kubectl output carries no time). */
export function snapshotFromFile(path: string): ClusterSnapshot {
    const text = readFileSync(path, "utf8");
    return snapshotFromText(text, statSync(path).mtime);
}
