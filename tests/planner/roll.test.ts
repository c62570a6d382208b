// Roll-level behaviour: order and batches, filters, capacity, version skew, where the roll stops.
import assert from "node:assert/strict";
import { planRoll, formatPlan, formatNodePlan } from "../../planner";
import { PlanInputError, type NodePlan, type RollPlan } from "../../planner/types";
import { ClusterBuilder, DRAIN } from "./fixtures";

function nodePlan(plan: RollPlan, name: string): NodePlan {
    const found = plan.nodes.find((n) => n.node === name);
    assert.ok(found, `node ${name} in plan`);
    return found;
}

describe("planner: roll order and batches", () => {
    it("puts control-plane nodes first, then workers by name, in batches that never mix the two", () => {
        const c = new ClusterBuilder();
        c.node("w-b");
        c.node("w-a");
        c.node("cp-2", { controlPlane: true });
        c.node("cp-1", { controlPlane: true });
        c.node("w-c");
        const plan = planRoll(c.snapshot, { all: true, batchSize: 2, drain: DRAIN });
        assert.deepEqual(plan.nodes.map((n) => [n.node, n.batch]), [
            ["cp-1", 1],
            ["cp-2", 1],
            ["w-a", 2],
            ["w-b", 2],
            ["w-c", 3],
        ]);
        // Given names keep their order within each group.
        const given = planRoll(c.snapshot, { nodes: ["w-c", "cp-2", "w-a"], drain: DRAIN });
        assert.deepEqual(given.nodes.map((n) => n.node), ["cp-2", "w-c", "w-a"]);
        const unordered = planRoll(c.snapshot, { nodes: ["w-c", "cp-2"], controlPlaneFirst: false, drain: DRAIN });
        assert.deepEqual(unordered.nodes.map((n) => n.node), ["w-c", "cp-2"]);
    });

    it("selects nodes by label selector", () => {
        const c = new ClusterBuilder();
        c.node("a", { labels: { zone: "x" } });
        c.node("b", { labels: { zone: "y" } });
        c.node("c", { labels: { zone: "x" } });
        const plan = planRoll(c.snapshot, { selector: "zone=x", drain: DRAIN });
        assert.deepEqual(plan.nodes.map((n) => n.node), ["a", "c"]);
    });

    it("rejects specs that name no node, unknown nodes, both names and --all, bad batch sizes and selectors", () => {
        const c = new ClusterBuilder();
        c.node("a");
        assert.throws(() => planRoll(c.snapshot, { drain: DRAIN }), PlanInputError);
        assert.throws(() => planRoll(c.snapshot, { nodes: ["nope"], drain: DRAIN }), /nodes "nope" not found/);
        assert.throws(() => planRoll(c.snapshot, { nodes: ["a"], all: true, drain: DRAIN }), /only one of/);
        assert.throws(() => planRoll(c.snapshot, { all: true, batchSize: 0, drain: DRAIN }), /batch size/);
        assert.throws(() => planRoll(c.snapshot, { selector: "a in (", drain: DRAIN }), /--selector=a in \( must be a valid label selector/);
        assert.throws(() => planRoll(c.snapshot, { all: true, drain: { podSelector: "=x" } }), /--pod-selector/);
        assert.throws(() => planRoll(c.snapshot, { all: true, targetVersion: "latest", drain: DRAIN }), /not a version/);
    });

    it("lists nodes already at the target as skipped, without draining them", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.30.1" });
        c.node("w1", { version: "v1.30.1" });
        c.node("w2", { version: "v1.29.4" });
        const web = c.deployment("default", "web", 1);
        web.pod("w1");
        const plan = planRoll(c.snapshot, { all: true, targetVersion: "1.30.1", drain: DRAIN });
        assert.deepEqual(plan.nodes.map((n) => [n.node, n.verdict]), [
            ["cp", "skip"],
            ["w1", "skip"],
            ["w2", "ok"],
        ]);
        assert.deepEqual(nodePlan(plan, "w1").reasons, ["already at v1.30.1"]);
        assert.equal(nodePlan(plan, "w1").evict.length, 0);
        assert.match(formatPlan(plan), /\[2\/3\] w1 v1\.30\.1: skip: already at v1\.30\.1/);
        // With skipNodesAtTarget false they are drained like the rest.
        const all = planRoll(c.snapshot, { all: true, targetVersion: "1.30.1", skipNodesAtTarget: false, drain: DRAIN });
        assert.equal(nodePlan(all, "w1").evict.length, 1);
    });

    it("stops at the first blocked node; later nodes are not reached", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        c.node("w3");
        c.node("w4");
        c.pod("default", "lonely", "w2");
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(plan.nodes.map((n) => n.verdict), ["ok", "blocked", "not-reached", "not-reached"]);
        assert.equal(plan.stopsAt, "w2");
        assert.deepEqual(plan.notReached, ["w3", "w4"]);
        assert.equal(plan.counts.notReached, 2);
        assert.match(formatPlan(plan), /Roll stops at w2\. Not reached: w3, w4\.$/);
    });
});

describe("planner: kubectl filters", () => {
    it("an unmanaged pod blocks without --force and is evicted (not replaced) with it", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        c.pod("default", "lonely", "w1");
        const web = c.deployment("default", "web", 1);
        web.pod("w1");
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.verdict, "blocked");
        assert.deepEqual(w1.blocked.map((b) => [b.pod, b.cause]), [["default/lonely", "filter"]]);
        assert.deepEqual(w1.reasons, ["cannot delete Pods that declare no controller (use --force to override): default/lonely"]);
        assert.equal(w1.evict.length, 0, "kubectl evicts nothing on a node a filter refuses");

        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: { ...DRAIN, force: true } }), "w1");
        assert.equal(w1.verdict, "ok");
        const lonely = w1.evict.find((e) => e.pod === "default/lonely");
        assert.ok(lonely);
        assert.equal(lonely.owner, "no controller");
        assert.equal(lonely.replacementNode, undefined);
        assert.ok(w1.warnings.some((w) => w.startsWith("deleting Pods that declare no controller: default/lonely")));
    });

    it("an emptyDir pod blocks without --delete-emptydir-data", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        const cache = c.deployment("default", "cache", 1, { emptyDir: true });
        cache.pod("w1");
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: { ignoreDaemonSets: true } }), "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.reasons[0], /^cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/cache-5d9c7-1$/);
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.verdict, "ok");
    });

    it("skips DaemonSet and mirror pods, and pods outside --pod-selector; DaemonSet pods block without --ignore-daemonsets", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        c.daemonSet("kube-system", "kube-proxy", ["w1", "w2"]);
        c.pod("kube-system", "etcd-w1", "w1", { mirror: true });
        const web = c.deployment("default", "web", 1, { labels: { app: "web", drain: "yes" } });
        web.pod("w1");
        const api = c.deployment("default", "api", 1);
        api.pod("w1");
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: { ...DRAIN, podSelector: "drain=yes" } }), "w1");
        assert.equal(w1.verdict, "ok");
        assert.deepEqual(w1.evict.map((e) => e.pod), ["default/web-5d9c7-1"]);
        // kubectl lists only pods matching --pod-selector, so other pods are left out for that reason first.
        assert.deepEqual(
            w1.skip.map((s) => [s.pod, s.reason]).sort(),
            [
                ["default/api-5d9c7-1", "not matched by --pod-selector"],
                ["kube-system/etcd-w1", "not matched by --pod-selector"],
                ["kube-system/kube-proxy-0x", "not matched by --pod-selector"],
            ],
        );
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: { ignoreDaemonSets: true } }), "w1");
        assert.ok(w1.skip.some((s) => s.pod === "kube-system/etcd-w1" && s.reason === "mirror pod"));
        assert.ok(w1.skip.some((s) => s.pod === "kube-system/kube-proxy-0x" && s.reason === "DaemonSet-managed"));
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: {} }), "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.reasons[0], /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-0x/);
    });
});

describe("planner: capacity", () => {
    it("reports replacements that fit nowhere, and blocks when a budget depends on them", () => {
        const c = new ClusterBuilder();
        c.node("w1", { cpu: "4" });
        c.node("w2", { cpu: "2" });
        const big = c.deployment("default", "big", 2, { cpu: "1500m" });
        big.pod("w1");
        big.pod("w2");
        // w2 has 500m left: big's replacement does not fit.
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.verdict, "ok", "without a budget the drain finishes; the replacement stays Pending");
        assert.equal(w1.capacity?.ok, false);
        assert.equal(w1.capacity?.replacements, 1);
        assert.equal(w1.capacity?.requested.cpuMillis, 1500);
        assert.equal(w1.capacity?.free.cpuMillis, 500);
        assert.match(w1.capacity?.unplaced[0].reason ?? "", /no schedulable node has cpu 1500m/);
        assert.ok(w1.warnings.some((w) => /stay Pending until a drained node returns/.test(w)));

        // Two replicas on w1 with maxUnavailable 1: the second waits for a replacement that cannot run.
        const d = new ClusterBuilder();
        d.node("w1", { cpu: "4" });
        d.node("w2", { cpu: "2" });
        const web = d.deployment("default", "web", 3, { cpu: "1500m" });
        web.pod("w1");
        web.pod("w1");
        web.pod("w2");
        d.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        w1 = nodePlan(planRoll(d.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.blocked[0].reason, /has nowhere to run \(no schedulable node has cpu 1500m/);
    });

    it("counts earlier replacements landing on later nodes", () => {
        const c = new ClusterBuilder();
        c.node("w1", { cpu: "2" });
        c.node("w2", { cpu: "2" });
        c.node("w3", { cpu: "2" });
        const web = c.deployment("default", "web", 3, { cpu: "1" });
        web.pod("w1");
        web.pod("w2");
        web.pod("w3");
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        // w1's pod moves to w2 (or w3); then draining w2 moves two pods that only fit on w1 and w3 together.
        assert.deepEqual(plan.nodes.map((n) => n.capacity?.ok), [true, true, true]);
        const moved = plan.nodes.flatMap((n) => n.evict.map((e) => e.replacementNode));
        assert.ok(moved.every((n) => typeof n === "string"));
        assert.ok(plan.counts.evictions >= 4, "replacements that landed on later nodes are evicted again");
    });

    it("respects nodeSelector and taints for replacements", () => {
        const c = new ClusterBuilder();
        c.node("w1", { labels: { pool: "gpu" } });
        c.node("w2", { labels: { pool: "cpu" } });
        c.node("w3", { labels: { pool: "gpu" }, taints: [{ key: "gpu", value: "true", effect: "NoSchedule" }] });
        const job = c.deployment("default", "trainer", 1, { nodeSelector: { pool: "gpu" } });
        job.pod("w1");
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.capacity?.ok, false);
        assert.match(w1.capacity?.unplaced[0].reason ?? "", /nodeSelector/);

        c.snapshot.pods[0].spec!.tolerations = [{ key: "gpu", operator: "Exists", effect: "NoSchedule" }];
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN }), "w1");
        assert.equal(w1.evict[0].replacementNode, "w3");
    });
});

describe("planner: version skew", () => {
    it("blocks a worker that would be newer than the control plane", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.29.3" });
        c.node("w1", { version: "v1.29.3" });
        const plan = planRoll(c.snapshot, { nodes: ["w1"], targetVersion: "v1.30.0", drain: DRAIN });
        const w1 = nodePlan(plan, "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.version.problems[0], /kubelet v1\.30\.0 would be newer than the control plane \(v1\.29\.3\)/);
        // Control plane first in the same roll: fine.
        const both = planRoll(c.snapshot, { all: true, targetVersion: "v1.30.0", drain: DRAIN });
        assert.deepEqual(both.nodes.map((n) => n.verdict), ["ok", "ok"]);
        // Workers first: blocked at the first worker.
        const wrong = planRoll(c.snapshot, { nodes: ["w1", "cp"], controlPlaneFirst: false, targetVersion: "v1.30.0", drain: DRAIN });
        assert.equal(wrong.stopsAt, "w1");
        assert.deepEqual(wrong.notReached, ["cp"]);
    });

    it("blocks skipped minor versions and downgrades", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.28.5" });
        c.node("w1", { version: "v1.28.5" });
        let plan = planRoll(c.snapshot, { all: true, targetVersion: "1.30.0", drain: DRAIN });
        assert.equal(plan.nodes[0].verdict, "blocked");
        assert.match(plan.nodes[0].version.problems[0], /skips 1 minor version: upgrade one minor version at a time \(v1\.28 -> v1\.29 first\)/);
        assert.deepEqual(plan.notReached, ["w1"]);
        plan = planRoll(c.snapshot, { all: true, targetVersion: "1.27.9", drain: DRAIN });
        assert.match(plan.nodes[0].version.problems[0], /older than the node's v1\.28\.5: downgrades are not supported/);
    });

    it("blocks a control-plane upgrade that leaves a kubelet more than 3 minors behind", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.30.0" });
        c.node("old", { version: "v1.27.2" });
        const plan = planRoll(c.snapshot, { nodes: ["cp"], targetVersion: "1.31.0", drain: DRAIN });
        assert.equal(plan.nodes[0].verdict, "blocked");
        assert.match(plan.nodes[0].version.problems[0], /more than 3 minor versions older .*old \(v1\.27\.2\)/);
    });

    it("warns when a kubelet is already newer than the control plane", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.29.0" });
        c.node("w1", { version: "v1.30.0" });
        const plan = planRoll(c.snapshot, { nodes: ["cp"], targetVersion: "1.30.0", drain: DRAIN });
        assert.ok(plan.warnings.some((w) => /w1 \(v1\.30\.0\) is already newer than the control plane \(v1\.29\.0\)/.test(w)));
    });
});

describe("planner: text", () => {
    it("prints one block per node and where the roll stops", () => {
        const c = new ClusterBuilder();
        c.node("master", { controlPlane: true, version: "v1.19.0" });
        c.node("worker1", { version: "v1.19.0" });
        c.node("worker2", { version: "v1.19.0" });
        c.daemonSet("kube-system", "kube-proxy", ["master", "worker1", "worker2"]);
        const web = c.deployment("default", "web", 2);
        web.pod("worker1");
        web.pod("worker2");
        const db = c.statefulSet("default", "db", 1);
        db.pod("worker1");
        c.pdb("default", "db-pdb", db.labels, { minAvailable: 1 });
        const plan = planRoll(c.snapshot, { all: true, targetVersion: "v1.20.0", drain: DRAIN });
        const text = formatPlan(plan);
        const lines = text.split("\n");
        assert.equal(lines[0], "Roll plan: 3 nodes, batches of 1, target v1.20.0 (control plane first)");
        assert.equal(lines[1], "[1/3] master (control plane) v1.19.0 -> v1.20.0: ok");
        assert.equal(lines[2], "      skip 1 pod: kube-system/kube-proxy-0x (DaemonSet-managed)");
        assert.equal(lines[3], "[2/3] worker1 v1.19.0 -> v1.20.0: BLOCKED");
        assert.equal(
            lines[4],
            "      pod default/db-0: PodDisruptionBudget default/db-pdb needs 1 healthy pods and would have 0 (0 disruptions allowed, minAvailable 1 of 1 replicas): it can never allow a disruption (minAvailable 1: needs 1 healthy of 1 pod); the drain would wait until its timeout (600s)",
        );
        assert.match(text, /evict 1 pod: default\/web-5d9c7-1\n/);
        assert.equal(lines[lines.length - 1], "Roll stops at worker1. Not reached: worker2.");
        assert.equal(formatNodePlan(plan.nodes[0]), lines.slice(1, 3).join("\n"));
    });

    it("summarises a roll that completes", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        const web = c.deployment("default", "web", 2);
        web.pod("w1");
        web.pod("w1");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const text = formatPlan(planRoll(c.snapshot, { all: true, drain: DRAIN }));
        assert.match(text, /^Roll plan: 2 nodes, batches of 1, drain only, no target version \(control plane first\)\n/);
        assert.match(text, /\[1\/2\] w1 v1\.29\.0: waits on PodDisruptionBudget default\/web-pdb/);
        // Both replicas move to w2, so draining w2 waits in the same way.
        assert.match(text, /\[2\/2\] w2 v1\.29\.0: waits on PodDisruptionBudget default\/web-pdb/);
        assert.match(text, /Roll completes: 0 ok, 2 wait on budgets; 4 evictions\.$/);
    });

    it("produces a plan that survives JSON", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
    });
});
