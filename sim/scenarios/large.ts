// The "large" scenario: N nodes with M pods each, fully determined by
// (N, M, seed) — same names, UIDs and placement on every run.
//
//   nodes   node-001 .. node-N (kubelet v1.28.5; 64 cpu, 256Gi, 250 pods each)
//   pods    per node: 1 kube-proxy DaemonSet pod + (M-1) Deployment pods
//   apps    Deployments app-0000.. in namespaces team-00..team-09, 10 replicas
//           each, replica r of app d on node ((d*10 + r) mod N): spread out
//   PDBs    every 4th Deployment has a PDB with maxUnavailable 1
//   local   every 10th Deployment mounts an emptyDir

import { Prng } from "../random";
import { BuildContext, buildBaseCluster, buildDeployment, buildPdb, DAYS, NodeSpec, PlacedPod } from "./builders";

export function largeScenario(nowMs: number, nodesCount = 10, podsPerNode = 10, seed = 1): any {
    if (!(nodesCount >= 1) || !(podsPerNode >= 1)) throw new Error("large scenario needs --nodes >= 1 and --pods-per-node >= 1");
    const ctx: BuildContext = { rng: new Prng(seed * 1_000_003 + nodesCount * 7 + podsPerNode), nowMs };
    const width = Math.max(3, String(nodesCount).length);
    const nodeName = (i: number) => `node-${String(i + 1).padStart(width, "0")}`;
    const nodes: NodeSpec[] = Array.from({ length: nodesCount }, (_, i) => ({
        name: nodeName(i),
        internalIP: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        podCIDR: `10.${64 + Math.floor(i / 256)}.${i % 256}.0/24`,
        version: "v1.28.5",
        cpu: "64",
        memory: "268435456Ki",
        pods: String(Math.max(250, podsPerNode + 20)),
        ageMs: 90 * DAYS,
    }));
    const teams = Array.from({ length: 10 }, (_, i) => `team-${String(i).padStart(2, "0")}`);
    const { items, nodes: byName } = buildBaseCluster(ctx, nodes, {
        namespaces: ["default", "kube-system", "kube-node-lease", ...teams],
        kubeProxy: {
            image: "registry.k8s.io/kube-proxy:v1.28.5",
            cpu: "10m",
            pod: () => ({ name: `kube-proxy-${ctx.rng.nameSuffix()}`, ageMs: 90 * DAYS }),
        },
    });

    // next free pod IP per node
    const nextIp = new Array(nodesCount).fill(1);
    const total = nodesCount * (podsPerNode - 1);
    const replicas = 10;
    const appCount = Math.ceil(total / replicas);
    for (let d = 0; d < appCount; d++) {
        const ns = teams[d % teams.length];
        const name = `app-${String(d).padStart(4, "0")}`;
        const hash = ctx.rng.nameSuffix(9);
        const pods: PlacedPod[] = [];
        for (let r = 0; r < replicas && d * replicas + r < total; r++) {
            const idx = d * replicas + r;
            const n = idx % nodesCount;
            const host = nextIp[n]++;
            const cidr = byName.get(nodeName(n)).spec.podCIDR.split(".");
            pods.push({
                name: `${name}-${hash}-${ctx.rng.nameSuffix()}`,
                node: nodeName(n),
                ip: `${cidr[0]}.${cidr[1]}.${Number(cidr[2]) + Math.floor(host / 256)}.${host % 256}`,
                ageMs: 20 * DAYS,
            });
        }
        items.push(
            ...buildDeployment(
                ctx,
                {
                    namespace: ns,
                    name,
                    rsHash: hash,
                    replicas: pods.length,
                    ageMs: 20 * DAYS,
                    template: {
                        labels: { app: name },
                        emptyDir: d % 10 === 9,
                        containers: [{ name: "app", image: "nginx:1.25", cpu: "10m", memory: "32Mi" }],
                    },
                    pods,
                },
                byName,
            ),
        );
        if (d % 4 === 0) items.push(buildPdb(ctx, ns, `${name}-pdb`, { app: name }, { maxUnavailable: 1 }));
    }
    return { kind: "List", apiVersion: "v1", metadata: { resourceVersion: "" }, items };
}
