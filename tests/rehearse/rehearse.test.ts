// rehearse(): the roll `pulumi up` would run, on a simulated copy of a snapshot. The seed cluster (master,
// worker1, worker2; http-go with 10 replicas, 6 on worker1) and the pdb scenario (worker1 held by a budget).
import assert from "node:assert/strict";
import { rehearse, formatReport, RehearsalInputError, type RehearsalReport } from "../../rehearse";
import { planRoll, snapshotFromFile } from "../../planner";
import { addPdb, addReadinessProbe, scenarioSnapshot, setGracePeriod, snapshotDir, type SnapshotList } from "./snapshots";

const DRAIN = { ignoreDaemonSets: true, deleteEmptyDirData: true };

function node(r: RehearsalReport, name: string) {
    const n = r.nodes.find((x) => x.node === name);
    assert.ok(n, `node ${name} in the report`);
    return n;
}

function workload(r: RehearsalReport, id: string) {
    const w = r.workloads.find((x) => `${x.kind} ${x.namespace}/${x.name}` === id);
    assert.ok(w, `workload ${id} in the report`);
    return w;
}

describe("rehearse", function () {
    this.timeout(120_000);
    const files = snapshotDir();
    let seed: SnapshotList;
    let seedFile: string;
    let pdbFile: string;

    before(async () => {
        seed = await scenarioSnapshot("seed");
        seedFile = files.file("seed.json", seed);
        pdbFile = files.file("pdb.json", await scenarioSnapshot("pdb"));
    });
    after(() => files.cleanup());

    describe("the seed cluster", () => {
        let r: RehearsalReport;
        const progress: string[] = [];
        before(async () => {
            r = await rehearse({
                snapshot: seedFile,
                targetVersion: "v1.20.0",
                all: true,
                drain: DRAIN,
                upgradeSeconds: 20,
                restartSeconds: 10,
                onProgress: (line) => progress.push(line),
            });
        });

        it("rolls the control plane alone first, then one worker at a time, and completes", () => {
            assert.deepEqual(r.batches, [["master"], ["worker1"], ["worker2"]]);
            assert.equal(r.completed, true);
            assert.equal(r.stop, undefined);
            for (const n of r.nodes) assert.equal(n.status, "done", `${n.node}: ${n.error}`);
            assert.match(progress.join("\n"), /worker2: uncordoned/);
        });

        it("times each node: drain from the grace period and pacing, the upgrade and the restart as given", () => {
            for (const n of r.nodes) {
                assert.ok(Math.abs(n.upgradeSeconds! - 20) < 0.5, `${n.node} upgrade ${n.upgradeSeconds}`);
                assert.ok(Math.abs(n.readySeconds! - 10) < 1, `${n.node} ready ${n.readySeconds}`);
                // Every evicted pod takes its 30 s grace period; the pacing of http-go adds its start-ups.
                assert.ok(n.drainSeconds! >= 29 && n.drainSeconds! < 50, `${n.node} drain ${n.drainSeconds}`);
            }
            // worker1 holds 6 of http-go's 10 replicas: paced one at a time, each waiting for a replacement (2 s).
            const w1 = node(r, "worker1");
            assert.ok(w1.drainSeconds! > node(r, "master").drainSeconds! + 5, `worker1 ${w1.drainSeconds}s`);
            const httpGo = w1.waitedOn.find((w) => w.name === "Deployment default/http-go");
            assert.ok(httpGo, JSON.stringify(w1.waitedOn));
            assert.equal(httpGo.kind, "workload");
            assert.equal(httpGo.pods, 5);
            assert.ok(httpGo.spanSeconds >= 9 && httpGo.spanSeconds < 15, `span ${httpGo.spanSeconds}`);
            assert.equal(w1.evicted.filter((p) => p.startsWith("default/http-go-")).length, 6);
            // Batches of one, back to back: the roll is the drains plus each node's 20 s upgrade and 10 s restart.
            const drains = r.nodes.reduce((s, n) => s + n.drainSeconds!, 0);
            assert.ok(Math.abs(r.totalSeconds - (drains + 3 * (20 + 10))) < 2, `total ${r.totalSeconds} vs drains ${drains} + 3 × 30`);
        });

        it("reports the lowest Ready count of each workload: http-go never below 9 of 10", () => {
            const httpGo = workload(r, "Deployment default/http-go");
            assert.equal(httpGo.replicas, 10);
            assert.equal(httpGo.readyAtStart, 10);
            assert.equal(httpGo.minReady, 9);
            assert.equal(httpGo.budget, undefined);
            assert.deepEqual(httpGo.minReadyDuring, ["master drain"]);
            // A single-replica workload is down while its pod is replaced.
            assert.equal(workload(r, "Deployment istio-system/kiali").minReady, 0);
            assert.equal(httpGo.startupSeconds, 2);
            assert.equal(httpGo.startupFrom, "default");
            assert.equal(httpGo.shutdownSeconds, 30);
        });

        it("prints a table per node and per workload, the total and the assumptions", () => {
            const text = formatReport(r);
            assert.match(text, /^NODE +BATCH +START +DRAIN +UPGRADE +READY +TOTAL +EVICTED +PLAN +STATUS +WAITED ON$/m);
            assert.match(text, /^worker1 +2 +.*done +Deployment default\/http-go \(5 pods, /m);
            assert.match(text, /^Deployment default\/http-go +10 +10 +9 +- +- +2\.0s +30\.0s +master drain$/m);
            // A one-replica workload has no Ready pod while its replacement starts.
            assert.match(text, /^Deployment istio-system\/kiali +1 +1 +0 +- +none Ready +2\.0s +30\.0s +worker1 drain$/m);
            assert.match(text, /Predicted total: \dm\d\ds\. The roll completes\./);
            assert.match(text, /Assumed:/);
        });
    });

    it("waits on a PodDisruptionBudget, honours it, and reads start-up times from readiness probes", async () => {
        const list: SnapshotList = JSON.parse(JSON.stringify(seed));
        setGracePeriod(list, 5);
        addPdb(list, "default", "http-go-pdb", { app: "http-go" }, { minAvailable: 9 });
        addReadinessProbe(list, "default", "http-go", 6);
        const r = await rehearse({
            snapshot: files.file("seed-pdb.json", list),
            targetVersion: "v1.20.0",
            nodes: ["worker1"],
            drain: DRAIN,
            upgradeSeconds: 1,
            restartSeconds: 1,
        });
        assert.equal(r.completed, true);
        const w1 = node(r, "worker1");
        const budget = w1.waitedOn.find((w) => w.name === "PodDisruptionBudget default/http-go-pdb");
        assert.ok(budget, JSON.stringify(w1.waitedOn));
        assert.equal(budget.kind, "budget");
        assert.equal(budget.pods, 5);
        // Six pods one after the other, each replacement Ready 2 + 6 s after it is placed, the last one's 5 s grace.
        assert.ok(w1.drainSeconds! >= 5 * 8 + 3 && w1.drainSeconds! < 5 * 8 + 12, `drain ${w1.drainSeconds}`);
        const httpGo = workload(r, "Deployment default/http-go");
        assert.deepEqual(httpGo.budget, { name: "default/http-go-pdb", desiredHealthy: 9, rule: "minAvailable 9" });
        assert.equal(httpGo.minReady, 9);
        assert.equal(httpGo.marginOverBudget, 0);
        assert.equal(httpGo.startupSeconds, 8);
        assert.match(httpGo.startupFrom, /readinessProbe 6s/);
        assert.equal(httpGo.shutdownSeconds, 5);
    });

    it("takes per-workload start-up and shut-down overrides", async () => {
        const r = await rehearse({
            snapshot: seedFile,
            targetVersion: "v1.20.0",
            nodes: ["worker1"],
            drain: DRAIN,
            upgradeSeconds: 1,
            restartSeconds: 1,
            timings: { startupSeconds: { "default/http-go": 4 }, shutdownSeconds: { default: 3 } },
        });
        const w1 = node(r, "worker1");
        // Five paced evictions of http-go, 4 s apart, then the last pod's 3 s.
        assert.ok(w1.drainSeconds! >= 5 * 4 + 2 && w1.drainSeconds! < 5 * 4 + 8, `drain ${w1.drainSeconds}`);
        const httpGo = workload(r, "Deployment default/http-go");
        assert.equal(httpGo.startupSeconds, 4);
        assert.equal(httpGo.startupFrom, "override");
        assert.equal(httpGo.shutdownSeconds, 3);
        assert.equal(httpGo.shutdownFrom, "default override");
    });

    it("runs workers of a batch together (--batch-size 2)", async () => {
        const r = await rehearse({
            snapshot: seedFile,
            targetVersion: "v1.20.0",
            all: true,
            batchSize: 2,
            drain: DRAIN,
            upgradeSeconds: 5,
            restartSeconds: 5,
            timings: { shutdownSeconds: { default: 2 } },
        });
        assert.deepEqual(r.batches, [["master"], ["worker1", "worker2"]]);
        assert.equal(r.completed, true);
        const [w1, w2] = [node(r, "worker1"), node(r, "worker2")];
        assert.ok(Math.abs(w1.startSeconds! - w2.startSeconds!) < 0.2, `${w1.startSeconds} vs ${w2.startSeconds}`);
        assert.ok(w1.startSeconds! >= node(r, "master").totalSeconds!);
    });

    it("rolls the planner's nodes and batches: a selector, a node already at the target skipped", async () => {
        const list: SnapshotList = JSON.parse(JSON.stringify(seed));
        list.items.find((o) => o.kind === "Node" && o.metadata.name === "worker2").status.nodeInfo.kubeletVersion = "v1.20.0";
        const file = files.file("seed-worker2-upgraded.json", list);
        const selector = "!node-role.kubernetes.io/master";
        const r = await rehearse({
            snapshot: file,
            targetVersion: "v1.20.0",
            selector,
            drain: DRAIN,
            upgradeSeconds: 1,
            restartSeconds: 1,
        });
        assert.deepEqual(r.batches, [["worker1"]]);
        assert.deepEqual(r.skipped, [{ node: "worker2", reason: "already at v1.20.0" }]);
        assert.deepEqual(
            r.nodes.map((n) => [n.node, n.status]),
            [["worker1", "done"]],
        );
        // What `node-upgrade plan` shows for the same roll.
        const plan = planRoll(snapshotFromFile(file), { selector, targetVersion: "v1.20.0", drain: DRAIN });
        assert.deepEqual(
            plan.nodes.map((p) => [p.node, p.batch]),
            [
                ["worker1", 1],
                ["worker2", 0],
            ],
        );
    });

    it("says where the roll stops and why: a drain that times out on a budget", async () => {
        const r = await rehearse({ snapshot: pdbFile, targetVersion: "v1.28.6", all: true, drain: { ...DRAIN, timeoutSeconds: 120 } });
        assert.equal(r.completed, false);
        assert.ok(r.stop);
        assert.equal(r.stop.node, "worker1");
        assert.equal(r.stop.step, "drain");
        assert.match(
            r.stop.reason,
            /timed out after 2m00s with 1 pod remaining: pod default\/critical-[a-z0-9-]+: PodDisruptionBudget default\/critical-pdb allows no disruption/,
        );
        const w1 = node(r, "worker1");
        assert.equal(w1.status, "failed");
        assert.ok(Math.abs(w1.drainSeconds! - 120) < 1, `drain ${w1.drainSeconds}`);
        assert.deepEqual(
            w1.waitedOn.map((w) => [w.kind, w.name]),
            [["budget", "PodDisruptionBudget default/critical-pdb"]],
        );
        assert.equal(node(r, "worker2").status, "notReached");
        assert.equal(node(r, "control-plane").status, "done");
        assert.match(formatReport(r), /The roll would STOP at worker1 \(drain, /);
    });

    it("refuses bad input before starting anything", async () => {
        const bad = (o: Partial<Parameters<typeof rehearse>[0]>) =>
            rehearse({ snapshot: seedFile, targetVersion: "v1.20.0", all: true, ...o } as Parameters<typeof rehearse>[0]);
        await assert.rejects(bad({ targetVersion: "v1.2O.0" }), RehearsalInputError);
        await assert.rejects(
            bad({ all: false, nodes: ["ghost"] }),
            (e: Error) => e instanceof RehearsalInputError && /ghost/.test(e.message),
        );
        await assert.rejects(bad({ snapshot: "/nonexistent/snapshot.json" }), /cannot read snapshot/);
        await assert.rejects(
            bad({ timings: { startupSeconds: { "default/nope": 3 } } }),
            /no Deployment, StatefulSet or ReplicaSet default\/nope/,
        );
        await assert.rejects(bad({ batchSize: 0 }), RehearsalInputError);
    });
});
