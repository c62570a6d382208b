// Planner benchmark: a synthetic cluster of 15,000 nodes and 450,000 pods (Deployments and StatefulSets
// with PodDisruptionBudgets, DaemonSets on every node, some emptyDir pods), planned over every node in
// batches of 1. Target: planRoll in at most 5 s, and every node reached: each has a verdict from its own
// drain and upgrade checks, and none is left behind a blocked one. Exits 1 when either fails.
//   npm run bench:plan            (NODES=… PODS=… to change the size)
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { emptySnapshot, formatPlan, planRoll, type ClusterSnapshot, type RollPlan } from "../planner";

const NODES = Number(process.env.NODES ?? 15000);
const PODS = Number(process.env.PODS ?? 450000);
const TARGET_SECONDS = 5;
const CONTROL_PLANES = 3;
const NAMESPACES = 100;
const REPLICAS_PER_WORKLOAD = 10;
const DAEMONSETS = ["kube-proxy", "node-exporter", "cni"];

/** Deterministic pseudo-random numbers (mulberry32), so every run plans the same cluster. */
function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export function buildSnapshot(): ClusterSnapshot {
    const rnd = random(42);
    const snapshot: ClusterSnapshot = emptySnapshot();
    const ready = [{ type: "Ready", status: "True" }];
    const workers: string[] = [];
    for (let i = 0; i < NODES; i++) {
        const controlPlane = i < CONTROL_PLANES;
        const name = controlPlane ? `cp-${i}` : `node-${String(i).padStart(5, "0")}`;
        if (!controlPlane) workers.push(name);
        const node: V1Node = {
            metadata: {
                name,
                uid: `node-${i}`,
                labels: {
                    "kubernetes.io/hostname": name,
                    "topology.kubernetes.io/zone": `zone-${i % 3}`,
                    ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
                },
            },
            spec: controlPlane ? { taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] } : {},
            status: {
                allocatable: { cpu: "16", memory: "64Gi", pods: "110" },
                conditions: ready,
                nodeInfo: { kubeletVersion: "v1.29.5" } as NonNullable<V1Node["status"]>["nodeInfo"],
            },
        };
        snapshot.nodes.push(node);
    }

    const pod = (
        namespace: string,
        name: string,
        nodeName: string,
        labels: Record<string, string>,
        owner: { kind: string; name: string; uid: string },
        emptyDir: boolean,
        cpu: number,
        memMi: number,
    ): V1Pod => ({
        metadata: {
            name,
            namespace,
            uid: `${namespace}/${name}`,
            labels,
            ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }],
        },
        spec: {
            nodeName,
            containers: [{ name: "main", image: "app", resources: { requests: { cpu: `${cpu}m`, memory: `${memMi}Mi` } } }],
            volumes: emptyDir ? [{ name: "scratch", emptyDir: {} }] : undefined,
            tolerations: owner.kind === "DaemonSet" ? [{ operator: "Exists" }] : undefined,
        },
        status: { phase: "Running", conditions: ready },
    });

    // DaemonSets: one pod per node.
    for (const ds of DAEMONSETS) {
        const uid = `ds-${ds}`;
        snapshot.daemonSets.push({ metadata: { name: ds, namespace: "kube-system", uid }, spec: { selector: {}, template: {} } });
        for (const node of snapshot.nodes) {
            const nodeName = node.metadata!.name!;
            snapshot.pods.push(
                pod("kube-system", `${ds}-${nodeName}`, nodeName, { app: ds }, { kind: "DaemonSet", name: ds, uid }, false, 50, 64),
            );
        }
    }

    // Workloads with budgets fill the rest; pods land on random workers.
    let workload = 0;
    while (snapshot.pods.length < PODS) {
        const namespace = `team-${workload % NAMESPACES}`;
        const name = `app-${workload}`;
        const labels = { app: name };
        const replicas = Math.min(REPLICAS_PER_WORKLOAD, PODS - snapshot.pods.length);
        const stateful = workload % 10 === 0;
        const emptyDir = workload % 7 === 0;
        const cpu = 50 + Math.floor(rnd() * 200);
        const memMi = 64 + Math.floor(rnd() * 448);
        let owner: { kind: string; name: string; uid: string };
        if (stateful) {
            owner = { kind: "StatefulSet", name, uid: `sts-${workload}` };
            snapshot.statefulSets.push({
                metadata: { name, namespace, uid: owner.uid },
                spec: { replicas, selector: { matchLabels: labels }, template: {}, serviceName: name },
            });
        } else {
            const rs = `${name}-7f9c`;
            snapshot.deployments.push({
                metadata: { name, namespace, uid: `deploy-${workload}` },
                spec: { replicas, selector: { matchLabels: labels }, template: {} },
            });
            snapshot.replicaSets.push({
                metadata: {
                    name: rs,
                    namespace,
                    uid: `rs-${workload}`,
                    ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: `deploy-${workload}`, controller: true }],
                },
                spec: { replicas, selector: { matchLabels: labels } },
            });
            owner = { kind: "ReplicaSet", name: rs, uid: `rs-${workload}` };
        }
        // Most workloads have a budget; the rule varies.
        const rule = workload % 5;
        if (rule !== 4) {
            snapshot.podDisruptionBudgets.push({
                metadata: { name: `${name}-pdb`, namespace, uid: `pdb-${workload}`, generation: 1 },
                spec: {
                    selector: { matchLabels: labels },
                    ...(rule === 0
                        ? { maxUnavailable: 1 }
                        : rule === 1
                          ? { minAvailable: "50%" }
                          : rule === 2
                            ? { maxUnavailable: "20%" }
                            : { minAvailable: replicas - 2 }),
                },
            });
        }
        for (let r = 0; r < replicas; r++) {
            const nodeName = workers[Math.floor(rnd() * workers.length)];
            const podName = stateful ? `${name}-${r}` : `${name}-7f9c-${r.toString(36)}`;
            snapshot.pods.push(pod(namespace, podName, nodeName, labels, owner, emptyDir, cpu, memMi));
        }
        workload++;
    }
    // In the order the API lists them (by namespace, then name), as `kubectl get pods -A -o json` prints them.
    const keyed = snapshot.pods.map((p) => ({ key: `${p.metadata!.namespace}/${p.metadata!.name}`, p }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    snapshot.pods = keyed.map((k) => k.p);
    return snapshot;
}

/** Nodes the plan did not reach, with why: missing from the plan, without a verdict, or behind a blocked node. */
function unreached(snapshot: ClusterSnapshot, plan: RollPlan): string[] {
    const problems: string[] = [];
    const planned = new Map(plan.nodes.map((n) => [n.node, n]));
    for (const node of snapshot.nodes) {
        const name = node.metadata!.name!;
        const p = planned.get(name);
        if (!p) problems.push(`${name}: not in the plan`);
        else if (!["ok", "waits", "blocked", "skip"].includes(p.verdict)) problems.push(`${name}: no verdict (${p.verdict})`);
        else if (p.assumesUnblocked) problems.push(`${name}: reached only if ${p.assumesUnblocked.join(", ")} were unblocked`);
    }
    return problems;
}

function main(): void {
    const builtAt = process.hrtime.bigint();
    const snapshot = buildSnapshot();
    const buildSeconds = Number(process.hrtime.bigint() - builtAt) / 1e9;

    const start = process.hrtime.bigint();
    const plan = planRoll(snapshot, {
        all: true,
        batchSize: 1,
        targetVersion: "v1.30.0",
        drain: { ignoreDaemonSets: true, deleteEmptyDirData: true },
    });
    const planSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const textStart = process.hrtime.bigint();
    const text = formatPlan(plan);
    const textSeconds = Number(process.hrtime.bigint() - textStart) / 1e9;

    const c = plan.counts;
    console.log(`nodes=${snapshot.nodes.length} pods=${snapshot.pods.length} plan_s=${planSeconds.toFixed(3)}`);
    console.log(
        `  snapshot build ${buildSeconds.toFixed(2)} s; format ${textSeconds.toFixed(2)} s (${text.length} chars); ` +
            `${snapshot.podDisruptionBudgets.length} budgets; verdicts: ${c.ok} ok, ${c.waits} waits, ${c.blocked} blocked, ${c.skip} skipped, ${c.notReached} not reached; ${c.evictions} evictions`,
    );
    const fast = planSeconds <= TARGET_SECONDS;
    console.log(`${fast ? "PASS" : "FAIL"}: planRoll ${planSeconds.toFixed(2)} s vs target ${TARGET_SECONDS} s`);
    const missed = unreached(snapshot, plan);
    console.log(
        missed.length === 0
            ? `PASS: all ${snapshot.nodes.length} nodes reached`
            : `FAIL: ${missed.length} of ${snapshot.nodes.length} nodes not reached: ${missed.slice(0, 5).join("; ")}${missed.length > 5 ? "; ..." : ""}`,
    );
    if (!fast || missed.length > 0) process.exitCode = 1;
}

if (require.main === module) main();
