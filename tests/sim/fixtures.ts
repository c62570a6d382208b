// Small hand-made clusters for the simulator tests.

import { Prng } from "../../sim/random";
import {
    BuildContext,
    buildBaseCluster,
    buildDeployment,
    buildPdb,
    buildPod,
    buildTemplate,
    PlacedPod,
    workerNodeSpecs,
} from "../../sim/scenarios/builders";

export interface Fixture {
    ctx: BuildContext;
    nodes: Map<string, any>;
    items: any[];
}

/** Three Ready worker nodes (w1, w2, w3), namespaces default and kube-system, a kube-proxy DaemonSet. */
export function baseCluster(nodeNames = ["w1", "w2", "w3"]): Fixture {
    const ctx: BuildContext = { rng: new Prng(42), nowMs: Date.now() };
    const nodes = workerNodeSpecs(nodeNames, { version: "v1.28.5" });
    return { ctx, ...buildBaseCluster(ctx, nodes, { kubeProxy: { image: "kube-proxy:v1.28.5" } }) };
}

export function addDeployment(
    f: Fixture,
    name: string,
    pods: PlacedPod[],
    o: { ns?: string; replicas?: number; emptyDir?: boolean; grace?: number; annotations?: Record<string, string> } = {},
): void {
    f.items.push(
        ...buildDeployment(
            f.ctx,
            {
                namespace: o.ns ?? "default",
                name,
                rsHash: `${name.length}8f9c7d6b`.slice(0, 9).replace(/[aeiou01]/g, "x"),
                replicas: o.replicas ?? pods.length,
                template: {
                    labels: { app: name },
                    emptyDir: o.emptyDir,
                    terminationGracePeriodSeconds: o.grace,
                    annotations: o.annotations,
                    containers: [{ name: "app", image: "nginx:1.25", cpu: "10m", memory: "16Mi" }],
                },
                pods,
            },
            f.nodes,
        ),
    );
}

export function addPdb(f: Fixture, name: string, app: string, spec: any, ns = "default"): any {
    const pdb = buildPdb(f.ctx, ns, name, { app }, spec);
    f.items.push(pdb);
    return pdb;
}

/** A pod with no owner (bare pod). */
export function addBarePod(
    f: Fixture,
    name: string,
    node: string,
    o: {
        ns?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        emptyDir?: boolean;
        phase?: string;
        finalizers?: string[];
        grace?: number;
        owner?: any;
    } = {},
): any {
    const tpl = buildTemplate({
        labels: o.labels ?? { app: name },
        annotations: o.annotations,
        emptyDir: o.emptyDir,
        terminationGracePeriodSeconds: o.grace,
        containers: [{ name: "c", image: "busybox:1.36" }],
    });
    const pod = buildPod(f.ctx, o.ns ?? "default", tpl, o.owner, { name, node }, f.nodes.get(node));
    if (o.phase) {
        pod.status.phase = o.phase;
        if (o.phase === "Succeeded") {
            pod.status.conditions = pod.status.conditions.map((c: any) =>
                c.type === "Ready" || c.type === "ContainersReady" ? { ...c, status: "False", reason: "PodCompleted" } : c,
            );
            pod.status.containerStatuses = pod.status.containerStatuses.map((s: any) => ({
                ...s,
                ready: false,
                state: { terminated: { exitCode: 0, reason: "Completed" } },
            }));
        }
    }
    if (o.finalizers) pod.metadata.finalizers = o.finalizers;
    f.items.push(pod);
    return pod;
}

export function list(f: Fixture): { kind: "List"; items: any[] } {
    return { kind: "List", items: f.items };
}
