// Issue 13, item 4: the official Python client (Debian's python3-kubernetes) as a second, independent client.
// It sends `watch=True`; the server reads boolean query parameters as kube-apiserver's parameter codec does
// (only "0"/"false" in any case are false), so its watches are watches, not lists.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCluster, SimCluster } from "../../sim";
import { api, kubeconfigFile, watchEvents } from "../helpers/sim-kubectl";
import { addBarePod, addDeployment, baseCluster, list } from "./fixtures";

const PYTHON = "/usr/bin/python3";

/** Why the Python client cannot run here, or undefined when it can. */
function pythonClientMissing(): string | undefined {
    if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
    const r = spawnSync(PYTHON, ["-c", "import kubernetes"], { encoding: "utf8" });
    return r.status === 0 ? undefined : `the Python module "kubernetes" is missing (Debian package python3-kubernetes)`;
}

// Lists, creates, watches (from the list's resourceVersion, and from scratch) and deletes with the Python client.
const SCRIPT = `
import json, sys
from kubernetes import client, config, watch
config.load_kube_config(sys.argv[1])
ns = sys.argv[2]
v1 = client.CoreV1Api()
out = {}
lst = v1.list_namespaced_pod(ns)
out["listed"] = sorted(p.metadata.name for p in lst.items)
pod = client.V1Pod(metadata=client.V1ObjectMeta(name="py-1"),
                   spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
created = v1.create_namespaced_pod(ns, pod)
out["created"] = [created.metadata.name, created.spec.service_account_name, created.spec.priority]
seen = []
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_pod, ns, resource_version=lst.metadata.resource_version, timeout_seconds=60):
    name = ev["object"].metadata.name
    seen.append([ev["type"], name])
    if ev["type"] == "ADDED" and name == "py-1":
        v1.delete_namespaced_pod("py-1", ns, grace_period_seconds=0)
    if ev["type"] == "DELETED" and name == "py-1":
        w.stop()
out["watched"] = seen
initial = []
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_pod, ns, timeout_seconds=60):
    initial.append([ev["type"], ev["object"].metadata.name])
    if len(initial) == len(out["listed"]):
        w.stop()
out["initial"] = initial
print(json.dumps(out))
`;

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sim-py-")), "client.py");
    fs.writeFileSync(file, SCRIPT);
    return new Promise((resolve, reject) => {
        const child = spawn(PYTHON, [file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

describe("sim: boolean query parameters and the Python client (issue 13.4)", function () {
    this.timeout(120_000);
    let c: SimCluster;

    before(async () => {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-1", node: "w1" },
            { name: "web-2", node: "w2" },
        ]);
        addBarePod(f, "solo", "w3");
        c = await startCluster({ scenario: list(f), timeScale: 50 });
    });
    after(async () => {
        await c?.stop();
    });

    it("watch=True, watch=yes, watch= are watches; watch=False, watch=0, watch=FALSE are lists; nothing is a 400", async () => {
        for (const v of ["True", "true", "1", "t", "yes", ""]) {
            const r = await watchEvents(c, `/api/v1/namespaces/default/pods?watch=${v}`, (ev) => ev.length >= 3, 10_000);
            assert.equal(r.status, 200);
            assert.deepEqual(
                r.events.map((e) => e.type),
                ["ADDED", "ADDED", "ADDED"],
                `watch=${v}`,
            );
        }
        for (const v of ["False", "false", "FALSE", "0"]) {
            const r = await api(c, "GET", `/api/v1/namespaces/default/pods?watch=${v}`);
            assert.equal(r.status, 200);
            assert.equal(r.json.kind, "PodList", `watch=${v}`);
        }
    });

    it("allowWatchBookmarks=True and sendInitialEvents=True end the initial events with a bookmark", async () => {
        const r = await watchEvents(
            c,
            "/api/v1/namespaces/default/pods?watch=True&allowWatchBookmarks=True&sendInitialEvents=True&resourceVersionMatch=NotOlderThan",
            (ev) => ev.some((e) => e.type === "BOOKMARK"),
            10_000,
        );
        const bookmark = r.events.find((e) => e.type === "BOOKMARK");
        assert.equal(bookmark?.object.metadata.annotations["k8s.io/initial-events-end"], "true");
        assert.equal(r.events.filter((e) => e.type === "ADDED").length, 3);
    });

    it("orphanDependents=TRUE orphans a deployment's ReplicaSet; orphanDependents=False lets the collector delete it", async () => {
        const rs = c.list("replicasets", "default").find((x) => x.metadata.ownerReferences?.[0]?.name === "web");
        assert.ok(rs);
        const r = await api(c, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web?orphanDependents=TRUE");
        assert.equal(r.status, 200, r.text);
        await c.waitFor(() => !c.get("replicasets", "default", rs.metadata.name)?.metadata.ownerReferences, 30);
        assert.ok(c.get("replicasets", "default", rs.metadata.name), "the ReplicaSet is kept, without its owner");
        // now delete the orphaned ReplicaSet with orphanDependents=False: background propagation removes its pods
        const pods = c.list("pods", "default").filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid);
        assert.equal(pods.length, 2);
        const del = await api(c, "DELETE", `/apis/apps/v1/namespaces/default/replicasets/${rs.metadata.name}?orphanDependents=False`);
        assert.equal(del.status, 200, del.text);
        await c.waitFor(() => pods.every((p) => !c.get("pods", "default", p.metadata.name)), 60);
    });

    it("the Python client lists, creates, watches (ADDED/DELETED) and deletes pods", async function () {
        const missing = pythonClientMissing();
        if (missing) {
            console.log(`      skipped: ${missing}; install it to run this test`);
            this.skip();
        }
        c.clearRequestLog();
        const before = c.list("pods", "default").map((p) => p.metadata.name);
        const r = await runPython([kubeconfigFile(c), "default"]);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.deepEqual(out.listed, before.sort());
        assert.deepEqual(out.created, ["py-1", "default", 0], "server defaults: serviceAccountName, priority");
        const py = out.watched.filter((e: string[]) => e[1] === "py-1").map((e: string[]) => e[0]);
        assert.equal(py[0], "ADDED");
        assert.equal(py[py.length - 1], "DELETED");
        assert.deepEqual(
            out.initial,
            before.sort().map((n) => ["ADDED", n]),
        );
        assert.equal(c.get("pods", "default", "py-1"), undefined);
        const watches = c.requestLog().filter((e) => e.verb === "watch" && /(^|&)watch=True(&|$)/.test(e.query));
        assert.equal(watches.length, 2, "both Python watches were served as watches");
    });
});
