// The planner's small parts: label selectors, quantities, the indexed heap, the capacity model, version rules.
import assert from "node:assert/strict";
import { compileSelector, parseSelectorText } from "../../planner/label-selector";
import { parseQuantity, podRequests, formatCpu, formatMemory } from "../../planner/resources";
import { IndexedHeap } from "../../planner/indexed-heap";
import { ClusterCapacity } from "../../planner/capacity";
import { checkNodeUpgrade, sameVersion } from "../../planner/version-skew";
import { ClusterBuilder } from "./fixtures";

describe("planner building blocks", () => {
    it("label selectors: objects with policy/v1 semantics and text as kubectl parses it", () => {
        assert.equal(compileSelector(undefined).matches({ a: "1" }), false);
        assert.equal(compileSelector({}).matches({}), true);
        const s = compileSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] });
        assert.equal(s.matches({ app: "web" }), true);
        assert.equal(s.matches({ app: "web", tier: "db" }), false);
        assert.equal(s.requiredPair, "app=web");
        assert.equal(compileSelector({ matchExpressions: [{ key: "a", operator: "Bogus" }] }).matches({ a: "1" }), false);

        const t = parseSelectorText("app=web, env in (prod,staging),!legacy,tier!=db,team");
        assert.equal(t.matches({ app: "web", env: "prod", team: "x" }), true);
        assert.equal(t.matches({ app: "web", env: "dev", team: "x" }), false);
        assert.equal(t.matches({ app: "web", env: "prod", team: "x", legacy: "1" }), false);
        assert.equal(t.matches({ app: "web", env: "prod", team: "x", tier: "db" }), false);
        assert.equal(t.matches({ app: "web", env: "prod" }), false);
        assert.equal(parseSelectorText("").matchesAll, true);
        assert.throws(() => parseSelectorText("a=(b", "--pod-selector"), /--pod-selector=a=\(b must be a valid label selector/);
    });

    it("quantities and pod requests", () => {
        assert.equal(parseQuantity("250m"), 0.25);
        assert.equal(parseQuantity("1.5"), 1.5);
        assert.equal(parseQuantity("512Mi"), 512 * 2 ** 20);
        assert.equal(parseQuantity("2G"), 2e9);
        assert.equal(parseQuantity("1e3"), 1000);
        assert.ok(Number.isNaN(parseQuantity("lots")));
        const req = podRequests({
            spec: {
                containers: [
                    { name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" } } },
                    { name: "b", resources: { limits: { cpu: "200m", memory: "64Mi" } } },
                ],
                initContainers: [{ name: "init", resources: { requests: { cpu: "1", memory: "16Mi" } } }],
                overhead: { cpu: "10m" },
            },
        });
        assert.deepEqual(req, { cpuMillis: 1010, memoryBytes: 128 * 2 ** 20 });
        assert.equal(formatCpu(1500), "1500m");
        assert.equal(formatCpu(2000), "2");
        assert.equal(formatCpu(11500), "11.5");
        assert.equal(formatMemory(3 * 2 ** 30), "3Gi");
    });

    it("indexed heap keeps order through updates and removals", () => {
        type Item = { heapIndex: number; v: number };
        const heap = new IndexedHeap<Item>((a, b) => a.v > b.v);
        const items: Item[] = [5, 1, 9, 3, 7].map((v) => ({ heapIndex: -1, v }));
        items.forEach((i) => heap.push(i));
        assert.equal(heap.peek()!.v, 9);
        items[2].v = 0;
        heap.update(items[2]);
        assert.equal(heap.peek()!.v, 7);
        heap.remove(items[4]);
        assert.equal(heap.peek()!.v, 5);
        assert.equal(heap.size, 4);
        const out: number[] = [];
        while (heap.size) {
            const top = heap.peek()!;
            out.push(top.v);
            heap.remove(top);
        }
        assert.deepEqual(out, [5, 3, 1, 0]);
    });

    it("capacity model places on the roomiest fitting node and tracks totals", () => {
        const c = new ClusterBuilder();
        c.node("a", { cpu: "2", memory: "4Gi", pods: 2 });
        c.node("b", { cpu: "4", memory: "4Gi" });
        c.node("cordoned", { unschedulable: true });
        const cap = new ClusterCapacity(c.snapshot.nodes, new Set(), (n) => !n.spec?.unschedulable);
        assert.equal(cap.totals().schedulableNodes, 2);
        const pod = { spec: { containers: [] } };
        assert.deepEqual(cap.place(pod, { cpuMillis: 1000, memoryBytes: 0 }), { node: "a" }, "equal room: name order");
        assert.deepEqual(cap.place(pod, { cpuMillis: 3000, memoryBytes: 0 }), { node: "b" }, "a is roomier but too small");
        const none = cap.place(pod, { cpuMillis: 1500, memoryBytes: 0 });
        assert.equal(none.node, null);
        assert.match(none.node === null ? none.reason : "", /no schedulable node has cpu 1500m/);
        assert.deepEqual(cap.place(pod, { cpuMillis: 500, memoryBytes: 0 }), { node: "a" });
        assert.deepEqual(cap.place(pod, { cpuMillis: 100, memoryBytes: 0 }), { node: "b" }, "a has no pod slot left");
        assert.deepEqual(cap.totals().free, { cpuMillis: 500 + 900, memoryBytes: 8 * 2 ** 30 });
        cap.setSchedulable("cordoned", true);
        assert.deepEqual(cap.place(pod, { cpuMillis: 1000, memoryBytes: 0 }), { node: "cordoned" });
    });

    it("version rules", () => {
        assert.equal(sameVersion("v1.30.2+k3s1", "1.30.2"), true);
        assert.equal(sameVersion("v1.30.2", "1.30.3"), false);
        const base = { node: "n", controlPlane: false, controlPlaneVersion: "v1.30.0", otherKubelets: [] };
        assert.deepEqual(checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.30.1" }), []);
        assert.match(checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.31.0", controlPlaneVersion: "v1.31.0" })[0], /skips 1 minor version/);
        assert.match(checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.31.0" }).join(";"), /newer than the control plane/);
        assert.match(checkNodeUpgrade({ ...base, from: "garbage", to: "v1.30.0" })[0], /cannot read the kubelet version/);
        // v1.27 allowed only 2 minors of lag.
        const cp = { node: "cp", controlPlane: true, controlPlaneVersion: "v1.26.0", from: "v1.26.0", to: "v1.27.0" };
        assert.match(checkNodeUpgrade({ ...cp, otherKubelets: [{ node: "w", version: "v1.24.0" }] })[0], /more than 2 minor versions older/);
        assert.deepEqual(checkNodeUpgrade({ ...cp, otherKubelets: [{ node: "w", version: "v1.25.0" }] }), []);
    });
});
