// The "pdb" scenario: a small cluster in which draining one node is blocked
// forever by a PodDisruptionBudget.
//
//   control-plane  (node-role.kubernetes.io/control-plane, NoSchedule taint)
//   worker1        runs default/critical-* (Deployment "critical", 1 replica)
//   worker2        runs ordinary pods only
//
// BLOCKED: worker1. PDB default/critical-pdb (minAvailable: 1) selects the only
// replica of Deployment "critical", so disruptionsAllowed stays 0 and every
// eviction of critical-5f7c8d9b6d-q2x7k answers 429; `kubectl drain worker1`
// retries every 5 s forever (until --timeout).
// Not blocked: Deployment "web" (3 replicas, PDB web-pdb maxUnavailable 1: one
// eviction at a time), a DaemonSet (kube-proxy), and a StatefulSet "db" on worker2.

import { Prng } from "../random";
import { BuildContext, buildBaseCluster, buildDeployment, buildPdb, buildStatefulSet, DAYS } from "./builders";

export const PDB_BLOCKED_NODE = "worker1";
export const PDB_BLOCKING_PDB = "default/critical-pdb";

export function pdbScenario(nowMs: number, seed = 1): any {
    const ctx: BuildContext = { rng: new Prng(seed * 104729 + 3), nowMs };
    const proxyPods: Record<string, string> = {
        "control-plane": "kube-proxy-cp9xk",
        worker1: "kube-proxy-w1b7d",
        worker2: "kube-proxy-w2m4q",
    };
    const { items, nodes: byName } = buildBaseCluster(
        ctx,
        [
            {
                name: "control-plane",
                internalIP: "10.0.0.10",
                podCIDR: "10.244.0.0/24",
                version: "v1.28.5",
                labels: { "node-role.kubernetes.io/control-plane": "" },
                taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
            },
            { name: "worker1", internalIP: "10.0.0.11", podCIDR: "10.244.1.0/24", version: "v1.28.5" },
            { name: "worker2", internalIP: "10.0.0.12", podCIDR: "10.244.2.0/24", version: "v1.28.5" },
        ],
        {
            namespaces: ["default", "kube-system", "kube-node-lease"],
            kubeProxy: { image: "registry.k8s.io/kube-proxy:v1.28.5", pod: (node) => ({ name: proxyPods[node] }) },
        },
    );
    const res = { cpu: "100m", memory: "128Mi" };
    items.push(
        ...buildDeployment(
            ctx,
            {
                namespace: "default",
                name: "critical",
                rsHash: "5f7c8d9b6d",
                replicas: 1,
                ageMs: 10 * DAYS,
                template: { labels: { app: "critical" }, containers: [{ name: "app", image: "nginx:1.25", ...res }] },
                pods: [{ name: "critical-5f7c8d9b6d-q2x7k", node: "worker1", ip: "10.244.1.5", ageMs: 10 * DAYS }],
            },
            byName,
        ),
    );
    items.push(buildPdb(ctx, "default", "critical-pdb", { app: "critical" }, { minAvailable: 1 }));
    items.push(
        ...buildDeployment(
            ctx,
            {
                namespace: "default",
                name: "web",
                rsHash: "7b9c6d5f4",
                replicas: 3,
                ageMs: 10 * DAYS,
                template: { labels: { app: "web" }, containers: [{ name: "web", image: "nginx:1.25", ...res }] },
                pods: [
                    { name: "web-7b9c6d5f4-abcde", node: "worker1", ip: "10.244.1.6", ageMs: 10 * DAYS },
                    { name: "web-7b9c6d5f4-fghjk", node: "worker2", ip: "10.244.2.5", ageMs: 10 * DAYS },
                    { name: "web-7b9c6d5f4-lmnpq", node: "worker2", ip: "10.244.2.6", ageMs: 10 * DAYS },
                ],
            },
            byName,
        ),
    );
    items.push(buildPdb(ctx, "default", "web-pdb", { app: "web" }, { maxUnavailable: 1 }));

    // StatefulSet db with one replica on worker2
    items.push(
        ...buildStatefulSet(
            ctx,
            {
                namespace: "default",
                name: "db",
                ageMs: 10 * DAYS,
                podManagementPolicy: "OrderedReady",
                template: { labels: { app: "db" }, containers: [{ name: "db", image: "postgres:16", ...res }] },
                pods: [{ node: "worker2", ip: "10.244.2.7", ageMs: 10 * DAYS }],
            },
            byName,
        ),
    );
    return { kind: "List", apiVersion: "v1", metadata: { resourceVersion: "" }, items };
}
