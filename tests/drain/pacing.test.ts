// Workload-aware pacing (maxUnavailablePerWorkload) against the simulated cluster: the seed cluster's http-go
// (10 replicas, 6 on worker1, no PodDisruptionBudget) keeps ≥ 9 Ready replicas with N = 1 and drops below
// with N = 0 (kubectl's behaviour); a workload that can never be Ready again ends in a timeout that names it;
// budget-covered workloads are left to their budget, except when pods are deleted; StatefulSets are paced too.
import assert from "node:assert/strict";
import { DrainError, drain, type ProgressEvent } from "../../drain";
import { asList, cluster, deployment, pdb, podsOnNode, simPerTest, startSim } from "./fixtures";

type Sim = Awaited<ReturnType<typeof startSim>>;
type WorkloadWait = Extract<ProgressEvent, { type: "waiting-on-workload" }>;

const isReady = (p: any) =>
    !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

/** Ready, non-terminating pods of a namespace whose name starts with the prefix. */
function readyPods(c: Sim, namespace: string, prefix: string): number {
    return c.list("Pod", namespace).filter((p: any) => p.metadata.name.startsWith(prefix) && isReady(p)).length;
}

/**
 * Tracks the lowest value of `count()` (a count of pods): it is recomputed after every change of a pod in the
 * simulator's store (sim.subscribe calls back synchronously, for each write), so no dip can be missed.
 * Returns a stop function giving the minimum seen.
 */
function trackMin(c: Sim, count: () => number): () => number {
    let min = count();
    const stop = c.subscribe((e) => {
        if (e.resource === "pods") min = Math.min(min, count());
    });
    return () => {
        stop();
        return Math.min(min, count());
    };
}

describe("drain engine: workload-aware pacing (maxUnavailablePerWorkload)", function () {
    this.timeout(120_000);
    const sim = simPerTest();

    const seedFlags = { ignoreDaemonSets: true, deleteEmptyDirData: true, timeoutSeconds: 60 };

    it("seed, N = 1: http-go (no PDB, 6 of 10 on worker1) never has fewer than 9 Ready replicas; worker1 is emptied", async () => {
        const { c, kc } = await sim("seed", { timeScale: 30 });
        const events: ProgressEvent[] = [];
        const stop = trackMin(c, () => readyPods(c, "default", "http-go-"));
        const result = await drain(kc, "worker1", { ...seedFlags, maxUnavailablePerWorkload: 1, onProgress: (e) => events.push(e) });
        const min = stop();
        assert.ok(min >= 9, `http-go dropped to ${min} Ready replicas`);
        assert.deepEqual(podsOnNode(c, "worker1"), ["kube-system/kube-proxy-587jv", "kube-system/weave-net-p964j"]);
        assert.equal(result.evicted.length, 15);
        assert.equal(result.evicted.filter((e) => e.pod.startsWith("default/http-go-")).length, 6);
        await c.waitFor(() => readyPods(c, "default", "http-go-") === 10, 60);

        const waits = events.filter((e) => e.type === "waiting-on-workload") as WorkloadWait[];
        assert.ok(waits.length >= 1, "pods waited for http-go's replacements");
        for (const w of waits) {
            assert.match(w.pod, /^default\/http-go-/);
            assert.deepEqual(w.workload, {
                namespace: "default",
                kind: "Deployment",
                name: "http-go",
                desiredReplicas: 10,
                readyReplicas: 9,
                requiredReady: 10,
                maxUnavailable: 1,
            });
            assert.equal(
                w.message,
                `pod ${w.pod} waiting for default/http-go to have 10 Ready replicas (has 9; maxUnavailablePerWorkload 1)`,
            );
        }
        // Single-replica workloads (replicas ≤ N) and coredns (1 of 2 here) never waited.
        assert.ok(waits.every((w) => w.workload.name === "http-go"));
        // Only a workload whose pods had to wait was watched (namespaced, label-filtered): http-go. coredns
        // (2 replicas, 1 here) was decided from one LIST; single-replica workloads need not even be listed.
        const podRequests = (verb: string) =>
            c.requestLog().filter((r) => r.verb === verb && r.resource === "pods" && /\/namespaces\//.test(r.path));
        assert.ok(podRequests("watch").length >= 1);
        for (const r of podRequests("watch"))
            assert.match(decodeURIComponent(r.query), /labelSelector=app=http-go,pod-template-hash=568f649bb/, r.query);
        const listed = podRequests("list").map((r) => /labelSelector=([^&,]+)/.exec(decodeURIComponent(r.query))?.[1]);
        assert.deepEqual([...new Set(listed)].sort(), ["app=http-go", "k8s-app=kube-dns"], JSON.stringify(listed));
    });

    it("seed, N = 0 (kubectl's behaviour): the same drain takes http-go below 9 Ready replicas", async () => {
        const { c, kc } = await sim("seed", { timeScale: 30 });
        const events: ProgressEvent[] = [];
        const stop = trackMin(c, () => readyPods(c, "default", "http-go-"));
        const result = await drain(kc, "worker1", { ...seedFlags, maxUnavailablePerWorkload: 0, onProgress: (e) => events.push(e) });
        const min = stop();
        assert.equal(result.evicted.length, 15);
        assert.ok(min < 9, `expected the unpaced drain to drop http-go below 9 Ready, saw ${min}`);
        assert.ok(!events.some((e) => e.type === "waiting-on-workload"));
    });

    it("seed, N = 1, with pod watches dropped and list errors: still ≥ 9 Ready and worker1 emptied", async () => {
        const { c, kc } = await sim("seed", { timeScale: 30 });
        c.faults.add({ type: "dropWatch", verb: "watch", resource: "pods", namespace: "default", afterEvents: 2 });
        // (no rates: the drain watches and lists the namespace's pods only a few times, and these faults must really happen)
        c.faults.add({ verb: "list", resource: "pods", namespace: "default", status: 503, count: 2 });
        c.faults.add({ verb: "get", resource: "replicasets", status: 500, count: 2 });
        const stop = trackMin(c, () => readyPods(c, "default", "http-go-"));
        const result = await drain(kc, "worker1", { ...seedFlags, maxUnavailablePerWorkload: 1, safetyRecheckSeconds: 1 });
        const min = stop();
        assert.ok(min >= 9, `http-go dropped to ${min} Ready replicas`);
        assert.equal(result.evicted.length, 15);
        assert.deepEqual(podsOnNode(c, "worker1"), ["kube-system/kube-proxy-587jv", "kube-system/weave-net-p964j"]);
        // every one of the three faults really hit the drain (a watch cut, a 503 answered, a 500 answered)
        for (const r of c.faults.list()) assert.ok(r.injected > 0, `never fired: ${JSON.stringify(r)}`);
    });

    it("replacements that never become Ready: the timeout names the pod and the workload it waits for", async () => {
        const f = cluster(["w1", "w2"]);
        deployment(f, "web", ["w1", "w1"], { grace: 1 });
        const { c, kc } = await sim(asList(f), { timeScale: 10 });
        await c.settle();
        c.faults.add({ type: "neverReady", labelSelector: "app=web" });
        const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 3, maxUnavailablePerWorkload: 1 }).then(
            () => assert.fail("the drain should time out"),
            (e) => e,
        );
        assert.ok(err instanceof DrainError, String(err));
        assert.equal(err.kind, "timeout");
        assert.equal(err.remaining.length, 1, err.message);
        const [left] = err.remaining;
        assert.match(left.pod, /^default\/web-/);
        assert.equal(left.reason, "waiting for default/web to have 2 Ready replicas (has 1; maxUnavailablePerWorkload 1)");
        assert.deepEqual(left.workload, {
            namespace: "default",
            kind: "Deployment",
            name: "web",
            desiredReplicas: 2,
            readyReplicas: 1,
            requiredReady: 2,
            maxUnavailable: 1,
        });
        assert.match(
            err.message,
            /^drain of node "w1" timed out after 3s with 1 pod remaining:\n {2}pod default\/web-\S+: waiting for default\/web to have 2 Ready replicas \(has 1; maxUnavailablePerWorkload 1\)$/,
        );
        // Exactly one web pod was evicted; the other is still on w1 and Ready.
        const onW1 = podsOnNode(c, "w1").filter((p) => p.startsWith("default/web-"));
        assert.deepEqual(onW1, [left.pod]);
        assert.equal(c.get("Node", undefined, "w1").spec.unschedulable, true);
    });

    it("budget-covered workloads are left to their PodDisruptionBudget; a 1-replica workload never waits", async () => {
        const f = cluster(["w1", "w2"]);
        deployment(f, "web", ["w1", "w1", "w1", "w2"], { grace: 1 });
        pdb(f, "web-pdb", "web", { maxUnavailable: 3 });
        deployment(f, "solo", ["w1"], { grace: 1 });
        const { c, kc } = await sim(asList(f), { timeScale: 10 });
        await c.settle();
        // solo's replacement is never Ready: with 1 replica ≤ N it must not be waited for anyway.
        c.faults.add({ type: "neverReady", labelSelector: "app=solo" });
        const events: ProgressEvent[] = [];
        const result = await drain(kc, "w1", {
            ignoreDaemonSets: true,
            timeoutSeconds: 30,
            maxUnavailablePerWorkload: 1,
            onProgress: (e) => events.push(e),
        });
        assert.equal(result.evicted.length, 4);
        assert.ok(
            !events.some((e) => e.type === "waiting-on-workload"),
            JSON.stringify(events.filter((e) => e.type === "waiting-on-workload")),
        );
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
    });

    it("with disableEviction (no budget is checked) budget-covered workloads are paced too", async () => {
        const f = cluster(["w1", "w2"]);
        deployment(f, "web", ["w1", "w1", "w2"], { grace: 1 });
        pdb(f, "web-pdb", "web", { maxUnavailable: 1 });
        const { c, kc } = await sim(asList(f), { timeScale: 10 });
        await c.settle();
        const events: ProgressEvent[] = [];
        const stop = trackMin(c, () => readyPods(c, "default", "web-"));
        const result = await drain(kc, "w1", {
            ignoreDaemonSets: true,
            disableEviction: true,
            timeoutSeconds: 30,
            maxUnavailablePerWorkload: 1,
            onProgress: (e) => events.push(e),
        });
        const min = stop();
        assert.equal(result.evicted.length, 2);
        assert.ok(min >= 2, `web dropped to ${min} Ready replicas`);
        assert.ok(events.some((e) => e.type === "waiting-on-workload" && e.workload.name === "web"));
        assert.ok(!events.some((e) => e.type === "evicting" && !e.delete), "pods are deleted, not evicted");
    });

    it("a StatefulSet (same-name replacements) is paced: one pod at a time, the next once the replacement is Ready", async () => {
        const f = cluster(["w1", "w2"]);
        const { c, kc } = await sim(asList(f), { timeScale: 10 });
        await c.settle();
        // Only w1 is schedulable while the StatefulSet starts, so all three pods land there.
        const w2 = c.get("Node", undefined, "w2");
        c.apply({ ...w2, spec: { ...w2.spec, unschedulable: true } });
        c.apply({
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: "db", namespace: "default" },
            spec: {
                replicas: 3,
                podManagementPolicy: "Parallel",
                serviceName: "db",
                selector: { matchLabels: { app: "db" } },
                template: {
                    metadata: { labels: { app: "db" } },
                    spec: {
                        terminationGracePeriodSeconds: 1,
                        containers: [{ name: "db", image: "postgres:16", resources: { requests: { cpu: "1m", memory: "1Mi" } } }],
                    },
                },
            },
        });
        await c.waitFor(() => readyPods(c, "default", "db-") === 3, 60);
        assert.deepEqual(
            podsOnNode(c, "w1").filter((p) => p.startsWith("default/db-")),
            ["default/db-0", "default/db-1", "default/db-2"],
        );
        const w2now = c.get("Node", undefined, "w2");
        c.apply({ ...w2now, spec: { ...w2now.spec, unschedulable: false } });
        await c.settle();

        const events: ProgressEvent[] = [];
        const stop = trackMin(c, () => readyPods(c, "default", "db-"));
        const result = await drain(kc, "w1", {
            ignoreDaemonSets: true,
            timeoutSeconds: 60,
            maxUnavailablePerWorkload: 1,
            onProgress: (e) => events.push(e),
        });
        const min = stop();
        assert.equal(result.evicted.length, 3);
        assert.ok(min >= 2, `db dropped to ${min} Ready replicas`);
        const waits = events.filter((e) => e.type === "waiting-on-workload") as WorkloadWait[];
        assert.ok(waits.length >= 1);
        assert.deepEqual(
            { kind: waits[0].workload.kind, name: waits[0].workload.name, requiredReady: waits[0].workload.requiredReady },
            { kind: "StatefulSet", name: "db", requiredReady: 3 },
        );
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
    });
});
