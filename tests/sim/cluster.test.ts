// Cluster-level features: fault injection, the time scale, node upgrades,
// dead nodes, the large scenario's determinism, and loading List files.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCluster, SimCluster } from "../../sim";
import { api, haveKubectl, kubectl, watchEvents } from "../helpers/sim-kubectl";
import { addBarePod, addDeployment, baseCluster, list } from "./fixtures";

describe("sim: cluster features", function () {
  this.timeout(40_000);
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
      const ev = () => api(c, "POST", "/api/v1/namespaces/default/pods/web-1/eviction", { body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1" } } });
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
      assert.equal(disc.json.resources.some((x: any) => x.name === "pods/eviction"), false);
      r = await api(c, "GET", "/sim/v1/faults");
      assert.equal(r.json.injected, 1);
      assert.equal(r.json.rules.length, 1);
      r = await api(c, "POST", "/sim/v1/faults", { body: { type: "bogus" } });
      assert.equal(r.status, 400);
      await api(c, "DELETE", "/sim/v1/faults");
      assert.ok((await api(c, "GET", "/api/v1")).json.resources.some((x: any) => x.name === "pods/eviction"));
    });

    it("latency and dropped watches", async () => {
      const c = await cluster({ scenario: list(baseCluster()) });
      c.faults.add({ type: "latency", verb: "get", resource: "nodes", ms: 300, count: 1 });
      const t0 = Date.now();
      await api(c, "GET", "/api/v1/nodes/w1");
      assert.ok(Date.now() - t0 >= 280);
      c.faults.add({ type: "dropWatch", resource: "nodes", afterEvents: 2 });
      const w = await watchEvents(c, "/api/v1/nodes?watch=true", () => false, 3000);
      assert.equal(w.ended, true);
      assert.equal(w.events.length, 2);
    });

    it("stuck terminating and never-ready pods", async () => {
      const f = baseCluster();
      addBarePod(f, "stuck", "w1", { grace: 1, labels: { app: "stuck" } });
      const c = await cluster({ scenario: list(f), timeScale: 50 });
      c.faults.add({ type: "stuckTerminating", labelSelector: "app=stuck" });
      c.faults.add({ type: "neverReady", namespace: "default", name: "fresh" });
      await api(c, "DELETE", "/api/v1/namespaces/default/pods/stuck");
      await api(c, "POST", "/api/v1/namespaces/default/pods", { body: { metadata: { name: "fresh" }, spec: { containers: [{ name: "c", image: "i" }] } } });
      await c.clock.sleep(20);
      assert.ok(c.get("pods", "default", "stuck").metadata.deletionTimestamp);
      const fresh = c.get("pods", "default", "fresh");
      assert.equal(fresh.status.phase, "Running");
      assert.equal(fresh.status.conditions.find((x: any) => x.type === "Ready").status, "False");
      assert.ok(c.faults.injected() >= 2);
    });
  });

  describe("time scale", () => {
    it("simulated time runs timeScale× faster and drives grace periods", async () => {
      const f = baseCluster();
      addBarePod(f, "p", "w1", { grace: 30 });
      const c = await cluster({ scenario: list(f), timeScale: 100 });
      const s0 = c.clock.now().getTime();
      const r0 = Date.now();
      await c.clock.sleep(10);
      const realMs = Date.now() - r0;
      const simMs = c.clock.now().getTime() - s0;
      assert.ok(realMs >= 90 && realMs < 1000, `real ${realMs}`);
      assert.ok(simMs >= 10_000, `sim ${simMs}`);
      const t0 = Date.now();
      await api(c, "DELETE", "/api/v1/namespaces/default/pods/p");
      await c.waitFor(() => !c.get("pods", "default", "p"), 60);
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 2000, `30 s grace took ${took} ms real`);
      const clk = await api(c, "GET", "/sim/v1/clock");
      assert.equal(clk.json.timeScale, 100);
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
      await c.clock.sleep(2);
      assert.ok(c.get("nodes", undefined, "w1").spec.taints.some((t: any) => t.key === "node.kubernetes.io/not-ready"));
      await c.waitFor(() => ready().status === "True", 60);
      const n = c.get("nodes", undefined, "w1");
      assert.equal(n.status.nodeInfo.kubeletVersion, "v1.29.0");
      assert.equal(n.status.nodeInfo.kubeProxyVersion, "v1.29.0");
      assert.equal(c.get("pods", "default", "web-1").spec.nodeName, "w1");
      await c.clock.sleep(2);
      assert.equal((c.get("nodes", undefined, "w1").spec.taints ?? []).length, 0);
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
      c.apply({ ...c.get("nodes", undefined, "w3"), metadata: { ...c.get("nodes", undefined, "w3").metadata, annotations: { "sim.node-upgrade.dev/never-returns-after-upgrade": "true" } } });
      await c.upgradeNode("w3", "v1.29.1", { downSeconds: 2 });
      await c.clock.sleep(30);
      const w3 = c.get("nodes", undefined, "w3");
      assert.equal(w3.status.conditions.find((x: any) => x.type === "Ready").status, "False");
      assert.equal(w3.status.nodeInfo.kubeletVersion, "v1.28.5");
    });

    it("dead node: kubelet stops confirming deletions and Ready turns Unknown", async () => {
      const f = baseCluster();
      addBarePod(f, "p", "w1", { grace: 1 });
      const c = await cluster({ scenario: list(f), timeScale: 50 });
      c.setNodeDead("w1", true);
      await api(c, "DELETE", "/api/v1/namespaces/default/pods/p");
      await c.clock.sleep(45);
      assert.ok(c.get("pods", "default", "p"), "never removed while dead");
      assert.equal(c.get("nodes", undefined, "w1").status.conditions.find((x: any) => x.type === "Ready").status, "Unknown");
      if (haveKubectl()) {
        const k = await kubectl(c, ["get", "nodes"]);
        assert.match(k.stdout, /w1\s+NotReady/);
      }
      c.setNodeDead("w1", false);
      await c.waitFor(() => !c.get("pods", "default", "p"), 30);
    });
  });

  describe("scenarios", () => {
    it("large is deterministic for the same arguments and fast to load", async () => {
      const sig = (c: SimCluster) =>
        c.list("pods").map((p) => `${p.metadata.namespace}/${p.metadata.name}@${p.spec.nodeName}#${p.metadata.uid}`).join("\n");
      const t0 = Date.now();
      const a = await cluster({ scenario: "large", nodes: 20, podsPerNode: 30 });
      const loadMs = Date.now() - t0;
      const b = await cluster({ scenario: "large", nodes: 20, podsPerNode: 30 });
      assert.equal(a.list("nodes").length, 20);
      assert.equal(a.list("pods").length, 600);
      assert.equal(sig(a), sig(b));
      for (const n of a.list("nodes")) assert.equal(a.list("pods").filter((p) => p.spec.nodeName === n.metadata.name).length, 30);
      assert.ok(loadMs < 5000, `load took ${loadMs} ms`);
      const other = await cluster({ scenario: "large", nodes: 20, podsPerNode: 31 });
      assert.notEqual(sig(other), sig(a));
    });

    it("pdb scenario: worker1 is blocked forever by default/critical-pdb", async () => {
      const c = await cluster({ scenario: "pdb", timeScale: 20 });
      const pdb = c.get("poddisruptionbudgets", "default", "critical-pdb");
      assert.equal(pdb.status.disruptionsAllowed, 0);
      const r = await api(c, "POST", "/api/v1/namespaces/default/pods/critical-5f7c8d9b6d-q2x7k/eviction", { body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "critical-5f7c8d9b6d-q2x7k" } } });
      assert.equal(r.status, 429);
      assert.equal(c.get("poddisruptionbudgets", "default", "web-pdb").status.disruptionsAllowed, 1);
    });

    it("loads a List file (what kubectl get -A -o json prints), JSON and YAML", async function () {
      const src = await cluster({ scenario: "seed", timeScale: 10 });
      let json: string;
      if (haveKubectl()) {
        const k = await kubectl(src, ["get", "nodes,pods,deploy,rs,ds,sts,pdb", "-A", "-o", "json"]);
        assert.equal(k.code, 0, k.stderr);
        json = k.stdout;
      } else {
        json = JSON.stringify({ kind: "List", apiVersion: "v1", items: [...src.list("nodes"), ...src.list("pods"), ...src.list("deployments"), ...src.list("replicasets"), ...src.list("daemonsets")] });
      }
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
      await c.settle();
      assert.deepEqual(c.controllerErrors(), []);
    });
  });
});
