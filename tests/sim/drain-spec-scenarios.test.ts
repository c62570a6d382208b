// Acceptance 2: drain-spec §9.3, scenarios 1–14, against the simulated API
// server over HTTPS (raw requests for exact bodies, real kubectl for flows).

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { api, kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { addBarePod, addDeployment, addPdb, baseCluster, list } from "./fixtures";

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

function evict(c: SimCluster, ns: string, name: string, deleteOptions: any = {}) {
    return api(c, "POST", `/api/v1/namespaces/${ns}/pods/${name}/eviction`, {
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: ns }, deleteOptions },
    });
}

describe("sim: drain-spec §9.3 scenarios", function () {
    const clusters: SimCluster[] = [];
    async function cluster(items: any, o: { timeScale?: number } = {}): Promise<SimCluster> {
        const c = await startCluster({ scenario: items, timeScale: o.timeScale ?? 20 });
        clusters.push(c);
        return c;
    }
    afterEach(async () => {
        while (clusters.length) await clusters.pop()!.stop();
    });

    it("1. cordon of an already-cordoned node issues no PATCH", async function () {
        requireKubectl(this);
        const c = await cluster(list(baseCluster()));
        let r = await kubectl(c, ["cordon", "w1"]);
        assert.equal(r.stdout.trim(), "node/w1 cordoned");
        c.clearRequestLog();
        r = await kubectl(c, ["cordon", "w1"]);
        assert.equal(r.code, 0);
        assert.equal(r.stdout.trim(), "node/w1 already cordoned");
        assert.deepEqual(
            c
                .requestLog()
                .filter((e) => e.method !== "GET")
                .map((e) => `${e.method} ${e.path}`),
            [],
        );
    });

    it("2. uncordon sends unschedulable:null and the node JSON loses the key", async function () {
        const c = await cluster(list(baseCluster()));
        let r = await api(c, "PATCH", "/api/v1/nodes/w1", {
            body: { spec: { unschedulable: true } },
            contentType: "application/strategic-merge-patch+json",
        });
        assert.equal(r.status, 200);
        assert.equal(r.json.spec.unschedulable, true);
        r = await api(c, "PATCH", "/api/v1/nodes/w1", {
            body: { spec: { unschedulable: null } },
            contentType: "application/strategic-merge-patch+json",
        });
        assert.equal(r.status, 200);
        assert.equal("unschedulable" in r.json.spec, false);
        const g = await api(c, "GET", "/api/v1/nodes/w1");
        assert.equal("unschedulable" in g.json.spec, false);
    });

    it("2. (kubectl) kubectl uncordon PATCHes the node and the key is gone", async function () {
        requireKubectl(this);
        const c = await cluster(list(baseCluster()));
        assert.equal((await kubectl(c, ["cordon", "w2"])).stdout.trim(), "node/w2 cordoned");
        assert.equal(c.get("nodes", undefined, "w2").spec.unschedulable, true);
        c.clearRequestLog();
        const k = await kubectl(c, ["uncordon", "w2"]);
        assert.equal(k.code, 0, k.stderr);
        assert.equal(k.stdout.trim(), "node/w2 uncordoned");
        assert.deepEqual(
            c
                .requestLog()
                .filter((e) => e.method !== "GET")
                .map((e) => `${e.method} ${e.path} ${e.status}`),
            ["PATCH /api/v1/nodes/w2 200"],
        );
        assert.equal("unschedulable" in c.get("nodes", undefined, "w2").spec, false);
    });

    it("3. filters: DaemonSet, mirror, emptyDir, bare, completed and orphaned DaemonSet pods", async function () {
        requireKubectl(this);
        const f = baseCluster();
        addDeployment(f, "local", [{ name: "local-pod", node: "w1" }], { emptyDir: true });
        addBarePod(f, "bare", "w1");
        addBarePod(f, "done", "w1", { phase: "Succeeded" });
        addBarePod(f, "static-w1", "w1", {
            ns: "kube-system",
            annotations: { "kubernetes.io/config.mirror": "abc" },
            owner: { apiVersion: "v1", kind: "Node", metadata: f.nodes.get("w1").metadata },
        });
        addBarePod(f, "orphan-ds", "w1", {
            owner: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "gone", uid: "0000-gone" } },
        });
        const c = await cluster(list(f));

        let r = await kubectl(c, ["drain", "w1"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-w1/);
        assert.match(r.stderr, /cannot delete daemonsets\.apps "gone" not found: default\/orphan-ds/);
        assert.match(r.stderr, /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/local-pod/);
        // kubectl 1.30–1.35 print this one with "cannot delete" twice (the prefix is in its constant and added again)
        assert.match(r.stderr, /cannot delete (cannot delete )?Pods that declare no controller \(use --force to override\): default\/bare/);
        assert.doesNotMatch(r.stderr, /static-w1|default\/done/);

        r = await kubectl(c, ["drain", "w1", "--ignore-daemonsets", "--delete-emptydir-data"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /cannot delete (cannot delete )?Pods that declare no controller \(use --force to override\): default\/bare/);
        assert.doesNotMatch(r.stderr, /local storage/);

        r = await kubectl(c, ["drain", "w1", "--ignore-daemonsets", "--delete-emptydir-data", "--force"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Warning: .*ignoring DaemonSet-managed Pods: kube-system\/kube-proxy-w1/);
        assert.match(r.stderr, /deleting Pods that declare no controller: default\/bare/);
        assert.match(r.stdout, /evicting pod default\/done/);
        assert.match(r.stdout, /evicting pod default\/orphan-ds/);
        assert.match(r.stdout, /node\/w1 drained/);
        assert.ok(c.get("pods", "kube-system", "static-w1"), "mirror pod is never evicted");
        assert.ok(c.get("pods", "kube-system", "kube-proxy-w1"), "DaemonSet pod stays");
        for (const gone of ["bare", "done", "orphan-ds", "local-pod"]) assert.equal(c.get("pods", "default", gone), undefined, gone);
    });

    it("4. PDB allowed=0: 429 with cause and no Retry-After; succeeds once the replacement is Ready", async () => {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-a", node: "w1" },
            { name: "web-b", node: "w1" },
        ]);
        addPdb(f, "web-pdb", "web", { maxUnavailable: 1 });
        const c = await cluster(list(f));
        await api(c, "PATCH", "/api/v1/nodes/w1", {
            body: { spec: { unschedulable: true } },
            contentType: "application/strategic-merge-patch+json",
        });
        let r = await evict(c, "default", "web-a");
        assert.equal(r.status, 201);
        assert.deepEqual(r.json, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
        r = await evict(c, "default", "web-b");
        assert.equal(r.status, 429);
        assert.equal(r.headers["retry-after"], undefined);
        assert.equal(r.headers["content-type"], "application/json");
        assert.equal(
            r.text,
            JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: VIOLATION,
                reason: "TooManyRequests",
                details: {
                    causes: [
                        { reason: "DisruptionBudget", message: "The disruption budget web-pdb needs 1 healthy pods and has 1 currently" },
                    ],
                },
                code: 429,
            }),
        );
        const pdb = c.get("poddisruptionbudgets", "default", "web-pdb");
        assert.equal(pdb.status.disruptionsAllowed, 0);
        await c.waitFor(() => c.get("poddisruptionbudgets", "default", "web-pdb").status.disruptionsAllowed === 1, 120);
        const replacement = c
            .list("pods", "default")
            .find((p) => p.metadata.name.startsWith("web-") && !["web-a", "web-b"].includes(p.metadata.name));
        assert.ok(replacement && replacement.spec.nodeName !== "w1");
        r = await evict(c, "default", "web-b");
        assert.equal(r.status, 201);
    });

    it("5. stale PDB (generation > observedGeneration): 429 with Retry-After: 10", async () => {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-a", node: "w1" },
            { name: "web-b", node: "w2" },
        ]);
        const pdb = addPdb(f, "web-pdb", "web", { maxUnavailable: 1 });
        const c = await cluster(list(f));
        c.pauseDisruption(true);
        c.apply({ ...pdb, spec: { ...pdb.spec, maxUnavailable: 2 }, status: undefined });
        const cur = c.get("poddisruptionbudgets", "default", "web-pdb");
        assert.ok(cur.metadata.generation > cur.status.observedGeneration);
        const r = await evict(c, "default", "web-a");
        assert.equal(r.status, 429);
        assert.equal(r.headers["retry-after"], "10");
        assert.equal(
            r.text,
            JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: VIOLATION,
                reason: "TooManyRequests",
                details: {
                    causes: [
                        { reason: "DisruptionBudget", message: "The disruption budget web-pdb is still being processed by the server." },
                    ],
                    retryAfterSeconds: 10,
                },
                code: 429,
            }),
        );
        c.pauseDisruption(false);
        await c.waitFor(() => {
            const p = c.get("poddisruptionbudgets", "default", "web-pdb");
            return p.status.observedGeneration === p.metadata.generation;
        }, 30);
        assert.equal((await evict(c, "default", "web-a")).status, 201);
    });

    function twoPdbs() {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-a", node: "w1" },
            { name: "web-b", node: "w2" },
        ]);
        addPdb(f, "pdb-one", "web", { maxUnavailable: 1 });
        addPdb(f, "pdb-two", "web", { minAvailable: 1 });
        return list(f);
    }

    it("6. two PDBs match: HTTP 500", async function () {
        const c = await cluster(twoPdbs());
        const r = await evict(c, "default", "web-a");
        assert.equal(r.status, 500);
        assert.equal(
            r.text,
            JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                code: 500,
            }),
        );
    });

    it("6. (kubectl) kubectl drain fails that pod at once: one eviction request, no retry loop", async function () {
        requireKubectl(this);
        const c = await cluster(twoPdbs());
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets"]);
        assert.equal(k.code, 1);
        assert.match(
            k.stderr,
            /error when evicting pods\/"web-a" -n "default": This pod has more than one PodDisruptionBudget, which the eviction subresource does not support\./,
        );
        const evictions = c.requestLog().filter((e) => e.method === "POST" && e.path === "/api/v1/namespaces/default/pods/web-a/eviction");
        assert.deepEqual(
            evictions.map((e) => e.status),
            [500],
            "kubectl gives up on the first 500, it does not retry",
        );
        assert.ok(c.get("pods", "default", "web-a") && !c.get("pods", "default", "web-a").metadata.deletionTimestamp);
    });

    it("7. a pod already gone: 404, counted as success with no wait", async function () {
        const c = await cluster(list(baseCluster()));
        const r = await evict(c, "default", "nope");
        assert.equal(r.status, 404);
        assert.equal(
            r.text,
            JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: 'pods "nope" not found',
                reason: "NotFound",
                details: { name: "nope", kind: "pods" },
                code: 404,
            }),
        );
    });

    it("8. StatefulSet pod recreated with the same name: the wait ends when the UID changes", async function () {
        requireKubectl(this);
        const c = await cluster(list(baseCluster()), { timeScale: 30 });
        const tpl = {
            metadata: { labels: { app: "db" } },
            spec: {
                terminationGracePeriodSeconds: 10,
                containers: [{ name: "db", image: "postgres:16" }],
                nodeSelector: { "kubernetes.io/hostname": "w1" },
            },
        };
        let r = await api(c, "POST", "/apis/apps/v1/namespaces/default/statefulsets", {
            body: {
                metadata: { name: "db" },
                spec: { replicas: 1, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: tpl },
            },
        });
        assert.equal(r.status, 201, r.text);
        await c.waitFor(() => c.get("pods", "default", "db-0")?.status?.phase === "Running", 60);
        const uid = c.get("pods", "default", "db-0").metadata.uid;
        // let the replacement land on w2: relax the nodeSelector
        r = await api(c, "PATCH", "/apis/apps/v1/namespaces/default/statefulsets/db", {
            body: { spec: { template: { spec: { nodeSelector: null } } } },
            contentType: "application/merge-patch+json",
        });
        assert.equal(r.status, 200);
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets"]);
        assert.equal(k.code, 0, k.stderr);
        assert.match(k.stdout, /pod\/db-0 evicted/);
        await c.waitFor(() => !!c.get("pods", "default", "db-0"), 60);
        const again = c.get("pods", "default", "db-0");
        assert.notEqual(again.metadata.uid, uid);
        assert.equal(again.metadata.name, "db-0");
    });

    function heldPods() {
        const f = baseCluster();
        addBarePod(f, "held", "w1", { finalizers: ["example.com/hold"], grace: 1, labels: { app: "held" } });
        addBarePod(f, "held2", "w2", { finalizers: ["example.com/hold"], grace: 1, labels: { app: "held2" } });
        return list(f);
    }

    it("9. finalizer: the object stays, terminated, until the finalizer is removed", async function () {
        const c = await cluster(heldPods());
        // over HTTP: eviction accepted, the object stays until the finalizer goes
        const uid = c.get("pods", "default", "held2").metadata.uid;
        assert.equal((await evict(c, "default", "held2")).status, 201);
        // the kubelet confirms the stop (phase Succeeded) after the 1 s grace; the finalizer keeps the object
        await whenStore(c, () => c.get("pods", "default", "held2")?.status?.phase === "Succeeded");
        c.clock.advance(5);
        await c.settle();
        const held = c.get("pods", "default", "held2");
        assert.ok(held && held.metadata.deletionTimestamp && held.metadata.uid === uid);
        assert.equal(held.status.phase, "Succeeded");
        const p = await api(c, "PATCH", "/api/v1/namespaces/default/pods/held2", {
            body: { metadata: { finalizers: null } },
            contentType: "application/merge-patch+json",
        });
        assert.equal(p.status, 200);
        assert.equal((await api(c, "GET", "/api/v1/namespaces/default/pods/held2")).status, 404);
    });

    it("9. (kubectl) kubectl drain --timeout ends the wait for it with context deadline exceeded", async function () {
        requireKubectl(this);
        const c = await cluster(heldPods());
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets", "--force", "--timeout=3s"]);
        assert.equal(k.code, 1);
        assert.match(k.stderr, /error when waiting for pod "held" in namespace "default" to terminate: context deadline exceeded/);
        assert.ok(c.get("pods", "default", "held"));
    });

    it("10. dead node + --skip-wait-for-delete-timeout: the wait ends after about grace + N", async function () {
        requireKubectl(this);
        const f = baseCluster();
        addBarePod(f, "stuck", "w1", { grace: 1 });
        // real time: kubectl compares deletionTimestamp with its own clock
        const c = await cluster(list(f), { timeScale: 1 });
        c.setNodeDead("w1", true);
        const t0 = Date.now();
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets", "--force", "--skip-wait-for-delete-timeout=1"]);
        assert.equal(k.code, 0, k.stderr);
        assert.match(k.stdout, /pod "stuck" has DeletionTimestamp older than 1 seconds, skipping/);
        assert.match(k.stdout, /node\/w1 drained/);
        assert.ok(Date.now() - t0 >= 2000);
        assert.ok(c.get("pods", "default", "stuck").metadata.deletionTimestamp, "the dead kubelet never confirmed");
    });

    function doomedNamespace() {
        const f = baseCluster();
        f.items.push({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "doomed", annotations: { "sim.node-upgrade.dev/cleanup-delay-seconds": "40" } },
        });
        addDeployment(f, "app", [{ name: "app-1", node: "w1" }], { ns: "doomed", grace: 60 });
        return list(f);
    }

    it("11. terminating namespace: 403 NamespaceTerminating, until the pod itself is deleted", async function () {
        const c = await cluster(doomedNamespace(), { timeScale: 20 });
        const d = await api(c, "DELETE", "/api/v1/namespaces/doomed");
        assert.equal(d.status, 200);
        assert.equal(d.json.status.phase, "Terminating");
        const r = await evict(c, "doomed", "app-1");
        assert.equal(r.status, 403);
        assert.equal(
            r.text,
            JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: 'pods "app-1" is forbidden: unable to create new content in namespace doomed because it is being terminated',
                reason: "Forbidden",
                details: {
                    name: "app-1",
                    kind: "pods",
                    causes: [
                        { reason: "NamespaceTerminating", message: "namespace doomed is being terminated", field: "metadata.namespace" },
                    ],
                },
                code: 403,
            }),
        );
        await whenStore(c, () => !!c.get("pods", "doomed", "app-1")?.metadata.deletionTimestamp);
        const again = await evict(c, "doomed", "app-1");
        assert.equal(again.status, 403, "still refused while the pod terminates");
    });

    it("11. (kubectl) kubectl drain retries the 403 every 5 s until the pod is gone, then succeeds", async function () {
        requireKubectl(this);
        const c = await cluster(doomedNamespace(), { timeScale: 20 });
        assert.equal((await api(c, "DELETE", "/api/v1/namespaces/doomed")).status, 200);
        // kubectl 1.32 keeps retrying every 5 s (it does not re-read the pod; >=1.35 does) until the
        // namespace controller has deleted the pod and the eviction answers 404.
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets"]);
        assert.equal(k.code, 0, k.stderr);
        assert.match(
            k.stderr,
            /error when evicting pod "app-1" from terminating namespace "doomed" \(will retry after 5s\): pods "app-1" is forbidden: unable to create new content in namespace doomed because it is being terminated/,
        );
        assert.match(k.stdout, /node\/w1 drained/);
        const statuses = c
            .requestLog()
            .filter((e) => e.method === "POST" && e.path === "/api/v1/namespaces/doomed/pods/app-1/eviction")
            .map((e) => e.status);
        assert.ok(statuses.length >= 2 && statuses.slice(0, -1).every((x) => x === 403), statuses.join());
    });

    it("12. unready pod: IfHealthyBudget with current >= desired is evicted without decrement; AlwaysAllow with current < desired too", async () => {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-a", node: "w1" },
            { name: "web-b", node: "w2" },
            { name: "web-c", node: "w3", ready: false },
        ]);
        addPdb(f, "web-pdb", "web", { minAvailable: 2 });
        addDeployment(f, "api", [
            { name: "api-a", node: "w1" },
            { name: "api-b", node: "w2" },
            { name: "api-c", node: "w3", ready: false },
        ]);
        const apiPdb = addPdb(f, "api-pdb", "api", { minAvailable: 3 });
        const c = await cluster(list(f));
        let pdb = c.get("poddisruptionbudgets", "default", "web-pdb");
        assert.deepEqual([pdb.status.currentHealthy, pdb.status.desiredHealthy, pdb.status.disruptionsAllowed], [2, 2, 0]);
        let r = await evict(c, "default", "web-c");
        assert.equal(r.status, 201, r.text);
        pdb = c.get("poddisruptionbudgets", "default", "web-pdb");
        assert.equal(pdb.status.disruptedPods?.["web-c"], undefined, "not decremented");
        // IfHealthyBudget with current < desired: refused
        r = await evict(c, "default", "api-c");
        assert.equal(r.status, 429);
        c.apply({ ...apiPdb, spec: { ...apiPdb.spec, unhealthyPodEvictionPolicy: "AlwaysAllow" }, status: undefined });
        await c.waitFor(() => {
            const p = c.get("poddisruptionbudgets", "default", "api-pdb");
            return p.status.observedGeneration === p.metadata.generation;
        }, 30);
        r = await evict(c, "default", "api-c");
        assert.equal(r.status, 201, r.text);
    });

    it("13. pending and terminal pods are evicted despite an exhausted PDB", async () => {
        const f = baseCluster();
        addBarePod(f, "finished", "w1", { phase: "Succeeded", labels: { app: "guarded" } });
        addPdb(f, "guarded-pdb", "guarded", { minAvailable: 5 });
        const c = await cluster(list(f));
        const created = await api(c, "POST", "/api/v1/namespaces/default/pods", {
            body: {
                metadata: { name: "waiting", labels: { app: "guarded" } },
                spec: { nodeSelector: { nowhere: "true" }, containers: [{ name: "c", image: "busybox" }] },
            },
        });
        assert.equal(created.status, 201);
        await c.settle(); // the scheduler has looked at it and found no node
        assert.equal(c.get("pods", "default", "waiting").status.phase, "Pending");
        assert.equal(c.get("pods", "default", "waiting").spec.nodeName, undefined);
        assert.equal(c.get("poddisruptionbudgets", "default", "guarded-pdb").status.disruptionsAllowed, 0);
        for (const name of ["waiting", "finished"]) {
            const r = await evict(c, "default", name);
            assert.equal(r.status, 201, `${name}: ${r.text}`);
            assert.equal((await api(c, "GET", `/api/v1/namespaces/default/pods/${name}`)).status, 404, `${name} removed at once (grace 0)`);
        }
    });

    function twoWebPods() {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-a", node: "w1" },
            { name: "web-b", node: "w1" },
        ]);
        return list(f);
    }

    it("14. --grace-period=0: the object disappears immediately, before any kubelet acts", async function () {
        const c = await cluster(twoWebPods());
        c.setNodeDead("w1", true);
        const r = await evict(c, "default", "web-a", { gracePeriodSeconds: 0 });
        assert.equal(r.status, 201);
        assert.equal((await api(c, "GET", "/api/v1/namespaces/default/pods/web-a")).status, 404);
    });

    it("14. (kubectl) kubectl drain --grace-period=0 on a dead node: evicted and gone at once", async function () {
        requireKubectl(this);
        const c = await cluster(twoWebPods());
        c.setNodeDead("w1", true);
        const k = await kubectl(c, ["drain", "w1", "--ignore-daemonsets", "--grace-period=0"]);
        assert.equal(k.code, 0, k.stderr);
        assert.match(k.stdout, /pod\/web-a evicted/);
        assert.match(k.stdout, /pod\/web-b evicted/);
        assert.equal(c.get("pods", "default", "web-a"), undefined);
        assert.equal(c.get("pods", "default", "web-b"), undefined);
    });
});
