import * as assert from "assert";
import { allowedDownAtOnce, blastRadiusProblem, rollBatches } from "../../components/roll-order";

const nodes = [
    { name: "w3", controlPlane: false },
    { name: "cp2", controlPlane: true },
    { name: "w1", controlPlane: false },
    { name: "cp1", controlPlane: true },
    { name: "w2", controlPlane: false },
];

describe("roll order", () => {
    it("puts control-plane nodes first, one per batch, then workers in declared order", () => {
        assert.deepStrictEqual(rollBatches(nodes, { maxUnavailable: 1, order: "declared" }), [["cp2"], ["cp1"], ["w3"], ["w1"], ["w2"]]);
    });

    it("batches workers by maxUnavailable but never control-plane nodes", () => {
        assert.deepStrictEqual(rollBatches(nodes, { maxUnavailable: 2, order: "declared" }), [["cp2"], ["cp1"], ["w3", "w1"], ["w2"]]);
        assert.deepStrictEqual(rollBatches(nodes, { maxUnavailable: 5, order: "name" }), [["cp1"], ["cp2"], ["w1", "w2", "w3"]]);
    });

    it("sorts by name when asked, and drops duplicates", () => {
        assert.deepStrictEqual(rollBatches([...nodes, nodes[0]], { maxUnavailable: 1, order: "name" }), [["cp1"], ["cp2"], ["w1"], ["w2"], ["w3"]]);
    });

    it("mixes control-plane nodes with workers only when controlPlaneFirst is false", () => {
        assert.deepStrictEqual(rollBatches(nodes, { maxUnavailable: 2, order: "declared", controlPlaneFirst: false }), [["w3", "cp2"], ["w1", "cp1"], ["w2"]]);
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
        assert.match(problem!, /refusing to roll: maxUnavailable 3 would take down up to 3 nodes at once, but at most 2 may be down at once \(maxNodesDownAtOnce is 2\)/);
    });

    it("applies percentages of the cluster, rounding down but allowing one node", () => {
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 10, maxNodesDownPercent: 25 }), 2);
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 3, maxNodesDownPercent: 10 }), 1);
        assert.match(blastRadiusProblem({ maxUnavailable: 3, clusterNodes: 10, maxNodesDownPercent: 25 })!, /at most 2 may be down at once \(maxNodesDownPercent 25% of 10 nodes allows 2\)/);
        assert.strictEqual(allowedDownAtOnce({ maxUnavailable: 1, clusterNodes: 100, maxNodesDownPercent: 10, maxNodesDownAtOnce: 4 }), 4);
    });
});
