// Getting a ClusterSnapshot: from a live cluster (LIST requests and GET /version, never a write) or from a
// file holding what `kubectl get nodes,pods,deploy,rs,ds,sts,pdb -A -o json` (or `-o yaml`) prints.
import { setMaxListeners } from "node:events";
import { readFileSync, statSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { listEvery, readServerVersion, type PageCall } from "../drain";
import type { ClusterSnapshot } from "./types";

/**
 * Lists everything the planner needs, in all namespaces, and the API server's version. Read-only: GET requests
 * only. It reads through the drain engine's client, so `node-upgrade plan` and `pulumi preview` meet a flaky API
 * server as a drain does: 429/503 retried (the CLI says so on stderr), a refused first contact failing at once, a
 * 401 in one line naming the kubeconfig.
 */
export async function snapshotFromCluster(kc: KubeConfig): Promise<ClusterSnapshot> {
    // The first list that fails fails the snapshot; the others stop rather than retry on unseen.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every request and retry sleep of the eight reads listens on it
    const list = <T>(what: string, call: PageCall<T>): Promise<T[]> =>
        listEvery(kc, what, call, { signal: stop.signal }).catch((err) => {
            stop.abort(err);
            throw err;
        });
    const takenAt = new Date();
    const [version, nodes, pods, podDisruptionBudgets, replicaSets, deployments, statefulSets, daemonSets] = await Promise.all([
        // Without it the planner falls back to the kube-apiserver pods and says so.
        readServerVersion(kc, stop.signal).catch(() => undefined),
        list("list nodes", (c, page, o) => c.core.listNode(page, o)),
        list("list pods", (c, page, o) => c.core.listPodForAllNamespaces(page, o)),
        list("list PodDisruptionBudgets", (c, page, o) => c.policy.listPodDisruptionBudgetForAllNamespaces(page, o)),
        list("list ReplicaSets", (c, page, o) => c.apps.listReplicaSetForAllNamespaces(page, o)),
        list("list Deployments", (c, page, o) => c.apps.listDeploymentForAllNamespaces(page, o)),
        list("list StatefulSets", (c, page, o) => c.apps.listStatefulSetForAllNamespaces(page, o)),
        list("list DaemonSets", (c, page, o) => c.apps.listDaemonSetForAllNamespaces(page, o)),
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
