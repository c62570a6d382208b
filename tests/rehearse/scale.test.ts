// A rehearsal of a larger cluster rolls every node and keeps every budget: 30 nodes here, to keep the suite short;
// `npm run bench:rehearse` runs 100 nodes and 3,000 pods and measures the real time (not asserted here: the suite
// must pass on a busy machine). The snapshot is the simulator's "large" scenario (30 pods per node: a kube-proxy
// DaemonSet pod and 29 pods of 10-replica Deployments, every 4th Deployment with a maxUnavailable-1 budget, every
// 10th with an emptyDir) written as kubectl would.
import assert from "node:assert/strict";
import { rehearse } from "../../rehearse";
import { scenarioSnapshot, snapshotDir } from "./snapshots";

const NODES = Number(process.env.REHEARSE_NODES ?? 30);
const PODS_PER_NODE = 30;

describe(`rehearse: ${NODES} nodes, ${NODES * 30} pods`, function () {
    this.timeout(240_000);
    const files = snapshotDir();
    after(() => files.cleanup());

    it("every node rolled, no workload more than one replica down, the predicted total as the per-node steps add up", async () => {
        const file = files.file("large.json", await scenarioSnapshot("large", { nodes: NODES, podsPerNode: PODS_PER_NODE }));
        const r = await rehearse({
            snapshot: file,
            targetVersion: "v1.29.0",
            all: true,
            drain: { ignoreDaemonSets: true, deleteEmptyDirData: true },
        });
        // How fast it runs is bench:rehearse's to measure (100 nodes, 3,000 pods), not a test's.
        assert.equal(r.simulation.pods, NODES * PODS_PER_NODE);
        assert.equal(r.completed, true, r.stop?.reason);
        assert.equal(r.nodes.length, NODES);
        for (const n of r.nodes) {
            assert.equal(n.status, "done");
            assert.ok(n.evicted.length >= PODS_PER_NODE - 1, `${n.node}: ${n.evicted.length} evicted`);
            // 30 s grace periods; nothing waits longer than a start-up.
            assert.ok(n.drainSeconds! >= 29 && n.drainSeconds! < 36, `${n.node}: drain ${n.drainSeconds}s`);
        }
        // Per node: the drain (~30 s), the upgrade (60 s), the kubelet restart (15 s).
        assert.ok(Math.abs(r.totalSeconds - NODES * 105) < NODES * 3, `total ${r.totalSeconds}s`);
        // The components' pacing (maxUnavailablePerWorkload 1), and the maxUnavailable-1 budgets: one replica down at most.
        for (const w of r.workloads)
            assert.ok(w.minReady >= w.replicas - 1, `${w.namespace}/${w.name}: ${w.minReady} of ${w.replicas} Ready`);
    });
});
