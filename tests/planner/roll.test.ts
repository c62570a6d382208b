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
    it("puts control-plane nodes first, one at a time, then workers by name, in batches that never mix the two", () => {
        const c = new ClusterBuilder();
        c.node("w-b");
        c.node("w-a");
        c.node("cp-2", { controlPlane: true });
        c.node("cp-1", { controlPlane: true });
        c.node("w-c");
        const plan = planRoll(c.snapshot, { all: true, batchSize: 2, drain: DRAIN });
        // The batches are kube-rules' rollBatches, as `pulumi up` runs them: control-plane nodes go alone.
        assert.deepEqual(
            plan.nodes.map((n) => [n.node, n.batch]),
            [
                ["cp-1", 1],
                ["cp-2", 2],
                ["w-a", 3],
                ["w-b", 3],
                ["w-c", 4],
            ],
        );
        // Given names keep their order within each group.
        const given = planRoll(c.snapshot, { nodes: ["w-c", "cp-2", "w-a"], drain: DRAIN });
        assert.deepEqual(
            given.nodes.map((n) => n.node),
            ["cp-2", "w-c", "w-a"],
        );
        const unordered = planRoll(c.snapshot, { nodes: ["w-c", "cp-2"], controlPlaneFirst: false, drain: DRAIN });
        assert.deepEqual(
            unordered.nodes.map((n) => n.node),
            ["w-c", "cp-2"],
        );
    });

    it("selects nodes by label selector", () => {
        const c = new ClusterBuilder();
        c.node("a", { labels: { zone: "x" } });
        c.node("b", { labels: { zone: "y" } });
        c.node("c", { labels: { zone: "x" } });
        const plan = planRoll(c.snapshot, { selector: "zone=x", drain: DRAIN });
        assert.deepEqual(
            plan.nodes.map((n) => n.node),
            ["a", "c"],
        );
    });

    it("rejects specs that name no node, unknown nodes, both names and --all, bad batch sizes and selectors", () => {
        const c = new ClusterBuilder();
        c.node("a");
        assert.throws(() => planRoll(c.snapshot, { drain: DRAIN }), PlanInputError);
        assert.throws(() => planRoll(c.snapshot, { nodes: ["nope"], drain: DRAIN }), /nodes "nope" not found/);
        assert.throws(() => planRoll(c.snapshot, { nodes: ["a"], all: true, drain: DRAIN }), /only one of/);
        assert.throws(() => planRoll(c.snapshot, { all: true, batchSize: 0, drain: DRAIN }), /batch size/);
        assert.throws(
            () => planRoll(c.snapshot, { selector: "a in (", drain: DRAIN }),
            /--selector=a in \( must be a valid label selector/,
        );
        assert.throws(() => planRoll(c.snapshot, { all: true, drain: { podSelector: "=x" } }), /--pod-selector/);
        assert.throws(() => planRoll(c.snapshot, { all: true, targetVersion: "latest", drain: DRAIN }), /not a semantic version/);
    });

    it("lists nodes already at the target as skipped, without draining them", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.30.1" });
        c.node("w1", { version: "v1.30.1" });
        c.node("w2", { version: "v1.29.4" });
        const web = c.deployment("default", "web", 1);
        web.pod("w1");
        const plan = planRoll(c.snapshot, { all: true, targetVersion: "1.30.1", drain: DRAIN });
        // Nodes that need nothing come last, as the components chain their no-op steps after the last batch.
        assert.deepEqual(
            plan.nodes.map((n) => [n.node, n.verdict, n.batch]),
            [
                ["w2", "ok", 1],
                ["cp", "skip", 0],
                ["w1", "skip", 0],
            ],
        );
        assert.deepEqual(nodePlan(plan, "w1").reasons, ["already at v1.30.1"]);
        assert.equal(nodePlan(plan, "w1").evict.length, 0);
        assert.match(formatPlan(plan), /\[3\/3\] w1 v1\.30\.1: skip: already at v1\.30\.1/);
        // With skipNodesAtTarget false they are drained like the rest.
        const all = planRoll(c.snapshot, { all: true, targetVersion: "1.30.1", skipNodesAtTarget: false, drain: DRAIN });
        assert.equal(nodePlan(all, "w1").evict.length, 1);
    });

    it("stops at the first blocked node, and still plans the later nodes as if it were unblocked", () => {
        const c = new ClusterBuilder();
        for (const n of ["w1", "w2", "w3", "w4", "w5"]) c.node(n);
        c.daemonSet("kube-system", "agent", ["w1"]);
        c.pod("default", "lonely", "w2");
        c.pod("default", "stray", "w4");
        const web = c.deployment("default", "web", 2);
        web.pod("w2");
        web.pod("w5");
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(
            plan.nodes.map((n) => n.verdict),
            ["ok", "blocked", "ok", "blocked", "ok"],
            "every node has a verdict",
        );
        assert.deepEqual(
            plan.nodes.map((n) => n.assumesUnblocked),
            [undefined, undefined, ["w2"], ["w2"], ["w2", "w4"]],
        );
        assert.equal(plan.verdict, "blocked");
        assert.equal(plan.stopsAt, "w2", "the roll stops at the first blocked node");
        assert.deepEqual(plan.notReached, ["w3", "w4", "w5"]);
        assert.deepEqual([plan.counts.ok, plan.counts.blocked, plan.counts.notReached], [3, 2, 3]);
        // Unblocked, w2's pods left: web's went to w3 (no web pod, fewest pods) and is evicted again from there.
        const w3 = nodePlan(plan, "w3");
        assert.deepEqual(
            w3.evict.map((e) => e.pod),
            ["a new default/web pod (replacing default/web-5d9c7-1)"],
        );
        assert.equal(
            nodePlan(plan, "w4").reasons[0],
            "cannot delete Pods that declare no controller (use --force to override): default/stray",
        );

        const text = formatPlan(plan);
        assert.match(text, /^\[2\/5\] w2 v1\.29\.0: BLOCKED$/m);
        assert.match(
            text,
            /^\[3\/5\] w3 v1\.29\.0: not reached \(the roll stops at w2\); after w2 is unblocked: ok\n {6}evict 1 pod: 1 new default\/web pod$/m,
        );
        assert.match(text, /^\[4\/5\] w4 v1\.29\.0: not reached \(the roll stops at w2\); after w2 is unblocked: BLOCKED$/m);
        assert.match(text, /^\[5\/5\] w5 v1\.29\.0: not reached \(the roll stops at w2\); after w2 and w4 are unblocked: ok$/m);
        assert.match(
            text,
            /Roll stops at w2\. Not reached: w3, w4, w5\.\nThe nodes after it, planned as if the blocked nodes were unblocked: 2 ok, 1 more BLOCKED \(w4\)\.$/,
        );
    });

    it("takes a blocked node's pods as evicted and replaced, and its upgrade as done, for the nodes after it", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.28.5" });
        c.node("w1", { version: "v1.28.5" });
        c.node("w2", { version: "v1.28.5" });
        const db = c.statefulSet("shop", "db", 1);
        db.pod("w1");
        c.pdb("shop", "db-pdb", db.labels, { minAvailable: 1 });
        const plan = planRoll(c.snapshot, { all: true, targetVersion: "v1.29.0", drain: DRAIN });
        assert.deepEqual(
            plan.nodes.map((n) => [n.node, n.verdict]),
            [
                ["cp", "ok"],
                ["w1", "blocked"],
                ["w2", "blocked"],
            ],
        );
        // The StatefulSet recreates db-0 under its name on w2; there its budget blocks again: both problems in one plan.
        const w2 = nodePlan(plan, "w2");
        assert.deepEqual(
            w2.blocked.map((b) => [b.pod, b.cause]),
            [["shop/db-0", "budget"]],
        );
        // A version problem: the node is not drained, but the plan goes on as if it had been upgraded.
        const skew = planRoll(c.snapshot, { all: true, targetVersion: "v1.30.0", drain: DRAIN });
        assert.deepEqual(
            skew.nodes.map((n) => n.verdict),
            ["blocked", "blocked", "blocked"],
        );
        assert.match(skew.nodes[1].version.problems.join(";"), /skips 1 minor version/);
        assert.equal(skew.stopsAt, "cp");
    });
});

describe("planner: a pod's controller", () => {
    it("is its first controller reference, as everywhere else (metav1.GetControllerOf), also for keeping its name", () => {
        // The API server accepts one controller reference per object; a hand-merged snapshot file can hold two.
        // The planner counted this pod as web's (the first) yet recreated it under its own name, as a StatefulSet
        // would (any controller reference): two answers to "which controller owns it" in one plan.
        const c = new ClusterBuilder();
        c.node("w1");
        c.node("w2");
        const web = c.deployment("default", "web", 1);
        const pod = web.pod("w1");
        pod.metadata!.ownerReferences!.push({
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            name: "stray",
            uid: "uid-stray",
            controller: true,
        });
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(
            nodePlan(plan, "w2").evict.map((e) => [e.pod, e.owner]),
            [["a new default/web pod (replacing default/web-5d9c7-1)", "Deployment default/web"]],
        );
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
        assert.deepEqual(
            w1.blocked.map((b) => [b.pod, b.cause]),
            [["default/lonely", "filter"]],
        );
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
        assert.match(
            w1.reasons[0],
            /^cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/cache-5d9c7-1$/,
        );
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
        assert.deepEqual(
            w1.evict.map((e) => e.pod),
            ["default/web-5d9c7-1"],
        );
        // kubectl lists only pods matching --pod-selector, so other pods are left out for that reason first.
        assert.deepEqual(w1.skip.map((s) => [s.pod, s.reason]).sort(), [
            ["default/api-5d9c7-1", "not matched by --pod-selector"],
            ["kube-system/etcd-w1", "not matched by --pod-selector"],
            ["kube-system/kube-proxy-0x", "not matched by --pod-selector"],
        ]);
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: { ignoreDaemonSets: true } }), "w1");
        assert.ok(w1.skip.some((s) => s.pod === "kube-system/etcd-w1" && s.reason === "mirror pod"));
        assert.ok(w1.skip.some((s) => s.pod === "kube-system/kube-proxy-0x" && s.reason === "DaemonSet-managed"));
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["w1"], drain: {} }), "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(
            w1.reasons[0],
            /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-0x/,
        );
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
        assert.deepEqual(
            plan.nodes.map((n) => n.capacity?.ok),
            [true, true, true],
        );
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

/** A kubeadm static pod of kube-apiserver on `node`, running `version`. */
function apiServerPod(c: ClusterBuilder, node: string, version: string) {
    const pod = c.pod("kube-system", `kube-apiserver-${node}`, node, {
        labels: { component: "kube-apiserver", tier: "control-plane" },
        mirror: true,
    });
    pod.spec!.containers = [{ name: "kube-apiserver", image: `registry.k8s.io/kube-apiserver:${version}` }];
}

describe("planner: version skew", () => {
    it("blocks a worker that would be newer than the API server", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.29.3" });
        c.node("w1", { version: "v1.29.3" });
        apiServerPod(c, "cp", "v1.29.3");
        const plan = planRoll(c.snapshot, { nodes: ["w1"], targetVersion: "v1.30.0", drain: DRAIN });
        const w1 = nodePlan(plan, "w1");
        assert.equal(w1.verdict, "blocked");
        assert.match(
            w1.version.problems[0],
            /kubelet v1\.30\.0 would be newer than the API server \(v1\.29\.3\): upgrade the control plane first/,
        );
        assert.deepEqual([plan.apiServerVersion, plan.apiServerVersionFrom], ["v1.29.3", "kube-apiserver pods"]);
        // Control plane first in the same roll: its upgrade moves the API server it hosts, so the worker is fine.
        const both = planRoll(c.snapshot, { all: true, targetVersion: "v1.30.0", drain: DRAIN });
        assert.deepEqual(
            both.nodes.map((n) => n.verdict),
            ["ok", "ok"],
        );
        // Workers first: blocked at the first worker; the control-plane node is still planned.
        const wrong = planRoll(c.snapshot, { nodes: ["w1", "cp"], controlPlaneFirst: false, targetVersion: "v1.30.0", drain: DRAIN });
        assert.equal(wrong.stopsAt, "w1");
        assert.deepEqual(wrong.notReached, ["cp"]);
        assert.deepEqual(nodePlan(wrong, "cp").assumesUnblocked, ["w1"]);
    });

    it("checks kubelets against the API server, not the control-plane kubelets: the control plane upgraded by kubeadm upgrade apply", () => {
        // The seed cluster's situation: kubelets at v1.19.0, kube-apiserver already at v1.20.0.
        const c = new ClusterBuilder();
        c.node("master", { version: "v1.19.0", labels: { "node-role.kubernetes.io/master": "" } });
        c.node("worker1", { version: "v1.19.0" });
        c.node("worker2", { version: "v1.19.0" });
        apiServerPod(c, "master", "v1.20.0");
        let plan = planRoll(c.snapshot, { nodes: ["worker1"], targetVersion: "v1.20.0", drain: DRAIN });
        assert.equal(nodePlan(plan, "worker1").verdict, "ok");
        assert.deepEqual(plan.warnings, []);
        // From the live cluster, GET /version is the answer (here it disagrees with the pods on purpose).
        c.snapshot.serverVersion = "v1.21.0";
        plan = planRoll(c.snapshot, { nodes: ["worker1"], targetVersion: "v1.20.0", drain: DRAIN });
        assert.deepEqual(
            [plan.apiServerVersion, plan.apiServerVersionFrom, nodePlan(plan, "worker1").verdict],
            ["v1.21.0", "/version", "ok"],
        );
        c.snapshot.serverVersion = "v1.20.0";
        // A worker already at v1.20.x cannot go to v1.21.0 while the API server runs v1.20.0.
        c.snapshot.nodes[1].status!.nodeInfo!.kubeletVersion = "v1.20.0";
        plan = planRoll(c.snapshot, { nodes: ["worker1"], targetVersion: "v1.21.0", drain: DRAIN });
        assert.equal(nodePlan(plan, "worker1").verdict, "blocked");
        assert.deepEqual(nodePlan(plan, "worker1").version.problems, [
            "kubelet v1.21.0 would be newer than the API server (v1.20.0): upgrade the control plane first",
        ]);
    });

    it("without /version or kube-apiserver pods, the control-plane kubelets stand in, with a warning; without those, no check", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.29.3" });
        c.node("w1", { version: "v1.29.3" });
        let plan = planRoll(c.snapshot, { nodes: ["w1"], targetVersion: "v1.30.0", drain: DRAIN });
        assert.equal(plan.apiServerVersionFrom, "control-plane kubelets");
        assert.match(plan.warnings.join("\n"), /the lowest control-plane kubelet, v1\.29\.3, stands in for it/);
        assert.equal(nodePlan(plan, "w1").verdict, "blocked");

        const managed = new ClusterBuilder();
        managed.node("w1", { version: "v1.29.3" });
        plan = planRoll(managed.snapshot, { all: true, targetVersion: "v1.30.0", drain: DRAIN });
        assert.equal(plan.nodes[0].verdict, "ok");
        assert.match(plan.warnings.join("\n"), /cannot check that kubelets stay at or below it/);
        managed.snapshot.serverVersion = "v1.29.8-eks-1a2b3c";
        plan = planRoll(managed.snapshot, { all: true, targetVersion: "v1.30.0", drain: DRAIN });
        assert.match(plan.nodes[0].version.problems[0], /newer than the API server \(v1\.29\.8-eks-1a2b3c\)/);
    });

    it("blocks skipped minor versions and downgrades", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.28.5" });
        c.node("w1", { version: "v1.28.5" });
        let plan = planRoll(c.snapshot, { all: true, targetVersion: "1.30.0", drain: DRAIN });
        assert.equal(plan.nodes[0].verdict, "blocked");
        assert.match(
            plan.nodes[0].version.problems[0],
            /skips 1 minor version: upgrade one minor version at a time \(v1\.28 -> v1\.29 first\)/,
        );
        assert.deepEqual(plan.notReached, ["w1"]);
        assert.match(plan.nodes[1].version.problems[0], /skips 1 minor version/, "the worker's own problem is reported too");
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

    it("warns when a kubelet is already newer than the API server", () => {
        const c = new ClusterBuilder();
        c.node("cp", { controlPlane: true, version: "v1.29.0" });
        c.node("w1", { version: "v1.30.0" });
        let plan = planRoll(c.snapshot, { nodes: ["cp"], targetVersion: "1.30.0", drain: DRAIN });
        assert.ok(plan.warnings.some((w) => /w1 \(v1\.30\.0\) is already newer than the API server \(v1\.29\.0\)/.test(w)));
        // With the API server's own version, a control-plane kubelet can be the one that is too new.
        c.snapshot.serverVersion = "v1.28.4";
        plan = planRoll(c.snapshot, { nodes: ["w1"], drain: DRAIN });
        assert.ok(plan.warnings.some((w) => /cp \(v1\.29\.0\) is already newer than the API server \(v1\.28\.4\)/.test(w)));
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
        c.snapshot.serverVersion = "v1.20.0";
        const plan = planRoll(c.snapshot, { all: true, targetVersion: "v1.20.0", drain: DRAIN });
        const text = formatPlan(plan);
        const lines = text.split("\n");
        assert.equal(lines[0], "Roll plan: 3 nodes, batches of 1, target v1.20.0 (control plane first)");
        assert.equal(lines[1], "[1/3] master (control plane) v1.19.0 -> v1.20.0: ok");
        assert.equal(lines[2], "      skip 1 pod: kube-system/kube-proxy-0x (DaemonSet-managed)");
        assert.equal(lines[3], "[2/3] worker1 v1.19.0 -> v1.20.0: BLOCKED");
        assert.equal(
            lines[4],
            "      pod default/db-0: PodDisruptionBudget default/db-pdb needs 1 healthy pods and would have 0 (0 disruptions allowed, minAvailable 1 of 1 replicas): it can never allow a disruption (minAvailable 1: needs 1 healthy of 1 pod); the drain would wait until its timeout (10m0s)",
        );
        assert.match(text, /evict 1 pod: default\/web-5d9c7-1\n/);
        assert.equal(lines[lines.length - 2], "Roll stops at worker1. Not reached: worker2.");
        // worker2 is planned as if worker1 were unblocked: db-0 is recreated there, and its budget blocks again.
        assert.match(
            text,
            /^\[3\/3\] worker2 v1\.19\.0 -> v1\.20\.0: not reached \(the roll stops at worker1\); after worker1 is unblocked: BLOCKED$/m,
        );
        assert.equal(
            lines[lines.length - 1],
            "The nodes after it, planned as if the blocked nodes were unblocked: 0 ok, 1 more BLOCKED (worker2).",
        );
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
        // Both replicas move to w2, so draining w2 waits in the same way. They have new names, unknown to the plan:
        // the text counts them per workload, and the reason says which pod each replaces.
        assert.match(text, /\[2\/2\] w2 v1\.29\.0: waits on PodDisruptionBudget default\/web-pdb/);
        assert.match(text, /^ {6}evict 2 pods: 2 new default\/web pods \(1 waits on default\/web-pdb\)$/m);
        assert.match(
            text,
            /^ {6}a new default\/web pod \(replacing default\/web-5d9c7-2\) waits: PodDisruptionBudget default\/web-pdb .*it goes once the new pod replacing default\/web-5d9c7-1 is Ready on w1$/m,
        );
        assert.match(text, /Roll completes: 0 ok, 2 wait; 4 evictions\.$/);
    });

    it("produces a plan that survives JSON", () => {
        const c = new ClusterBuilder();
        c.node("w1");
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
    });
});
