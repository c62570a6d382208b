// The plan against what really happens: the simulated "seed" cluster is planned from the live API (as
// `pulumi preview` and `node-upgrade plan` do), then rolled for real with the drain engine, batch by batch in the
// plan's order (cordon, drain, upgrade through the simulator, wait Ready, uncordon), and the evictions the plan
// predicted for each node are compared with the evictions the drain made there. The simulator's scheduler is
// the referee for where replacement pods go.
import assert from "node:assert/strict";
import type { KubeConfig } from "@kubernetes/client-node";
import { drain, loadKubeConfig, uncordon, waitForNode, type DrainOptions } from "../../drain";
import { planRoll, snapshotFromCluster } from "../../planner";
import type { RollPlan } from "../../planner/types";
import { startCluster, type SimCluster } from "../../sim";

const TARGET = "v1.20.0";

/** "Deployment default/http-go": the planner's owner text, for a live pod. */
function ownerOf(sim: SimCluster, pod: any): string {
    const ref = (pod.metadata.ownerReferences ?? []).find((r: any) => r.controller);
    if (!ref) return "no controller";
    if (ref.kind === "ReplicaSet") {
        const rs = sim.get("ReplicaSet", pod.metadata.namespace, ref.name);
        const deployment = (rs?.metadata?.ownerReferences ?? []).find((r: any) => r.controller && r.kind === "Deployment");
        if (deployment) return `Deployment ${pod.metadata.namespace}/${deployment.name}`;
    }
    return `${ref.kind} ${pod.metadata.namespace}/${ref.name}`;
}

/** "Deployment default/http-go ×5, ..." sorted, for equal comparison. */
function tally(owners: string[]): string[] {
    const counts = new Map<string, number>();
    for (const o of owners) counts.set(o, (counts.get(o) ?? 0) + 1);
    return [...counts].map(([o, n]) => `${o} ×${n}`).sort();
}

interface NodeEvictions {
    /** Evicted pods that were in the snapshot, by name. */
    known: string[];
    /** Owners of every evicted pod (those created during the roll included). */
    owners: string[];
}

function predicted(plan: RollPlan): Map<string, NodeEvictions> {
    const out = new Map<string, NodeEvictions>();
    for (const n of plan.nodes) {
        out.set(n.node, {
            known: n.evict
                .filter((e) => e.replaces === undefined)
                .map((e) => e.pod)
                .sort(),
            owners: n.evict.map((e) => e.owner),
        });
    }
    return out;
}

/** Rolls the cluster in the plan's batches with the drain engine; returns what each drain evicted. */
async function roll(
    sim: SimCluster,
    kc: KubeConfig,
    plan: RollPlan,
    opts: DrainOptions,
    snapshotPods: Set<string>,
): Promise<Map<string, NodeEvictions>> {
    const batches = new Map<number, string[]>();
    for (const n of plan.nodes) if (n.batch > 0) batches.set(n.batch, [...(batches.get(n.batch) ?? []), n.node]);
    const out = new Map<string, NodeEvictions>();
    for (const nodes of batches.values()) {
        await Promise.all(
            nodes.map(async (node) => {
                const owners = new Map(
                    sim
                        .list("Pod")
                        .filter((p) => p.spec?.nodeName === node)
                        .map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, ownerOf(sim, p)]),
                );
                const result = await drain(kc, node, { ...opts, timeoutSeconds: 120 });
                const evicted = result.evicted.map((e) => e.pod);
                out.set(node, {
                    known: evicted.filter((p) => snapshotPods.has(p)).sort(),
                    owners: evicted.map((p) => owners.get(p) ?? "?"),
                });
                await sim.upgradeNode(node, TARGET);
                await waitForNode(kc, node, { kubeletVersion: TARGET, timeoutSeconds: 60 });
                await uncordon(kc, node);
            }),
        );
    }
    return out;
}

/** The practice's PodDisruptionBudget for http-go (the demo declares it unless --no-pdb). */
const HTTP_GO_PDB = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "http-go", namespace: "default" },
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: "http-go" } } },
};

/** Plans the seed cluster from the live API, rolls it, and returns both sides per node. */
async function planAndRoll(drainOptions: DrainOptions, o: { pdb?: boolean; startupDelaySeconds?: number } = {}) {
    // Pods take 30 simulated seconds to start (as real pods take seconds while evictions take milliseconds), so the
    // drain's first wave of evictions is out before any replacement is Ready, at any time scale.
    const sim = await startCluster({ scenario: "seed", timeScale: 100, startupDelaySeconds: o.startupDelaySeconds ?? 30 });
    try {
        if (o.pdb) sim.apply(HTTP_GO_PDB);
        await sim.settle();
        const kc = loadKubeConfig({ kubeconfig: sim.kubeconfig });
        const snapshot = await snapshotFromCluster(kc);
        if (o.pdb) assert.equal(snapshot.podDisruptionBudgets.length, 1);
        const plan = planRoll(snapshot, { all: true, targetVersion: TARGET, drain: drainOptions });
        const got = await roll(
            sim,
            kc,
            plan,
            drainOptions,
            new Set(snapshot.pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)),
        );
        return { plan, want: predicted(plan), got };
    } finally {
        await sim.stop();
    }
}

const NODES = ["master", "worker1", "worker2"];

describe("planner fidelity: predicted evictions against a real roll of the simulated seed cluster", function () {
    this.timeout(120_000);

    it("kubectl's drain (every pod at once): the evictions of every node, by pod and by workload, are the plan's", async () => {
        const { plan, want, got } = await planAndRoll({ ignoreDaemonSets: true, deleteEmptyDirData: true });
        assert.deepEqual(
            plan.nodes.map((n) => [n.node, n.verdict]),
            [
                ["master", "ok"],
                ["worker1", "ok"],
                ["worker2", "ok"],
            ],
        );
        for (const node of NODES) {
            assert.deepEqual(got.get(node)!.known, want.get(node)!.known, `${node}: evicted snapshot pods`);
            assert.deepEqual(tally(got.get(node)!.owners), tally(want.get(node)!.owners), `${node}: evictions by workload`);
        }
        // worker2 holds its own 2 http-go pods and what master's and worker1's drains sent it.
        assert.equal(want.get("worker2")!.owners.length, 12);
        // Pods created during the roll are not named after the pods they replace.
        const worker2 = plan.nodes.find((n) => n.node === "worker2")!;
        assert.ok(worker2.evict.some((x) => x.replaces));
        for (const e of worker2.evict.filter((x) => x.replaces)) assert.match(e.pod, /^a new \S+ pod \(replacing \S+\)$/);
    });

    it("with the practice's PodDisruptionBudget (http-go evicted one at a time): the same, pod by pod", async () => {
        const { plan, want, got } = await planAndRoll({ ignoreDaemonSets: true, deleteEmptyDirData: true }, { pdb: true });
        assert.deepEqual(
            plan.nodes.map((n) => n.verdict),
            ["waits", "waits", "waits"],
        );
        for (const node of NODES) {
            assert.deepEqual(got.get(node)!.known, want.get(node)!.known, `${node}: evicted snapshot pods`);
            assert.deepEqual(tally(got.get(node)!.owners), tally(want.get(node)!.owners), `${node}: evictions by workload`);
        }
        assert.equal(want.get("worker2")!.owners.length, 10);
    });

    it("with maxUnavailablePerWorkload 1 (the components' default): as many evictions per node, and the replicated workloads spread as planned", async () => {
        // The drain engine reads each workload's controller before its first eviction, so the first wave goes out in
        // the order those reads answer, not in listing order. Single-replica workloads can therefore swap nodes with
        // each other (the scheduler's "fewest pods" tie-break sees them in another order); counts per node hold.
        const { plan, want, got } = await planAndRoll({ ignoreDaemonSets: true, deleteEmptyDirData: true, maxUnavailablePerWorkload: 1 });
        assert.deepEqual(
            plan.nodes.map((n) => n.verdict),
            ["waits", "waits", "waits"],
        );
        assert.match(
            plan.nodes[1].reasons.join("\n"),
            /waits: waiting for default\/http-go to have 10 Ready replicas \(has 9; maxUnavailablePerWorkload 1\): it goes once the new pod replacing default\/http-go-568f649bb-\w+ is Ready on master/,
        );
        const replicated = (owners: string[]) => tally(owners.filter((o) => /http-go|coredns/.test(o)));
        for (const node of NODES) {
            assert.equal(got.get(node)!.owners.length, want.get(node)!.owners.length, `${node}: evictions`);
            assert.deepEqual(
                replicated(got.get(node)!.owners),
                replicated(want.get(node)!.owners),
                `${node}: http-go and coredns evictions`,
            );
        }
        assert.equal(want.get("worker2")!.owners.length, 10, "the demo's roll evicts 10 pods on worker2");
    });

    it("checks kubelets against GET /version: the seed's API server already runs v1.20.0", async () => {
        const sim = await startCluster({ scenario: "seed", timeScale: 100 });
        try {
            const kc = loadKubeConfig({ kubeconfig: sim.kubeconfig });
            const snapshot = await snapshotFromCluster(kc);
            assert.equal(snapshot.serverVersion, "v1.20.0");
            const drainOptions: DrainOptions = { ignoreDaemonSets: true, deleteEmptyDirData: true };
            let plan = planRoll(snapshot, { nodes: ["worker1"], targetVersion: "v1.20.0", drain: drainOptions });
            assert.deepEqual([plan.verdict, plan.apiServerVersion, plan.apiServerVersionFrom], ["ok", "v1.20.0", "/version"]);
            plan = planRoll(snapshot, { nodes: ["worker1"], targetVersion: "v1.21.0", drain: drainOptions });
            assert.equal(plan.verdict, "blocked");
            assert.ok(
                plan.nodes[0].version.problems.includes(
                    "kubelet v1.21.0 would be newer than the API server (v1.20.0): upgrade the control plane first",
                ),
            );
        } finally {
            await sim.stop();
        }
    });
});
