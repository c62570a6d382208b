// Cluster-level features: fault injection, the time scale, node upgrades,
// dead nodes, the large scenario's determinism, and loading List files.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCluster, SimCluster } from "../../sim";
import { api, kubectl, requireKubectl, watchEvents } from "../helpers/sim-kubectl";
import { nextStoreEvent, whenStore } from "../helpers/sim-events";
import { addBarePod, addDeployment, baseCluster, list } from "./fixtures";

describe("sim: cluster features", function () {
    const clusters: SimCluster[] = [];
    async function cluster(o: Parameters<typeof startCluster>[0]): Promise<SimCluster> {
        const c = await startCluster(o);
        clusters.push(c);
        return c;
    }
    afterEach(async () => {
        while (clusters.length) await clusters.pop()!.stop();
    });

    describe("faults", () => {
        it("error rules per verb/resource with count, 429 Retry-After, and counting", async () => {
            const f = baseCluster();
            addDeployment(f, "web", [{ name: "web-1", node: "w1" }]);
            const c = await cluster({ scenario: list(f), timeScale: 20 });
            c.faults.add({ verb: "create", resource: "pods/eviction", status: 503, count: 2 });
            c.faults.add({ verb: "get", resource: "nodes", status: 429, retryAfterSeconds: 3, count: 1 });
            const ev = () =>
                api(c, "POST", "/api/v1/namespaces/default/pods/web-1/eviction", {
                    body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1" } },
                });
            assert.equal((await ev()).status, 503);
            const second = await ev();
            assert.equal(second.status, 503);
            assert.equal(second.json.reason, "ServiceUnavailable");
            assert.ok(c.get("pods", "default", "web-1") && !c.get("pods", "default", "web-1").metadata.deletionTimestamp, "no side effect");
            assert.equal((await ev()).status, 201);
            const n = await api(c, "GET", "/api/v1/nodes/w1");
            assert.equal(n.status, 429);
            assert.equal(n.headers["retry-after"], "3");
            assert.equal(n.json.details.retryAfterSeconds, 3);
            assert.equal((await api(c, "GET", "/api/v1/nodes/w1")).status, 200);
            assert.equal(c.faults.injected(), 3);
            assert.deepEqual(c.faults.injectedByType(), { error: 3 });
            assert.deepEqual(
                c.requestLog().map((e) => [e.status, !!e.injected, e.retryAfterSeconds]),
                [
                    [503, true, undefined],
                    [503, true, undefined],
                    [201, false, undefined],
                    [429, true, 3],
                    [200, false, undefined],
                ],
            );
        });

        it("rates are reproducible with the same seed", async () => {
            const outcomes: number[][] = [];
            for (let run = 0; run < 2; run++) {
                const c = await cluster({ scenario: list(baseCluster()), seed: 7 });
                c.faults.add({ verb: "get", resource: "nodes", status: 500, rate: 0.5 });
                const seq: number[] = [];
                for (let i = 0; i < 16; i++) seq.push((await api(c, "GET", "/api/v1/nodes/w1")).status);
                outcomes.push(seq);
                assert.ok(seq.includes(500) && seq.includes(200), seq.join());
                assert.equal(c.faults.injected(), seq.filter((s) => s === 500).length);
            }
            assert.deepEqual(outcomes[0], outcomes[1]);
        });

        it("HTTP /sim/v1/faults: add, list, clear; hideEviction removes pods/eviction from discovery", async () => {
            const c = await cluster({ scenario: list(baseCluster()) });
            let r = await api(c, "POST", "/sim/v1/faults", { body: { type: "hideEviction" } });
            assert.equal(r.status, 201);
            const disc = await api(c, "GET", "/api/v1");
            assert.equal(
                disc.json.resources.some((x: any) => x.name === "pods/eviction"),
                false,
            );
            r = await api(c, "GET", "/sim/v1/faults");
            assert.equal(r.json.injected, 1);
            assert.equal(r.json.rules.length, 1);
            r = await api(c, "POST", "/sim/v1/faults", { body: { type: "bogus" } });
            assert.equal(r.status, 400);
            await api(c, "DELETE", "/sim/v1/faults");
            assert.ok((await api(c, "GET", "/api/v1")).json.resources.some((x: any) => x.name === "pods/eviction"));
        });

        it("latency and dropped watches: each counted once it took effect, and visible in the request log", async () => {
            const c = await cluster({ scenario: list(baseCluster()), timeScale: 10 });
            c.faults.add({ type: "latency", verb: "get", resource: "nodes", ms: 300, count: 1 });
            assert.equal((await api(c, "GET", "/api/v1/nodes/w1")).status, 200);
            assert.equal((await api(c, "GET", "/api/v1/nodes/w2")).status, 200);
            const gets = c.requestLog().filter((e) => e.verb === "get" && e.resource === "nodes");
            assert.deepEqual(
                gets.map((e) => [e.path, e.latencyMs]),
                [
                    ["/api/v1/nodes/w1", 300],
                    ["/api/v1/nodes/w2", undefined],
                ],
            );
            // held back 300 real ms = 3 simulated s at timeScale 10 (the log's times are simulated ms)
            assert.ok(
                gets[0].time - gets[0].received! >= 300 * 10,
                `answered ${gets[0].time - gets[0].received!} simulated ms after it arrived`,
            );
            assert.deepEqual(c.faults.injectedByType(), { latency: 1 });

            // A rule that would cut a watch after 50 events injects nothing when the watch ends first (here: the
            // server's own timeoutSeconds; the stream's end reaches the client after the server settled the rule) ...
            c.faults.add({ type: "dropWatch", resource: "nodes", afterEvents: 50, count: 1 });
            let w = await watchEvents(c, "/api/v1/nodes?watch=true&timeoutSeconds=1", () => false, 5000);
            assert.equal(w.ended, true);
            assert.ok(w.events.length >= 3 && w.events.length < 50, `${w.events.length} events`); // the 3 nodes, and any heartbeat
            assert.deepEqual(c.faults.injectedByType(), { latency: 1 });
            c.faults.clear();
            // ... and counts once it really cuts one, after 2 events.
            c.faults.add({ type: "dropWatch", resource: "nodes", afterEvents: 2 });
            w = await watchEvents(c, "/api/v1/nodes?watch=true", () => false, 3000);
            assert.equal(w.ended, true);
            assert.equal(w.events.length, 2);
            assert.deepEqual(c.faults.injectedByType(), { latency: 1, dropWatch: 1 });
            assert.deepEqual(
                c
                    .requestLog()
                    .filter((e) => e.verb === "watch")
                    .map((e) => !!e.dropped),
                [false, true],
            );
        });

        it("dropWatches() and compactWatchHistory(): counted per watch really cut and per 410 really served", async () => {
            const c = await cluster({ scenario: list(baseCluster()) });
            const rv = (await api(c, "GET", "/api/v1/nodes")).json.metadata.resourceVersion;
            c.dropWatches(); // nothing open: nothing injected
            assert.equal(c.faults.injected(), 0);
            // two open watches, cut by the cluster
            const opened: Promise<number>[] = [];
            const open = ["nodes", "pods"].map((r) => {
                let onOpen!: (status: number) => void;
                opened.push(new Promise((resolve) => (onOpen = resolve)));
                return watchEvents(c, `/api/v1/${r}?watch=true&resourceVersion=${rv}`, () => false, 10_000, onOpen);
            });
            assert.deepEqual(await Promise.all(opened), [200, 200]);
            c.dropWatches();
            const ended = await Promise.all(open);
            assert.deepEqual(
                ended.map((w) => [w.ended, w.events.length]),
                [
                    [true, 0],
                    [true, 0],
                ],
            );
            assert.deepEqual(c.faults.injectedByType(), { dropWatch: 2 });
            assert.deepEqual(
                c
                    .requestLog()
                    .filter((e) => e.verb === "watch")
                    .map((e) => !!e.dropped),
                [true, true],
            );

            // A compaction is a fault only for a client that asks for what it dropped.
            const w1 = c.get("nodes", undefined, "w1");
            c.apply({ ...w1, metadata: { ...w1.metadata, labels: { ...w1.metadata.labels, touched: "1" } } });
            c.compactWatchHistory();
            const gone = await watchEvents(c, `/api/v1/nodes?watch=true&resourceVersion=${rv}`, () => false, 3000);
            assert.deepEqual(
                gone.events.map((e) => [e.type, e.object.code, e.object.reason]),
                [["ERROR", 410, "Expired"]],
            );
            assert.deepEqual(c.faults.injectedByType(), { dropWatch: 2, expired: 1 });
            const fresh = (await api(c, "GET", "/api/v1/nodes")).json.metadata.resourceVersion;
            const live = await watchEvents(c, `/api/v1/nodes?watch=true&resourceVersion=${fresh}&timeoutSeconds=1`, () => false, 5000);
            assert.deepEqual([live.ended, live.events.length], [true, 0]);
            assert.deepEqual(c.faults.injectedByType(), { dropWatch: 2, expired: 1 }, "a current resourceVersion is not expired");
            assert.deepEqual(
                c
                    .requestLog()
                    .filter((e) => e.expired)
                    .map((e) => e.query),
                [`watch=true&resourceVersion=${rv}`],
            );
        });

        it("stuck terminating and never-ready pods: counted once per pod, however often the kubelet looks", async () => {
            const f = baseCluster();
            addBarePod(f, "stuck", "w1", { grace: 1, labels: { app: "stuck" } });
            const c = await cluster({ scenario: list(f), timeScale: 50 });
            c.faults.add({ type: "stuckTerminating", labelSelector: "app=stuck" });
            c.faults.add({ type: "neverReady", namespace: "default", name: "fresh" });
            await api(c, "DELETE", "/api/v1/namespaces/default/pods/stuck");
            await api(c, "POST", "/api/v1/namespaces/default/pods", {
                body: { metadata: { name: "fresh" }, spec: { containers: [{ name: "c", image: "i" }] } },
            });
            await whenStore(c, () => c.get("pods", "default", "fresh")?.status?.phase === "Running");
            const fresh = c.get("pods", "default", "fresh");
            assert.equal(fresh.status.conditions.find((x: any) => x.type === "Ready").status, "False");
            // The stuck pod's grace period (1 s) is long over, and the kubelet looked at it again each time it was
            // touched (below: three label changes); it is still there, and still one injected fault.
            for (let i = 0; i < 3; i++)
                c.apply({
                    ...c.get("pods", "default", "stuck"),
                    metadata: { ...c.get("pods", "default", "stuck").metadata, labels: { app: "stuck", touch: String(i) } },
                });
            c.clock.advance(5);
            await c.settle();
            const stuck = c.get("pods", "default", "stuck");
            assert.ok(Date.parse(stuck.metadata.deletionTimestamp) < c.clock.now().getTime(), "grace period over");
            assert.deepEqual(c.faults.injectedByType(), { stuckTerminating: 1, neverReady: 1 });
            assert.equal(c.faults.injected(), 2);
        });
    });

    describe("time scale", () => {
        it("simulated time runs timeScale× faster than real time", async () => {
            const c = await cluster({ scenario: list(baseCluster()), timeScale: 100 });
            const r0 = Date.now();
            const s0 = c.clock.now().getTime();
            await c.clock.sleep(10);
            const simMs = c.clock.now().getTime() - s0;
            const realMs = Date.now() - r0;
            assert.ok(simMs >= 10_000, `sim ${simMs}`);
            assert.ok(realMs >= 100 - 2, `10 simulated s at 100× took only ${realMs} real ms`);
            // the two readings of each clock are at most 1 real ms apart
            assert.ok(Math.abs(simMs - realMs * 100) <= 2 * 100, `sim ${simMs} ms vs real ${realMs} ms`);
            const clk = await api(c, "GET", "/sim/v1/clock");
            assert.equal(clk.json.timeScale, 100);
        });

        it("grace periods run on the simulated clock (a jump of it ends one that real time would not)", async () => {
            const f = baseCluster();
            addBarePod(f, "p", "w1", { grace: 600 });
            const c = await cluster({ scenario: list(f), timeScale: 1 });
            const gone = nextStoreEvent(c, (e) => e.type === "DELETED" && e.object.metadata.name === "p");
            const before = c.clock.now().getTime();
            assert.equal((await api(c, "DELETE", "/api/v1/namespaces/default/pods/p")).status, 200);
            await c.settle();
            const p = c.get("pods", "default", "p");
            const due = Date.parse(p.metadata.deletionTimestamp);
            assert.ok(due >= before + 599_000, `deletionTimestamp ${p.metadata.deletionTimestamp}`);
            c.clock.advance(601); // 10 simulated minutes at once; in real time this pod would outlive the test's timeout
            await gone;
            assert.ok(c.clock.now().getTime() >= due, "removed before its grace period ended");
        });
    });

    describe("node upgrade", () => {
        it("programmatic: NotReady for downSeconds, then Ready at the new version; pods untouched", async () => {
            const f = baseCluster();
            addDeployment(f, "web", [{ name: "web-1", node: "w1" }]);
            const c = await cluster({ scenario: list(f), timeScale: 50 });
            await c.upgradeNode("w1", "1.29.0", { downSeconds: 20 });
            const ready = () => c.get("nodes", undefined, "w1").status.conditions.find((x: any) => x.type === "Ready");
            assert.equal(ready().status, "False");
            const taints = () => (c.get("nodes", undefined, "w1").spec.taints ?? []).map((t: any) => t.key);
            await whenStore(c, () => taints().includes("node.kubernetes.io/not-ready"));
            assert.equal(ready().status, "False", "tainted while down");
            await whenStore(c, () => ready().status === "True");
            const n = c.get("nodes", undefined, "w1");
            assert.equal(n.status.nodeInfo.kubeletVersion, "v1.29.0");
            assert.equal(n.status.nodeInfo.kubeProxyVersion, "v1.29.0");
            assert.equal(c.get("pods", "default", "web-1").spec.nodeName, "w1");
            await whenStore(c, () => taints().length === 0);
        });

        it("HTTP: 202 accepted, 404 unknown node, 400 bad version; never-returns knob", async () => {
            const c = await cluster({ scenario: list(baseCluster()), timeScale: 50 });
            let r = await api(c, "POST", "/sim/v1/nodes/w2/upgrade", { body: { version: "v1.29.1", downSeconds: 5 } });
            assert.equal(r.status, 202, r.text);
            assert.equal(r.json.version, "v1.29.1");
            r = await api(c, "POST", "/sim/v1/nodes/nope/upgrade", { body: { version: "v1.29.1" } });
            assert.equal(r.status, 404);
            assert.equal(r.json.message, 'nodes "nope" not found');
            r = await api(c, "POST", "/sim/v1/nodes/w1/upgrade", { body: { version: "banana" } });
            assert.equal(r.status, 400);
            r = await api(c, "POST", "/sim/v1/nodes/w1/upgrade", { body: { version: "v1.29.1" }, token: null });
            assert.equal(r.status, 401);
            await c.waitFor(() => c.get("nodes", undefined, "w2").status.nodeInfo.kubeletVersion === "v1.29.1", 60);
            c.apply({
                ...c.get("nodes", undefined, "w3"),
                metadata: {
                    ...c.get("nodes", undefined, "w3").metadata,
                    annotations: { "sim.node-upgrade.dev/never-returns-after-upgrade": "true" },
                },
            });
            await c.upgradeNode("w3", "v1.29.1", { downSeconds: 2 });
            await c.clock.sleep(30);
            const w3 = c.get("nodes", undefined, "w3");
            assert.equal(w3.status.conditions.find((x: any) => x.type === "Ready").status, "False");
            assert.equal(w3.status.nodeInfo.kubeletVersion, "v1.28.5");
        });

        async function deadNode(): Promise<SimCluster> {
            const f = baseCluster();
            addBarePod(f, "p", "w1", { grace: 1 });
            const c = await cluster({ scenario: list(f), timeScale: 50 });
            c.setNodeDead("w1", true);
            await api(c, "DELETE", "/api/v1/namespaces/default/pods/p");
            const readyOf = () => c.get("nodes", undefined, "w1").status.conditions.find((x: any) => x.type === "Ready").status;
            await whenStore(c, () => readyOf() === "Unknown");
            return c;
        }

        it("dead node: kubelet stops confirming deletions and Ready turns Unknown", async () => {
            const c = await deadNode();
            // Ready went Unknown only after the node-monitor grace period, long after the pod's 1 s grace ended.
            const p = c.get("pods", "default", "p");
            assert.ok(p, "never removed while dead");
            assert.ok(
                Date.parse(p.metadata.deletionTimestamp) < c.clock.now().getTime() - 10_000,
                `deletionTimestamp ${p.metadata.deletionTimestamp}`,
            );
            c.setNodeDead("w1", false);
            await whenStore(c, () => !c.get("pods", "default", "p"));
        });

        it("dead node: real kubectl shows it NotReady", async function () {
            requireKubectl(this);
            const c = await deadNode();
            const k = await kubectl(c, ["get", "nodes"]);
            assert.equal(k.code, 0, k.stderr);
            assert.match(k.stdout, /^w1\s+NotReady\s/m);
            assert.match(k.stdout, /^w2\s+Ready\s/m);
        });
    });

    describe("scenarios", () => {
        it("large is deterministic for the same arguments", async () => {
            const sig = (c: SimCluster) =>
                c
                    .list("pods")
                    .map((p) => `${p.metadata.namespace}/${p.metadata.name}@${p.spec.nodeName}#${p.metadata.uid}`)
                    .join("\n");
            const a = await cluster({ scenario: "large", nodes: 20, podsPerNode: 30 });
            const b = await cluster({ scenario: "large", nodes: 20, podsPerNode: 30 });
            assert.equal(a.list("nodes").length, 20);
            assert.equal(a.list("pods").length, 600);
            assert.equal(sig(a), sig(b));
            for (const n of a.list("nodes")) assert.equal(a.list("pods").filter((p) => p.spec.nodeName === n.metadata.name).length, 30);
            const other = await cluster({ scenario: "large", nodes: 20, podsPerNode: 31 });
            assert.notEqual(sig(other), sig(a));
        });

        it("pdb scenario: worker1 is blocked forever by default/critical-pdb", async () => {
            const c = await cluster({ scenario: "pdb", timeScale: 20 });
            const pdb = c.get("poddisruptionbudgets", "default", "critical-pdb");
            assert.equal(pdb.status.disruptionsAllowed, 0);
            const r = await api(c, "POST", "/api/v1/namespaces/default/pods/critical-5f7c8d9b6d-q2x7k/eviction", {
                body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "critical-5f7c8d9b6d-q2x7k" } },
            });
            assert.equal(r.status, 429);
            assert.equal(c.get("poddisruptionbudgets", "default", "web-pdb").status.disruptionsAllowed, 1);
        });

        /** Loads `json` (a List of the seed cluster's objects) as a scenario file, as JSON and as YAML, and checks it. */
        async function loadsAsScenario(src: SimCluster, json: string): Promise<void> {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-list-"));
            const file = path.join(dir, "cluster.json");
            fs.writeFileSync(file, json);
            const c = await cluster({ scenario: file, timeScale: 10 });
            const p = c.get("pods", "default", "http-go-568f649bb-4npss");
            assert.equal(p.spec.nodeName, "worker1");
            assert.equal(p.metadata.uid, src.get("pods", "default", "http-go-568f649bb-4npss").metadata.uid);
            assert.equal(p.status.podIP, "10.40.0.1");
            assert.ok(c.get("namespaces", undefined, "istio-system"), "missing namespaces are created");
            assert.equal(c.list("pods").length, src.list("pods").length);
            // YAML too
            const yamlFile = path.join(dir, "cluster.yaml");
            const YAML = await import("yaml");
            fs.writeFileSync(yamlFile, YAML.stringify(JSON.parse(json)));
            const y = await cluster({ scenario: yamlFile });
            assert.equal(y.list("nodes").length, 3);
            assert.equal(y.list("pods").length, src.list("pods").length);
            await c.settle();
            assert.deepEqual(c.controllerErrors(), []);
            fs.rmSync(dir, { recursive: true, force: true });
        }

        it("loads a List file, JSON and YAML (a List of the cluster's own objects)", async () => {
            const src = await cluster({ scenario: "seed", timeScale: 10 });
            const json = JSON.stringify({
                kind: "List",
                apiVersion: "v1",
                items: [
                    ...src.list("nodes"),
                    ...src.list("pods"),
                    ...src.list("deployments"),
                    ...src.list("replicasets"),
                    ...src.list("daemonsets"),
                ],
            });
            await loadsAsScenario(src, json);
        });

        it("loads what real `kubectl get ... -A -o json` prints, JSON and YAML", async function () {
            requireKubectl(this);
            const src = await cluster({ scenario: "seed", timeScale: 10 });
            const k = await kubectl(src, ["get", "nodes,pods,deploy,rs,ds,sts,pdb", "-A", "-o", "json"]);
            assert.equal(k.code, 0, k.stderr);
            assert.equal(JSON.parse(k.stdout).kind, "List");
            await loadsAsScenario(src, k.stdout);
        });
    });
});
