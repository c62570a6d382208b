// The clusters of the drain benchmark, as `kind: List` scenario files for `node dist/sim/cli.js --scenario FILE`.
// Built with the simulator's public builders and a fixed seed, so every run of a case starts from the identical
// cluster: big Ready workers w1..wN (v1.28.5), namespaces default and kube-system, a kube-proxy DaemonSet pod on
// each node (left alone by --ignore-daemonsets), and the case's Deployment.
import * as fs from "node:fs";
import { Prng, buildBaseCluster, buildDeployment, buildPdb, workerNodeSpecs, type BuildContext } from "../sim";

const SEED = 99;

function baseCluster(nodeNames: string[]) {
    const ctx: BuildContext = { rng: new Prng(SEED), nowMs: Date.now() };
    const nodes = workerNodeSpecs(nodeNames, { version: "v1.28.5", pods: "250", cpu: "64", memory: "256Gi" });
    const { items, nodes: byName } = buildBaseCluster(ctx, nodes, { kubeProxy: { image: "kube-proxy:v1.28.5" } });
    return { ctx, byName, items };
}

/** A Deployment of tiny nginx pods placed as given. */
function deployment(b: ReturnType<typeof baseCluster>, name: string, rsHash: string, grace: number, placement: string[]) {
    const template = {
        labels: { app: name },
        terminationGracePeriodSeconds: grace,
        containers: [{ name: "app", image: "nginx:1.25", cpu: "1m", memory: "1Mi" }],
    };
    const pods = placement.map((node, i) => ({ name: `${name}-${rsHash}-${String(i).padStart(3, "0")}`, node }));
    return buildDeployment(b.ctx, { namespace: "default", name, rsHash, template, pods }, b.byName);
}

/** (a) 100 pods of one Deployment on w1, no PodDisruptionBudget, grace period 2 s. */
export function unconstrainedScenario(): { kind: "List"; items: any[] } {
    const b = baseCluster(["w1", "w2", "w3"]);
    b.items.push(...deployment(b, "bulk", "6d4f8b7c9", 2, Array(100).fill("w1")));
    return { kind: "List", items: b.items };
}

/** (b) a 10-replica Deployment, 6 replicas on w1, a maxUnavailable=1 PodDisruptionBudget, grace period 1 s. */
export function budgetScenario(): { kind: "List"; items: any[] } {
    const b = baseCluster(["w1", "w2", "w3", "w4"]);
    b.items.push(...deployment(b, "web", "5c9d7b8f6", 1, ["w1", "w1", "w1", "w1", "w1", "w1", "w2", "w3", "w4", "w2"]));
    b.items.push(buildPdb(b.ctx, "default", "web-pdb", { app: "web" }, { maxUnavailable: 1 }));
    return { kind: "List", items: b.items };
}

/** Write a scenario List as JSON (what `kubectl get -o json` prints), for the simulator's --scenario FILE. */
export function writeScenario(file: string, list: { kind: "List"; items: any[] }): string {
    fs.writeFileSync(file, JSON.stringify({ apiVersion: "v1", ...list }));
    return file;
}
