// The drain engine against the simulated cluster over HTTPS (in-process simulator, real client-node).
import assert from "node:assert/strict";
import {
    DrainError,
    cordon,
    drain,
    listNodes,
    listPodsOnNode,
    planDrain,
    readNode,
    uncordon,
    waitForNode,
    type ProgressEvent,
} from "../../drain";
import { asList, cluster, deployment, namespace, pdb, podsOnNode, simPerTest, startSim } from "./fixtures";
import { CORDONED_BY_ANNOTATION } from "../../kube-rules";

type Sim = Awaited<ReturnType<typeof startSim>>;

const evictionPosts = (c: Sim) => c.requestLog().filter((r) => r.method === "POST" && /\/eviction$/.test(r.path));
const accepted = (c: Sim) => evictionPosts(c).filter((r) => r.status >= 200 && r.status < 300);

describe("drain engine against the simulator", function () {
    const sim = simPerTest();

    describe("nodes", () => {
        it("readNode / listNodes give the flat node facts; a missing node is a clear error", async () => {
            const { kc } = await sim("seed", { timeScale: 30 });
            const w1 = await readNode(kc, "worker1");
            assert.equal(w1.name, "worker1");
            assert.equal(w1.ready, true);
            assert.equal(w1.unschedulable, false);
            assert.equal(w1.kubeletVersion, "v1.19.0");
            assert.ok(w1.internalIP);
            const all = await listNodes(kc);
            assert.deepEqual(all.map((n) => n.name).sort(), ["master", "worker1", "worker2"]);
            assert.equal(all.find((n) => n.name === "master")!.controlPlane, true);
            await assert.rejects(readNode(kc, "nope"), /^Error: node "nope" not found$|node "nope" not found/);
        });
    });

    describe("cordon / uncordon", () => {
        it("cordons with kubectl's patch plus our annotation; a second cordon sends no PATCH", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            const events: ProgressEvent[] = [];
            assert.deepEqual(await cordon(kc, "worker1", { onProgress: (e) => events.push(e) }), { changed: true });
            const node = c.get("Node", undefined, "worker1");
            assert.equal(node.spec.unschedulable, true);
            assert.equal(node.metadata.annotations[CORDONED_BY_ANNOTATION], "node-upgrade");
            c.clearRequestLog();
            assert.deepEqual(await cordon(kc, "worker1", { onProgress: (e) => events.push(e) }), { changed: false });
            assert.equal(c.requestLog().filter((r) => r.method === "PATCH").length, 0);
            assert.deepEqual(
                events.map((e) => e.type === "cordoned" && e.alreadyCordoned),
                [false, true],
            );
            assert.equal((await readNode(kc, "worker1")).cordonedByUs, true);
        });
        it("uncordon removes unschedulable (null) and the annotation", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            await cordon(kc, "worker1");
            assert.deepEqual(await uncordon(kc, "worker1", { onlyIfCordonedByUs: true }), { changed: true });
            const node = c.get("Node", undefined, "worker1");
            assert.equal("unschedulable" in node.spec, false);
            assert.equal(node.metadata.annotations?.[CORDONED_BY_ANNOTATION], undefined);
            assert.deepEqual(await uncordon(kc, "worker1"), { changed: false });
        });
        it("onlyIfCordonedByUs leaves somebody else's cordon alone", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            const node = c.get("Node", undefined, "worker2");
            c.apply({ ...node, spec: { ...node.spec, unschedulable: true } });
            const events: ProgressEvent[] = [];
            assert.deepEqual(await uncordon(kc, "worker2", { onlyIfCordonedByUs: true, onProgress: (e) => events.push(e) }), {
                changed: false,
            });
            assert.equal(c.get("Node", undefined, "worker2").spec.unschedulable, true);
            assert.equal(events[0].type === "uncordoned" && events[0].notOurs, true);
            assert.equal((await readNode(kc, "worker2")).cordonedByUs, false);
        });
        it("dry runs: client sends nothing, server sends dryRun=All and changes nothing", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            c.clearRequestLog();
            await cordon(kc, "worker1", { dryRun: "client" });
            assert.equal(c.requestLog().filter((r) => r.method === "PATCH").length, 0);
            await cordon(kc, "worker1", { dryRun: "server" });
            const patches = c.requestLog().filter((r) => r.method === "PATCH");
            assert.equal(patches.length, 1);
            assert.match(patches[0].query, /dryRun=All/);
            assert.equal(!!c.get("Node", undefined, "worker1").spec.unschedulable, false);
        });
    });

    describe("drain", () => {
        it("seed: drains worker1 with --ignore-daemonsets --delete-emptydir-data, leaving the DaemonSet pods", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            const events: ProgressEvent[] = [];
            const result = await drain(kc, "worker1", {
                ignoreDaemonSets: true,
                deleteEmptyDirData: true,
                onProgress: (e) => events.push(e),
            });
            assert.deepEqual(podsOnNode(c, "worker1"), ["kube-system/kube-proxy-587jv", "kube-system/weave-net-p964j"]);
            assert.equal(result.evicted.length, 15);
            assert.equal(result.cordoned, true);
            assert.deepEqual(result.skipped.map((s) => s.pod).sort(), ["kube-system/kube-proxy-587jv", "kube-system/weave-net-p964j"]);
            assert.deepEqual(result.warnings, [
                "ignoring DaemonSet-managed Pods: kube-system/kube-proxy-587jv, kube-system/weave-net-p964j",
            ]);
            for (const e of result.evicted) assert.ok(e.goneAt >= e.evictedAt && e.uid);
            const types = new Set(events.map((e) => e.type));
            for (const t of ["cordoned", "classified", "evicting", "pod-gone", "drained"])
                assert.ok(types.has(t as ProgressEvent["type"]), t);
            const gone = events.filter((e) => e.type === "pod-gone") as Extract<ProgressEvent, { type: "pod-gone" }>[];
            assert.equal(gone.length, 15);
            assert.equal(gone[gone.length - 1].remaining, 0);
            assert.equal(c.get("Node", undefined, "worker1").spec.unschedulable, true);
        });

        it("seed without flags: refuses before evicting anything and lists kubectl's errors", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            const before = podsOnNode(c, "worker1");
            const err: DrainError = await drain(kc, "worker1").then(
                () => assert.fail("should fail"),
                (e) => e,
            );
            assert.ok(err instanceof DrainError);
            assert.equal(err.kind, "blocked");
            assert.match(
                err.message,
                /^cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/ratings-v1-7d99676f7f-7x8nl, /m,
            );
            assert.match(
                err.message,
                /^cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-587jv, kube-system\/weave-net-p964j$/m,
            );
            assert.equal(err.remaining.length, 8);
            assert.equal(evictionPosts(c).length, 0);
            assert.deepEqual(podsOnNode(c, "worker1"), before);
            assert.equal(c.get("Node", undefined, "worker1").spec.unschedulable, true, "the node stays cordoned");
        });

        it("planDrain is read-only and matches the drain's classification", async () => {
            const { c, kc } = await sim("seed", { timeScale: 30 });
            c.clearRequestLog();
            const plan = await planDrain(kc, "worker1", { ignoreDaemonSets: true });
            assert.ok(c.requestLog().every((r) => r.method === "GET"));
            assert.equal(plan.evict.length, 9);
            assert.equal(plan.blocked.length, 6);
            assert.equal(plan.skip.length, 2);
            assert.equal((await listPodsOnNode(kc, "worker1")).length, 17);
        });

        it("PDB serialisation: the second eviction waits for the replacement to be Ready, then proceeds at once", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w1", "w2"], { grace: 2 });
            pdb(f, "web-pdb", "web", { maxUnavailable: 1 });
            const { c, kc } = await sim(asList(f), { timeScale: 10, startupDelaySeconds: 5 });
            await c.settle();
            // when (simulated ms) the budget's status allowed a disruption again, after having allowed none
            const allowedAgain: number[] = [];
            const stopWatching = c.subscribe((e) => {
                if (
                    e.resource === "poddisruptionbudgets" &&
                    e.old?.status?.disruptionsAllowed === 0 &&
                    e.object?.status?.disruptionsAllowed > 0
                )
                    allowedAgain.push(c.clock.now().getTime());
            });
            const events: ProgressEvent[] = [];
            const result = await drain(kc, "w1", { ignoreDaemonSets: true, onProgress: (e) => events.push(e) });
            stopWatching();
            assert.equal(result.evicted.length, 2);
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
            const waits = events.filter((e) => e.type === "waiting-on-budget") as Extract<ProgressEvent, { type: "waiting-on-budget" }>[];
            assert.ok(waits.length >= 1, "one pod waited on the budget");
            assert.equal(waits[0].budget?.name, "web-pdb");
            assert.match(
                waits[0].message,
                /^pod default\/web-\S+ waiting on PodDisruptionBudget default\/web-pdb \(needs 2 healthy pods, has 2\)$/,
            );
            // Accepted evictions: exactly 2, and the second only after a refused one.
            const posts = evictionPosts(c);
            assert.equal(accepted(c).length, 2);
            assert.ok(posts.some((p) => p.status === 429));
            // The retry follows the budget, not a timer: the accepted second eviction came after the budget allowed
            // a disruption again, sooner than kubectl's fixed 5 s (real) retry would have sent it.
            const scale = c.clock.timeScale;
            const secondPost = accepted(c)[1];
            const refused = posts.filter((p) => p.status === 429 && p.path === secondPost.path);
            assert.ok(refused.length >= 1, "the second pod's eviction was refused first");
            const allowedAt = allowedAgain.find((t) => t >= refused[0].time);
            assert.ok(allowedAt !== undefined, "the budget allowed a disruption again after the refusal");
            assert.ok(secondPost.received! >= allowedAt, "retried before the budget allowed it");
            const afterRefusal = (secondPost.received! - refused[refused.length - 1].time) / scale;
            assert.ok(afterRefusal < 5000, `the retry came ${afterRefusal} real ms after the refusal, as late as kubectl's fixed 5 s`);
            // The second accepted eviction came after a replacement pod was Ready (sim time).
            const second = accepted(c)[1].time;
            const replacements = c.list("Pod", "default").filter((p: any) => p.metadata.labels.app === "web" && p.spec.nodeName !== "w1");
            const readyTimes = replacements
                .map((p: any) => p.status.conditions?.find((x: any) => x.type === "Ready" && x.status === "True")?.lastTransitionTime)
                .filter(Boolean)
                .map((t: string) => Date.parse(t));
            assert.ok(
                readyTimes.some((t: number) => t <= second + 1000),
                "a replacement was Ready before the second eviction",
            );
        });

        it("a stale PDB (429 + Retry-After 10): retried as soon as the controller catches up, not after 10 s", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w2", "w3"], { grace: 1 });
            pdb(f, "web-pdb", "web", { maxUnavailable: 1 });
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            await c.settle();
            c.pauseDisruption(true);
            const p = c.get("PodDisruptionBudget", "default", "web-pdb");
            c.apply({ ...p, spec: { ...p.spec, maxUnavailable: 2 } });
            assert.ok(
                c.get("PodDisruptionBudget", "default", "web-pdb").metadata.generation > p.metadata.generation,
                "spec change bumps generation",
            );
            // The controller catches up as soon as the drain reports that it waits on the stale budget.
            let resumedAt: number | undefined;
            const events: ProgressEvent[] = [];
            await drain(kc, "w1", {
                ignoreDaemonSets: true,
                timeoutSeconds: 30,
                onProgress: (e) => {
                    events.push(e);
                    if (resumedAt === undefined && e.type === "waiting-on-budget" && /being processed/.test(e.message)) {
                        resumedAt = c.clock.now().getTime();
                        c.pauseDisruption(false);
                    }
                },
            });
            const refused = evictionPosts(c).filter((r) => r.status === 429);
            assert.ok(refused.length >= 1, "the first eviction met the stale budget");
            assert.ok(resumedAt !== undefined, "the drain reported the wait");
            // The stale budget's 429 carries Retry-After: 10 (real seconds to client-go). The accepted eviction came
            // once the controller caught up, well before those 10 s (measured on the simulated clock).
            const retried = accepted(c).find((r) => r.path === refused[0].path)!;
            assert.ok(retried, "the refused pod was evicted in the end");
            const afterRefusal = (retried.received! - refused[0].time) / c.clock.timeScale;
            assert.ok(afterRefusal < 10_000, `retried ${afterRefusal} real ms after the refusal: the full Retry-After`);
            assert.ok(retried.received! >= resumedAt!, "retried before the budget was processed");
        });

        it("a PDB that never allows a disruption: timeout names pod, budget and numbers; node stays cordoned", async () => {
            const f = cluster();
            deployment(f, "critical", ["w1"]);
            pdb(f, "critical-pdb", "critical", { minAvailable: 1 });
            deployment(f, "free", ["w1", "w1"], { grace: 2 });
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            await c.settle();
            const critical = podsOnNode(c, "w1").find((p) => p.includes("critical"))!;
            const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 2 }).then(
                () => assert.fail("should time out"),
                (e) => e,
            );
            assert.ok(err instanceof DrainError);
            assert.equal(err.kind, "timeout");
            assert.equal(err.remaining.length, 1);
            assert.equal(err.remaining[0].pod, critical);
            assert.deepEqual(err.remaining[0].budget, {
                namespace: "default",
                name: "critical-pdb",
                desiredHealthy: 1,
                currentHealthy: 1,
                expectedPods: 1,
                disruptionsAllowed: 0,
            });
            assert.ok(
                err.message.includes(
                    `pod ${critical}: PodDisruptionBudget default/critical-pdb allows no disruption (needs 1 healthy pod and has 1; 0 disruptions allowed)`,
                ),
                err.message,
            );
            assert.match(err.message, /timed out after 2s/);
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1", critical].sort());
            assert.equal(c.get("Node", undefined, "w1").spec.unschedulable, true);
            assert.equal(accepted(c).length, 2, "only the two unconstrained pods were evicted");
        });

        it("a pod matched by two PDBs fails at once, naming the pod and both budgets; the rest is drained", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w2", "w3"], { labels: { tier: "front" } });
            pdb(f, "web-a", "web", { maxUnavailable: 1 });
            pdb(f, "web-b", "web", { maxUnavailable: 2 });
            deployment(f, "other", ["w1"], { grace: 2 });
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            await c.settle();
            const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 30 }).then(
                () => assert.fail("should fail"),
                (e) => e,
            );
            // fails at the first answer, not at the timeout: one eviction request for that pod, answered 500
            assert.equal(err.kind, "eviction-failed");
            const webPod = err.remaining[0]?.pod.split("/")[1];
            assert.deepEqual(
                evictionPosts(c)
                    .filter((r) => r.path.endsWith(`/pods/${webPod}/eviction`))
                    .map((r) => r.status),
                [500],
            );
            assert.equal(err.remaining.length, 1);
            assert.match(err.remaining[0].pod, /^default\/web-/);
            assert.match(err.message, /pod default\/web-\S+ matches more than one PodDisruptionBudget \(default\/web-a, default\/web-b\)/);
            assert.deepEqual(
                podsOnNode(c, "w1").filter((p) => p.includes("other")),
                [],
            );
        });

        it("chunked listing with a small chunkSize follows continue tokens", async () => {
            const f = cluster();
            deployment(f, "many", ["w1", "w1", "w1", "w1", "w1", "w1", "w1"], { grace: 2 });
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            c.clearRequestLog();
            const result = await drain(kc, "w1", { ignoreDaemonSets: true, chunkSize: 2 });
            assert.equal(result.evicted.length, 7);
            const lists = c.requestLog().filter((r) => r.method === "GET" && r.path === "/api/v1/pods" && /limit=2/.test(r.query));
            assert.ok(lists.length >= 4, `expected >= 4 pages, saw ${lists.length}`);
            assert.ok(lists.some((r) => /continue=/.test(r.query)));
        });

        it("--grace-period 0 removes pods at once (no kubelet wait)", async () => {
            const f = cluster();
            deployment(f, "slow", ["w1", "w1"], { grace: 600 });
            const { c, kc } = await sim(asList(f), { timeScale: 1 });
            // how each of the node's pods went: marked terminating, deleted (change by change)
            const history = new Map<string, string[]>();
            const stopWatching = c.subscribe((e) => {
                const name = e.object?.metadata?.name ?? "";
                if (e.resource !== "pods" || !name.startsWith("slow-")) return;
                const step = e.type === "DELETED" ? "DELETED" : e.object.metadata.deletionTimestamp ? "terminating" : undefined;
                if (step) history.set(name, [...(history.get(name) ?? []), step]);
            });
            const result = await drain(kc, "w1", { ignoreDaemonSets: true, gracePeriodSeconds: 0 });
            stopWatching();
            assert.equal(result.evicted.length, 2);
            // removed by the eviction itself: never seen terminating, so no kubelet (600 s grace) was waited for
            const slow = new Set(result.evicted.map((e) => e.pod.split("/")[1]));
            assert.equal(slow.size, 2);
            for (const name of slow) assert.deepEqual(history.get(name), ["DELETED"], name);
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
        });

        it("falls back to DELETE when the eviction API is not in discovery (and with disableEviction)", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w1"], { grace: 2 });
            pdb(f, "web-pdb", "web", { minAvailable: 2 }); // would block evictions; DELETE ignores it
            for (const mode of ["discovery", "flag"] as const) {
                const { c, kc } = await sim(asList(f), { timeScale: 10 });
                if (mode === "discovery") c.faults.add({ type: "hideEviction" });
                const events: ProgressEvent[] = [];
                const result = await drain(kc, "w1", {
                    ignoreDaemonSets: true,
                    disableEviction: mode === "flag",
                    onProgress: (e) => events.push(e),
                });
                assert.equal(result.evicted.length, 2);
                assert.equal(evictionPosts(c).length, 0);
                assert.equal(c.requestLog().filter((r) => r.method === "DELETE").length, 2);
                assert.ok(events.some((e) => e.type === "pod-gone" && e.how === "deleted"));
                if (mode === "discovery") assert.ok(result.warnings.some((w) => /does not support the eviction API/.test(w)));
                await c.stop();
            }
        });

        it("a pod with a finalizer: the timeout says it waits for termination and which finalizers", async () => {
            const f = cluster();
            const rsObjs = deployment(f, "keep", ["w1"]);
            const pod = rsObjs[2];
            pod.metadata.finalizers = ["example.com/keep"];
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 2 }).then(
                () => assert.fail("should time out"),
                (e) => e,
            );
            assert.equal(err.kind, "timeout");
            assert.equal(err.remaining.length, 1);
            assert.match(
                err.remaining[0].reason,
                /^waiting for termination \(deletionTimestamp \S+, grace \d+s, finalizers \[example\.com\/keep\]\)$/,
            );
            assert.ok(c.get("Pod", "default", pod.metadata.name).metadata.deletionTimestamp);
        });

        it("a dead node with skipWaitForDeleteTimeoutSeconds: stops waiting after grace + N seconds", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w1"], { grace: 1 });
            const { c, kc } = await sim(asList(f), { timeScale: 1 });
            c.setNodeDead("w1", true);
            const events: ProgressEvent[] = [];
            const t0 = Date.now();
            const result = await drain(kc, "w1", {
                ignoreDaemonSets: true,
                skipWaitForDeleteTimeoutSeconds: 1,
                timeoutSeconds: 20,
                onProgress: (e) => events.push(e),
            });
            const seconds = (Date.now() - t0) / 1000;
            // not before grace (1 s) + N (1 s); and it stopped waiting by itself (the drain succeeded, before its timeout)
            assert.ok(seconds >= 2, `took ${seconds}s`);
            assert.equal(result.evicted.length, 2);
            assert.equal(result.warnings.filter((w) => /older than 1 seconds/.test(w)).length, 2);
            assert.equal(events.filter((e) => e.type === "pod-gone" && e.how === "skipped").length, 2);
            assert.equal(podsOnNode(c, "w1").length, 3, "the pods are still there (terminating on a dead node)");
        });

        it("a terminating namespace: 403s are retried until the pod is marked for deletion, then waited on", async () => {
            const f = cluster();
            namespace(f, "doomed", { "sim.node-upgrade.dev/cleanup-delay-seconds": "20" });
            deployment(f, "app", ["w1"], { ns: "doomed", grace: 2 });
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            c.delete("Namespace", undefined, "doomed");
            const result = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 20 });
            assert.equal(result.evicted.length, 1);
            assert.ok(
                evictionPosts(c).some((r) => r.status === 403),
                "evictions were refused while the namespace terminated",
            );
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
        });

        it("dry-run=server evicts nothing and does not wait; dry-run=client sends no eviction", async () => {
            const f = cluster();
            deployment(f, "web", ["w1", "w1"]);
            const { c, kc } = await sim(asList(f), { timeScale: 10 });
            const server = await drain(kc, "w1", { ignoreDaemonSets: true, dryRun: "server" });
            assert.equal(server.dryRun, "server");
            assert.equal(server.evicted.length, 2);
            assert.equal(podsOnNode(c, "w1").length, 3);
            assert.equal(!!c.get("Node", undefined, "w1").spec.unschedulable, false);
            c.clearRequestLog();
            const client = await drain(kc, "w1", { ignoreDaemonSets: true, dryRun: "client" });
            assert.equal(client.dryRun, "client");
            assert.equal(evictionPosts(c).length, 0);
            assert.equal(c.requestLog().filter((r) => r.method !== "GET").length, 0);
        });

        it("a StatefulSet-style replacement with the same name ends the wait (UID changed)", async () => {
            const { c, kc } = await sim("pdb", { timeScale: 20 });
            // db-0 lives on worker2 in the pdb scenario.
            const result = await drain(kc, "worker2", { ignoreDaemonSets: true, timeoutSeconds: 30 });
            assert.ok(result.evicted.some((e) => e.pod === "default/db-0"));
            const db0 = c.get("Pod", "default", "db-0");
            if (db0) assert.notEqual(db0.metadata.uid, result.evicted.find((e) => e.pod === "default/db-0")!.uid);
        });

        it("cancellation through an AbortSignal ends the drain with kind 'cancelled'", async () => {
            const f = cluster();
            deployment(f, "critical", ["w1"]);
            pdb(f, "critical-pdb", "critical", { minAvailable: 1 });
            const { kc } = await sim(asList(f), { timeScale: 10 });
            const ac = new AbortController();
            // Cancel once the drain reports that the budget holds it (the event, not a fixed time).
            const onProgress = (e: ProgressEvent) => void (e.type === "waiting-on-budget" && ac.abort());
            const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, signal: ac.signal, onProgress }).then(
                () => assert.fail("should be cancelled"),
                (e) => e,
            );
            assert.equal(err.kind, "cancelled");
            assert.equal(err.remaining.length, 1);
        });
    });

    describe("waitForNode", () => {
        it("waits for Ready at the target version (1.20.0 ≡ v1.20.0) and reports progress", async () => {
            const { c, kc } = await sim("seed", { timeScale: 10 });
            const events: ProgressEvent[] = [];
            const upgrade = c.upgradeNode("worker1", "v1.20.0", { downSeconds: 10 });
            const r = await waitForNode(kc, "worker1", { kubeletVersion: "1.20.0", timeoutSeconds: 20, onProgress: (e) => events.push(e) });
            await upgrade;
            assert.deepEqual(r, { ready: true, kubeletVersion: "v1.20.0" });
            assert.ok(events.some((e) => e.type === "node-waiting"));
            assert.equal(events[events.length - 1].type, "node-ready");
        });
        it("times out saying what it last saw", async () => {
            const { kc } = await sim("seed", { timeScale: 10 });
            await assert.rejects(
                waitForNode(kc, "worker1", { kubeletVersion: "v1.20.0", timeoutSeconds: 1 }),
                /timed out after 1s waiting for node worker1: node worker1 is Ready at v1.19.0, waiting for Ready at v1.20.0/,
            );
        });
        it("is satisfied at once when the node already matches", async () => {
            const { kc } = await sim("seed", { timeScale: 10 });
            const events: ProgressEvent[] = [];
            assert.deepEqual(await waitForNode(kc, "worker2", { timeoutSeconds: 5, onProgress: (e) => events.push(e) }), {
                ready: true,
                kubeletVersion: "v1.19.0",
            });
            // satisfied by its first read: it never reported waiting
            assert.deepEqual(events, [{ type: "node-ready", node: "worker2", kubeletVersion: "v1.19.0" }]);
        });
    });
});
