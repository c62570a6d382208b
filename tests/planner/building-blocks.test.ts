// The planner's small parts: label selectors, quantities, the indexed heap, the capacity model, version rules,
// where the API server version comes from.
import assert from "node:assert/strict";
import { parseSelectorText } from "../../planner/label-selector";
import { IndexedHeap } from "../../planner/indexed-heap";
import { ClusterCapacity } from "../../planner/capacity";
import { checkNodeUpgrade } from "../../planner/version-skew";
import { apiServerVersions, imageTag } from "../../planner/api-server-version";
import { ClusterBuilder } from "./fixtures";
import { compileSelector, parseQuantity, podRequests, formatCpu, formatMemory } from "../../kube-rules";

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
        // A walk in priority order that leaves the heap as it is, and stops when asked.
        const walked: number[] = [];
        heap.visitInOrder((i) => (walked.push(i.v), false));
        assert.deepEqual(walked, [9, 7, 5, 3, 1]);
        walked.length = 0;
        heap.visitInOrder((i) => (walked.push(i.v), i.v === 7));
        assert.deepEqual(walked, [9, 7]);
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

    it("capacity model: fewest pods of the same controller, then fewest pods, then name; only where the pod fits", () => {
        const c = new ClusterBuilder();
        c.node("a", { cpu: "2", memory: "4Gi", pods: 2 });
        c.node("b", { cpu: "4", memory: "4Gi" });
        c.node("cordoned", { unschedulable: true });
        const cap = new ClusterCapacity(c.snapshot.nodes, new Set());
        cap.setSchedulable("a", true);
        cap.setSchedulable("b", true);
        assert.equal(cap.totals().schedulableNodes, 2);
        const pod = { spec: { containers: [] } };
        const cpu = (cpuMillis: number) => ({ cpuMillis, memoryBytes: 0 });
        assert.deepEqual(cap.place(pod, cpu(1000)), { node: "a" }, "as many pods: name order");
        assert.deepEqual(cap.place(pod, cpu(3000)), { node: "b" }, "b has fewer pods");
        const none = cap.place(pod, cpu(1500));
        assert.equal(none.node, null);
        assert.match(none.node === null ? none.reason : "", /no schedulable node has cpu 1500m/);
        assert.deepEqual(cap.place(pod, cpu(500)), { node: "a" });
        assert.deepEqual(cap.place(pod, cpu(100)), { node: "b" }, "a has no pod slot left");
        assert.deepEqual(cap.totals().free, { cpuMillis: 500 + 900, memoryBytes: 8 * 2 ** 30 });
        cap.setSchedulable("cordoned", true);
        assert.deepEqual(cap.place(pod, cpu(1000)), { node: "cordoned" });
    });

    it("capacity model spreads a controller's pods before it balances pod counts", () => {
        const c = new ClusterBuilder();
        for (const n of ["n1", "n2", "n3"]) c.node(n);
        const cap = new ClusterCapacity(c.snapshot.nodes, new Set());
        for (const n of ["n1", "n2", "n3"]) cap.setSchedulable(n, true);
        const pod = { spec: { containers: [] } };
        const req = { cpuMillis: 100, memoryBytes: 0 };
        const web = new Map<string, number>();
        const other = new Map<string, number>();
        // n1 runs 3 pods of web, n2 runs 4 other pods, n3 runs 1 pod of web and 1 other.
        for (let i = 0; i < 3; i++) cap.addPod("n1", req, web);
        for (let i = 0; i < 4; i++) cap.addPod("n2", req, other);
        cap.addPod("n3", req, web);
        cap.addPod("n3", req, other);
        assert.deepEqual(cap.place(pod, req, web), { node: "n2" }, "no web pod there, although it runs the most pods");
        assert.deepEqual(cap.place(pod, req, web), { node: "n3" }, "one web pod each on n2 and n3; n3 runs fewer pods");
        assert.deepEqual(cap.place(pod, req, web), { node: "n2" }, "n2 runs one web pod, n3 two");
        assert.deepEqual(
            [...web],
            [
                ["n1", 3],
                ["n3", 2],
                ["n2", 2],
            ],
        );
        cap.removePod("n1", req, web);
        assert.equal(web.get("n1"), 2);
    });

    it("version rules", () => {
        const base = { node: "n", controlPlane: false, apiServerVersion: "v1.30.0", otherKubelets: [] };
        assert.deepEqual(checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.30.1" }), []);
        assert.deepEqual(
            checkNodeUpgrade({ ...base, from: "v1.30.0+k3s1", to: "v1.30.0" }),
            [],
            "a distribution build is not newer than its release",
        );
        assert.match(
            checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.31.0", apiServerVersion: "v1.31.0" })[0],
            /skips 1 minor version/,
        );
        assert.match(
            checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.31.0" }).join(";"),
            /kubelet v1\.31\.0 would be newer than the API server \(v1\.30\.0\)/,
        );
        assert.match(checkNodeUpgrade({ ...base, from: "garbage", to: "v1.30.0" })[0], /cannot read the kubelet version/);
        assert.deepEqual(
            checkNodeUpgrade({ ...base, from: "v1.29.9", to: "v1.31.0", apiServerVersion: undefined }).length,
            1,
            "unknown API server: no skew check",
        );
        // A control-plane node's upgrade moves the API server it hosts: it is not held to the current one.
        assert.deepEqual(checkNodeUpgrade({ ...base, controlPlane: true, from: "v1.30.0", to: "v1.31.0" }), []);
        // v1.27 allowed only 2 minors of lag.
        const cp = { node: "cp", controlPlane: true, apiServerVersion: "v1.26.0", from: "v1.26.0", to: "v1.27.0" };
        assert.match(
            checkNodeUpgrade({ ...cp, otherKubelets: [{ node: "w", version: "v1.24.0" }] })[0],
            /more than 2 minor versions older/,
        );
        assert.deepEqual(checkNodeUpgrade({ ...cp, otherKubelets: [{ node: "w", version: "v1.25.0" }] }), []);
    });

    it("API server version: GET /version first, then the lowest kube-apiserver image tag, then control-plane kubelets", () => {
        assert.equal(imageTag("registry.k8s.io/kube-apiserver:v1.20.0"), "v1.20.0");
        assert.equal(imageTag("my-registry:5000/kube-apiserver:v1.20.1@sha256:0123"), "v1.20.1");
        assert.equal(imageTag("my-registry:5000/kube-apiserver"), undefined);

        const c = new ClusterBuilder();
        c.node("cp1", { controlPlane: true, version: "v1.19.0" });
        c.node("cp2", { controlPlane: true, version: "v1.19.0" });
        c.node("w1", { version: "v1.19.0" });
        let v = apiServerVersions(c.snapshot);
        assert.equal(v.from, "control-plane kubelets");
        assert.deepEqual(
            [...v.byHost],
            [
                ["cp1", "v1.19.0"],
                ["cp2", "v1.19.0"],
            ],
        );
        assert.match(v.warning ?? "", /API server version is unknown .*the lowest control-plane kubelet, v1\.19\.0, stands in for it/);

        const apiserver = (node: string, image: string) => {
            const pod = c.pod("kube-system", `kube-apiserver-${node}`, node, {
                labels: { component: "kube-apiserver", tier: "control-plane" },
                mirror: true,
            });
            pod.spec!.containers = [{ name: "kube-apiserver", image }];
        };
        apiserver("cp1", "registry.k8s.io/kube-apiserver:v1.20.2");
        apiserver("cp2", "registry.k8s.io/kube-apiserver:v1.20.0");
        c.pod("default", "not-it", "w1", { labels: { component: "kube-apiserver" } }); // not in kube-system
        v = apiServerVersions(c.snapshot);
        assert.equal(v.from, "kube-apiserver pods");
        assert.deepEqual(
            [...v.byHost],
            [
                ["cp1", "v1.20.2"],
                ["cp2", "v1.20.0"],
            ],
        );
        assert.equal(v.warning, undefined);

        c.snapshot.serverVersion = "v1.21.1";
        v = apiServerVersions(c.snapshot);
        assert.equal(v.from, "/version");
        assert.deepEqual(
            [...v.byHost],
            [
                ["cp1", "v1.21.1"],
                ["cp2", "v1.21.1"],
            ],
        );

        const managed = new ClusterBuilder();
        managed.node("w1");
        assert.match(apiServerVersions(managed.snapshot).warning ?? "", /cannot check that kubelets stay at or below it/);
        managed.snapshot.serverVersion = "v1.29.3-eks-1a2b3c";
        assert.deepEqual([...apiServerVersions(managed.snapshot).byHost], [["", "v1.29.3-eks-1a2b3c"]]);
    });
});
