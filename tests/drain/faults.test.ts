// Acceptance 3: under injected API faults (5xx/429 on evictions, gets, lists and watches, dropped watches,
// latency) a drain never evicts a pod whose PodDisruptionBudget allows no disruption, and either completes or
// fails naming what blocks. The invariant is sampled from the simulator every few milliseconds: the healthy
// (Ready, not terminating) pods of every budget never fall below what the budget requires.
import assert from "node:assert/strict";
import { DrainError, drain, loadKubeConfig, type ProgressEvent } from "../../drain";
import { asList, cluster, deployment, pdb, podsOnNode, startSim, type Fixture } from "./fixtures";

type Sim = Awaited<ReturnType<typeof startSim>>;

interface Budget {
    name: string;
    app: string;
    required: number;
}

/** Starts sampling; returns a stop function giving the violations seen and the number of samples. */
function watchInvariant(c: Sim, budgets: Budget[]): () => { violations: string[]; samples: number } {
    const violations: string[] = [];
    let samples = 0;
    const timer = setInterval(() => {
        samples++;
        const pods = c.list("Pod", "default");
        for (const b of budgets) {
            const healthy = pods.filter(
                (p: any) => p.metadata.labels?.app === b.app && !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((x: any) => x.type === "Ready" && x.status === "True"),
            ).length;
            if (healthy < b.required) violations.push(`${c.clock.now().toISOString()} ${b.name}: ${healthy} healthy < ${b.required} required`);
        }
    }, 3);
    return () => {
        clearInterval(timer);
        return { violations, samples };
    };
}

function faultyCluster(withBlocker: boolean): { f: Fixture; budgets: Budget[] } {
    const f = cluster(["w1", "w2", "w3", "w4"]);
    deployment(f, "web", ["w1", "w1", "w1", "w1", "w2", "w2", "w3", "w3", "w4", "w4"], { grace: 2 }); // 10 replicas, 4 on w1
    pdb(f, "web-pdb", "web", { maxUnavailable: 1 }); // 9 healthy required
    deployment(f, "api", ["w1", "w1", "w1", "w2", "w3", "w4"], { grace: 2 }); // 6 replicas, 3 on w1
    pdb(f, "api-pdb", "api", { minAvailable: 4 });
    deployment(f, "free", ["w1", "w1", "w1", "w1", "w1"], { grace: 2 }); // no budget
    const budgets: Budget[] = [
        { name: "default/web-pdb", app: "web", required: 9 },
        { name: "default/api-pdb", app: "api", required: 4 },
    ];
    if (withBlocker) {
        deployment(f, "critical", ["w1"], { grace: 2 });
        pdb(f, "critical-pdb", "critical", { minAvailable: 1 });
        budgets.push({ name: "default/critical-pdb", app: "critical", required: 1 });
    }
    return { f, budgets };
}

function injectFaults(c: Sim): void {
    const add = (rule: Parameters<Sim["faults"]["add"]>[0]) => c.faults.add(rule);
    // Evictions: plain 500s, 503s with Retry-After, priority-and-fairness 429s (plain text + Retry-After).
    add({ verb: "create", resource: "pods/eviction", status: 500, rate: 0.15 });
    add({ verb: "create", resource: "pods/eviction", status: 503, retryAfterSeconds: 1, rate: 0.1 });
    add({ verb: "create", resource: "pods/eviction", status: 429, plainText: true, retryAfterSeconds: 1, rate: 0.1 });
    // Reads: gets, lists, watches of pods, budgets and nodes.
    add({ verb: "get", status: 503, rate: 0.15 });
    add({ verb: "list", status: 500, rate: 0.2 });
    add({ verb: "watch", status: 500, rate: 0.25 });
    add({ type: "dropWatch", verb: "watch", afterEvents: 3, rate: 0.5 });
    add({ type: "dropWatch", verb: "watch", afterMs: 300, rate: 0.5 });
    add({ type: "latency", ms: 40, rate: 0.3 });
    add({ verb: "patch", resource: "nodes", status: 503, count: 1 });
}

describe("faults: drains under injected API faults never violate a budget", function () {
    this.timeout(120_000);
    const sims: Sim[] = [];
    afterEach(async () => {
        for (const c of sims.splice(0)) await c.stop();
    });

    for (const seed of [1, 2, 3]) {
        it(`completes under faults (seed ${seed})`, async () => {
            const { f, budgets } = faultyCluster(false);
            const c = await startSim(asList(f), { timeScale: 20, seed, startupDelaySeconds: 3 });
            sims.push(c);
            await c.settle();
            injectFaults(c);
            const stop = watchInvariant(c, budgets);
            const kc = loadKubeConfig({ kubeconfig: c.kubeconfig });
            const events: ProgressEvent[] = [];
            const result = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 90, safetyRecheckSeconds: 2, onProgress: (e) => events.push(e) });
            const { violations, samples } = stop();
            console.log(
                `      faults injected: ${c.faults.injected()} ${JSON.stringify(c.faults.injectedByType())}; retries reported: ${events.filter((e) => e.type === "retrying").length}; budget waits: ${events.filter((e) => e.type === "waiting-on-budget").length}; invariant samples: ${samples}`,
            );
            assert.deepEqual(violations, []);
            assert.equal(result.evicted.length, 12);
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
            assert.ok(c.faults.injected() > 10, "faults were really injected");
        });
    }

    it("control: the sampler does see a violation when budgets are bypassed (--disable-eviction)", async () => {
        const { f, budgets } = faultyCluster(false);
        const c = await startSim(asList(f), { timeScale: 20, seed: 5, startupDelaySeconds: 3 });
        sims.push(c);
        await c.settle();
        const stop = watchInvariant(c, budgets);
        await drain(loadKubeConfig({ kubeconfig: c.kubeconfig }), "w1", { ignoreDaemonSets: true, disableEviction: true, timeoutSeconds: 60 });
        const { violations } = stop();
        assert.ok(violations.length > 0, "deleting 4 web pods at once must break web-pdb");
    });

    it("fails under faults naming the budget that blocks, without touching it", async () => {
        const { f, budgets } = faultyCluster(true);
        const c = await startSim(asList(f), { timeScale: 20, seed: 4, startupDelaySeconds: 3 });
        sims.push(c);
        await c.settle();
        injectFaults(c);
        const stop = watchInvariant(c, budgets);
        const kc = loadKubeConfig({ kubeconfig: c.kubeconfig });
        const critical = podsOnNode(c, "w1").find((p) => p.includes("critical"))!;
        const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 15, safetyRecheckSeconds: 2 }).then(
            () => assert.fail("should time out"),
            (e) => e,
        );
        const { violations } = stop();
        console.log(`      faults injected: ${c.faults.injected()} ${JSON.stringify(c.faults.injectedByType())}`);
        assert.deepEqual(violations, []);
        assert.ok(err instanceof DrainError);
        assert.equal(err.kind, "timeout");
        assert.deepEqual(err.remaining.map((r) => r.pod), [critical]);
        assert.match(err.message, new RegExp(`pod ${critical}: PodDisruptionBudget default/critical-pdb allows no disruption \\(needs 1 healthy pod and has 1; 0 disruptions allowed\\)`));
        assert.equal(err.remaining[0].budget?.name, "critical-pdb");
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1", critical].sort());
    });
});
