// Loading snapshots from files (kubectl List JSON/YAML) and planning over client-node style objects
// (Date timestamps instead of strings).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planRoll, snapshotFromFile, snapshotFromText } from "../../planner";
import { ClusterBuilder, DRAIN } from "./fixtures";

function kubectlList(c: ClusterBuilder) {
    const s = c.snapshot;
    return {
        apiVersion: "v1",
        kind: "List",
        items: [...s.nodes, ...s.pods, ...s.podDisruptionBudgets, ...s.replicaSets, ...s.deployments, ...s.statefulSets, ...s.daemonSets],
    };
}

function sample(): ClusterBuilder {
    const c = new ClusterBuilder();
    c.node("w1");
    c.node("w2");
    c.daemonSet("kube-system", "proxy", ["w1", "w2"]);
    const web = c.deployment("default", "web", 2);
    web.pod("w1");
    web.pod("w2");
    const db = c.statefulSet("default", "db", 1);
    db.pod("w1");
    c.pdb("default", "db-pdb", db.labels, { minAvailable: 1 });
    return c;
}

describe("planner: snapshots", () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), "plan-snapshot-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("sorts the items of a kubectl List into the snapshot by kind, ignoring other kinds", () => {
        const list = kubectlList(sample());
        list.items.push({ apiVersion: "v1", kind: "Service", metadata: { name: "svc" } } as never);
        const file = join(dir, "list.json");
        writeFileSync(file, JSON.stringify(list));
        const snap = snapshotFromFile(file);
        assert.deepEqual(
            [
                snap.nodes.length,
                snap.pods.length,
                snap.podDisruptionBudgets.length,
                snap.replicaSets.length,
                snap.deployments.length,
                snap.statefulSets.length,
                snap.daemonSets.length,
            ],
            [2, 5, 1, 1, 1, 1, 1],
        );
        assert.ok(new Date(snap.takenAt as Date).getTime() > 0);
        const plan = planRoll(snap, { all: true, drain: DRAIN });
        assert.equal(plan.stopsAt, "w1");
    });

    it("reads YAML, several documents, and typed lists whose items carry no kind", () => {
        const c = sample();
        const podList = { apiVersion: "v1", kind: "PodList", items: c.snapshot.pods.map(({ kind, apiVersion, ...rest }) => rest) };
        const nodeList = { apiVersion: "v1", kind: "NodeList", items: c.snapshot.nodes.map(({ kind, apiVersion, ...rest }) => rest) };
        const YAML = require("yaml") as typeof import("yaml");
        const text = [
            YAML.stringify(podList),
            YAML.stringify(nodeList),
            YAML.stringify({ apiVersion: "v1", kind: "List", items: c.snapshot.podDisruptionBudgets }),
        ].join("---\n");
        const snap = snapshotFromText(text);
        assert.equal(snap.pods.length, 5);
        assert.equal(snap.nodes.length, 2);
        assert.equal(snap.podDisruptionBudgets.length, 1);
    });

    it("accepts a saved ClusterSnapshot JSON and rejects text that is neither JSON nor YAML objects", () => {
        const c = sample();
        c.snapshot.serverVersion = "v1.29.4";
        const snap = snapshotFromText(JSON.stringify(c.snapshot));
        assert.equal(snap.pods.length, 5);
        assert.equal(snap.takenAt, c.snapshot.takenAt);
        assert.equal(snap.serverVersion, "v1.29.4", "the API server version read with the snapshot is kept");
        assert.throws(() => snapshotFromText("{ not json"));
        assert.throws(() => snapshotFromText("a: [b"), /not valid YAML/);
    });

    it("handles client-node Date objects for timestamps as well as strings", () => {
        const build = (asDates: boolean) => {
            const c = new ClusterBuilder();
            c.node("w1");
            c.node("w2");
            const web = c.deployment("default", "web", 3);
            web.pod("w1");
            web.pod("w2");
            web.pod("w2");
            const pdb = c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
            // w2's first pod was evicted a minute before the snapshot: not healthy yet, so nothing is allowed.
            const evictedAt = "2026-01-01T11:59:00Z";
            const takenAt = "2026-01-01T12:00:00Z";
            pdb.status = {
                currentHealthy: 2,
                desiredHealthy: 2,
                expectedPods: 3,
                disruptionsAllowed: 0,
                disruptedPods: { "web-5d9c7-2": (asDates ? new Date(evictedAt) : evictedAt) as Date },
            };
            c.snapshot.takenAt = asDates ? new Date(takenAt) : takenAt;
            // A terminating pod elsewhere (Date vs string deletionTimestamp) bypasses budgets either way.
            c.snapshot.pods[2].metadata!.deletionTimestamp = (asDates ? new Date(takenAt) : takenAt) as Date;
            return c.snapshot;
        };
        for (const asDates of [false, true]) {
            const plan = planRoll(build(asDates), { nodes: ["w1"], drain: DRAIN });
            const w1 = plan.nodes[0];
            assert.equal(w1.budgets[0].currentHealthy, 1, `asDates=${asDates}`);
            assert.equal(w1.verdict, "blocked", `asDates=${asDates}`);
            assert.equal(plan.takenAt, "2026-01-01T12:00:00.000Z");
        }
    });

    it("does not change the snapshot it plans over", () => {
        const c = sample();
        const before = JSON.stringify(c.snapshot);
        planRoll(c.snapshot, { all: true, drain: { ...DRAIN, force: true } });
        planRoll(c.snapshot, { all: true, drain: { ...DRAIN, force: true, maxUnavailablePerWorkload: 1 } });
        assert.equal(JSON.stringify(c.snapshot), before);
    });

    it("takes the API server version from a kubectl List's kube-apiserver pods (no /version in a file)", () => {
        const c = sample();
        c.node("cp", { controlPlane: true, version: "v1.29.0" });
        const apiserver = c.pod("kube-system", "kube-apiserver-cp", "cp", { labels: { component: "kube-apiserver" }, mirror: true });
        apiserver.spec!.containers = [{ name: "kube-apiserver", image: "registry.k8s.io/kube-apiserver:v1.30.1" }];
        const file = join(dir, "with-apiserver.json");
        writeFileSync(file, JSON.stringify(kubectlList(c)));
        const plan = planRoll(snapshotFromFile(file), { nodes: ["w1"], targetVersion: "v1.30.1", drain: DRAIN });
        assert.deepEqual([plan.apiServerVersion, plan.apiServerVersionFrom], ["v1.30.1", "kube-apiserver pods"]);
        assert.deepEqual(plan.nodes[0].version.problems, [], "the control-plane kubelets (v1.29.0) are not the reference");
    });
});
