import * as assert from "assert";
import { allowedDownAtOnce, blastRadiusProblem } from "../../components/roll-order";
import {
    isControlPlaneLabels,
    rollBatches,
    targetVersionProblem,
    versionSatisfiesTarget,
    WORKERS_SELECTOR,
    type RollBatchOptions,
    type RollCandidate,
} from "../../kube-rules";

const nodes = [
    { name: "w3", controlPlane: false },
    { name: "cp2", controlPlane: true },
    { name: "w1", controlPlane: false },
    { name: "cp1", controlPlane: true },
    { name: "w2", controlPlane: false },
];

const batches = (list: RollCandidate[], opts: RollBatchOptions) => rollBatches(list, opts).batches;

describe("kube-rules: roll order and batches (the one rule for preview and up)", () => {
    it("puts control-plane nodes first, one per batch, then workers in declared order", () => {
        assert.deepStrictEqual(batches(nodes, { maxUnavailable: 1, order: "declared" }), [["cp2"], ["cp1"], ["w3"], ["w1"], ["w2"]]);
    });

    it("batches workers by maxUnavailable but never control-plane nodes", () => {
        assert.deepStrictEqual(batches(nodes, { maxUnavailable: 2, order: "declared" }), [["cp2"], ["cp1"], ["w3", "w1"], ["w2"]]);
        assert.deepStrictEqual(batches(nodes, { maxUnavailable: 5, order: "name" }), [["cp1"], ["cp2"], ["w1", "w2", "w3"]]);
    });

    it("sorts by name when asked, and drops duplicates", () => {
        assert.deepStrictEqual(batches([...nodes, nodes[0]], { maxUnavailable: 1, order: "name" }), [
            ["cp1"],
            ["cp2"],
            ["w1"],
            ["w2"],
            ["w3"],
        ]);
    });

    it("without controlPlaneFirst keeps the given order, a control-plane node still alone in its batch", () => {
        assert.deepStrictEqual(batches(nodes, { maxUnavailable: 2, order: "declared", controlPlaneFirst: false }), [
            ["w3"],
            ["cp2"],
            ["w1"],
            ["cp1"],
            ["w2"],
        ]);
    });

    it("issue 11's counterexample: 3 control-plane nodes, 3 workers, batch 2, one worker at the target", () => {
        const cluster: RollCandidate[] = [
            ...["cp-0", "cp-1", "cp-2"].map((name) => ({ name, controlPlane: true, kubeletVersion: "v1.29.3" })),
            { name: "w-0", controlPlane: false, kubeletVersion: "v1.30.0" },
            { name: "w-1", controlPlane: false, kubeletVersion: "v1.29.3" },
            { name: "w-2", controlPlane: false, kubeletVersion: "v1.29.3" },
        ];
        const r = rollBatches(cluster, { maxUnavailable: 2, targetVersion: "v1.30.0" });
        assert.deepStrictEqual(r.batches, [["cp-0"], ["cp-1"], ["cp-2"], ["w-1", "w-2"]]);
        assert.deepStrictEqual(r.skipped, [{ name: "w-0", reason: "already at v1.30.0" }]);
        // A node left cordoned by an unfinished run needs its chain even at the target.
        const unfinished = cluster.map((n) => (n.name === "w-0" ? { ...n, cordonedByUs: true } : n));
        assert.deepStrictEqual(rollBatches(unfinished, { maxUnavailable: 2, targetVersion: "v1.30.0" }).batches, [
            ["cp-0"],
            ["cp-1"],
            ["cp-2"],
            ["w-0", "w-1"],
            ["w-2"],
        ]);
        // skipIfAtTarget: false rolls every node.
        assert.deepStrictEqual(rollBatches(cluster, { maxUnavailable: 2, targetVersion: "v1.30.0", skipNodesAtTarget: false }).skipped, []);
    });

    it("'already at the target' is one rule: a release candidate target is not the release, a distribution build is", () => {
        assert.strictEqual(versionSatisfiesTarget("v1.30.0", "v1.30.0-rc.1"), false);
        assert.strictEqual(versionSatisfiesTarget("v1.30.0-rc.1", "v1.30.0-rc.1"), true);
        assert.strictEqual(versionSatisfiesTarget("v1.30.0+k3s1", "v1.30.0"), true);
        assert.strictEqual(versionSatisfiesTarget("v1.30.1", "v1.30.0"), false);
        for (const bad of ["v1.2O.0", "banana", "1.20", ""]) assert.ok(targetVersionProblem(bad), bad);
        assert.match(targetVersionProblem("v1.2O.0")!, /is not a semantic version like v1\.29\.3/);
        assert.strictEqual(targetVersionProblem("v1.20.0"), undefined);
    });

    it("control plane means either label, old or new; WORKERS_SELECTOR excludes both", () => {
        assert.strictEqual(isControlPlaneLabels({ "node-role.kubernetes.io/master": "" }), true);
        assert.strictEqual(isControlPlaneLabels({ "node-role.kubernetes.io/control-plane": "" }), true);
        assert.strictEqual(isControlPlaneLabels({ "kubernetes.io/hostname": "w" }), false);
        assert.strictEqual(WORKERS_SELECTOR, "!node-role.kubernetes.io/control-plane,!node-role.kubernetes.io/master");
    });
});

describe("blast-radius guard", () => {
    it("allows anything without a limit", () => {
        assert.strictEqual(blastRadiusProblem({ maxUnavailable: 50, clusterNodes: 3 }), undefined);
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 50, clusterNodes: 3 }), undefined);
    });

    it("refuses maxUnavailable above maxNodesDownAtOnce with a clear message", () => {
        assert.strictEqual(blastRadiusProblem({ maxUnavailable: 2, clusterNodes: 10, maxNodesDownAtOnce: 2 }), undefined);
        const problem = blastRadiusProblem({ maxUnavailable: 3, clusterNodes: 10, maxNodesDownAtOnce: 2 });
        assert.match(
            problem!,
            /refusing to roll: maxUnavailable 3 would take down up to 3 nodes at once, but at most 2 may be down at once \(maxNodesDownAtOnce is 2\)/,
        );
    });

    it("applies percentages of the cluster, rounding down but allowing one node", () => {
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 10, maxNodesDownPercent: 25 }), 2);
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 3, maxNodesDownPercent: 10 }), 1);
        assert.match(
            blastRadiusProblem({ maxUnavailable: 3, clusterNodes: 10, maxNodesDownPercent: 25 })!,
            /at most 2 may be down at once \(maxNodesDownPercent 25% of 10 nodes allows 2\)/,
        );
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 100, maxNodesDownPercent: 10, maxNodesDownAtOnce: 4 }), 4);
    });
});
