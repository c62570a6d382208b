// A simulated cluster's objects as `kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json` prints them: what
// `node-upgrade rehearse --snapshot` (and `node-upgrade plan --snapshot`) read. For trying rehearse on the
// simulator's scenarios, and for tests.
import type { SimCluster } from "../sim";

const KINDS = ["nodes", "pods", "poddisruptionbudgets", "deployments", "replicasets", "statefulsets", "daemonsets"];

export function snapshotListOf(cluster: Pick<SimCluster, "list">): {
    apiVersion: "v1";
    kind: "List";
    items: any[];
    metadata: { resourceVersion: string };
} {
    const items: any[] = [];
    for (const kind of KINDS) {
        for (const o of cluster.list(kind)) {
            if (o.metadata) delete o.metadata.managedFields;
            items.push(o);
        }
    }
    return { apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } };
}
