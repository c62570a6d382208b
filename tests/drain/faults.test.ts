// Acceptance 3: under injected API faults (5xx/429 on evictions, gets, lists and watches, dropped watches,
// latency) a drain never evicts a pod whose PodDisruptionBudget allows no disruption, and either completes or
// fails naming what blocks. The invariant is checked after every change of the simulator's store (the budget
// audit subscribes to it, tests/helpers/budget-invariants.ts): the healthy (Ready, not terminating) pods of
// every budget never fall below what the budget requires after any write (and nothing changes between writes).
import assert from "node:assert/strict";
import { DrainError, drain, loadKubeConfig, type ProgressEvent } from "../../drain";
import { BudgetInvariants } from "../helpers/budget-invariants";
import { asList, cluster, deployment, pdb, podsOnNode, startSim, type Fixture } from "./fixtures";

type Sim = Awaited<ReturnType<typeof startSim>>;

interface Budget {
    name: string;
    required: number;
}

/** The budgets the audit read from the cluster must be the ones the test expects (names and requirements). */
function assertBudgetsAudited(audit: BudgetInvariants, budgets: Budget[]): void {
    const seen = audit.floorsSeen();
    assert.deepEqual(
        Object.entries(seen)
            .map(([name, f]) => [name, f.desired])
            .sort(),
        budgets.map((b) => [b.name, b.required]).sort(),
    );
}

function faultyCluster(withBlocker: boolean): { f: Fixture; budgets: Budget[] } {
    const f = cluster(["w1", "w2", "w3", "w4"]);
    deployment(f, "web", ["w1", "w1", "w1", "w1", "w2", "w2", "w3", "w3", "w4", "w4"], { grace: 2 }); // 10 replicas, 4 on w1
    pdb(f, "web-pdb", "web", { maxUnavailable: 1 }); // 9 healthy required
    deployment(f, "api", ["w1", "w1", "w1", "w2", "w3", "w4"], { grace: 2 }); // 6 replicas, 3 on w1
    pdb(f, "api-pdb", "api", { minAvailable: 4 });
    deployment(f, "free", ["w1", "w1", "w1", "w1", "w1"], { grace: 2 }); // no budget
    const budgets: Budget[] = [
        { name: "default/web-pdb", required: 9 },
        { name: "default/api-pdb", required: 4 },
    ];
    if (withBlocker) {
        deployment(f, "critical", ["w1"], { grace: 2 });
        pdb(f, "critical-pdb", "critical", { minAvailable: 1 });
        budgets.push({ name: "default/critical-pdb", required: 1 });
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
            const audit = new BudgetInvariants(c);
            const kc = loadKubeConfig({ kubeconfig: c.kubeconfig });
            const events: ProgressEvent[] = [];
            const result = await drain(kc, "w1", {
                ignoreDaemonSets: true,
                timeoutSeconds: 90,
                safetyRecheckSeconds: 2,
                onProgress: (e) => events.push(e),
            });
            audit.stop();
            console.log(
                `      faults injected: ${c.faults.injected()} ${JSON.stringify(c.faults.injectedByType())}; retries reported: ${events.filter((e) => e.type === "retrying").length}; budget waits: ${events.filter((e) => e.type === "waiting-on-budget").length}; budget checks: ${audit.checks()} after ${audit.changes} changes`,
            );
            assert.deepEqual(audit.belowBudget, []);
            assert.deepEqual(audit.violations, []);
            assertBudgetsAudited(audit, budgets);
            const floors = audit.floorsSeen();
            // 4 of web's 10 pods were on w1 and the budget lets 1 go at a time: every eviction took it to exactly 9.
            assert.equal(floors["default/web-pdb"].minHealthy, 9);
            // api (6 pods, 3 on w1, minAvailable 4) went down to 4 or 5, never below.
            assert.ok([4, 5].includes(floors["default/api-pdb"].minHealthy), JSON.stringify(floors));
            assert.equal(result.evicted.length, 12);
            assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
            assert.ok(c.faults.injected() > 10, "faults were really injected");
        });
    }

    it("control: the audit does see the budgets broken when they are bypassed (--disable-eviction)", async () => {
        const { f, budgets } = faultyCluster(false);
        const c = await startSim(asList(f), { timeScale: 20, seed: 5, startupDelaySeconds: 3 });
        sims.push(c);
        await c.settle();
        const audit = new BudgetInvariants(c);
        await drain(loadKubeConfig({ kubeconfig: c.kubeconfig }), "w1", {
            ignoreDaemonSets: true,
            disableEviction: true,
            timeoutSeconds: 60,
        });
        audit.stop();
        assertBudgetsAudited(audit, budgets);
        // deleting w1's 4 web pods and 3 api pods at once leaves 6 of web (needs 9) and 3 of api (needs 4)
        assert.deepEqual(audit.floorsSeen(), {
            "default/web-pdb": { desired: 9, minHealthy: 6 },
            "default/api-pdb": { desired: 4, minHealthy: 3 },
        });
        assert.ok(
            audit.belowBudget.some((v) => v.startsWith("default/web-pdb: ")),
            audit.belowBudget.join("\n"),
        );
        assert.ok(
            audit.belowBudget.some((v) => v.startsWith("default/api-pdb: ")),
            audit.belowBudget.join("\n"),
        );
        assert.ok(audit.violations.length > 0, "the deletions themselves are reported");
    });

    it("fails under faults naming the budget that blocks, without touching it", async () => {
        const { f, budgets } = faultyCluster(true);
        const c = await startSim(asList(f), { timeScale: 20, seed: 4, startupDelaySeconds: 3 });
        sims.push(c);
        await c.settle();
        injectFaults(c);
        const audit = new BudgetInvariants(c);
        const kc = loadKubeConfig({ kubeconfig: c.kubeconfig });
        const critical = podsOnNode(c, "w1").find((p) => p.includes("critical"))!;
        const err: DrainError = await drain(kc, "w1", { ignoreDaemonSets: true, timeoutSeconds: 15, safetyRecheckSeconds: 2 }).then(
            () => assert.fail("should time out"),
            (e) => e,
        );
        audit.stop();
        console.log(
            `      faults injected: ${c.faults.injected()} ${JSON.stringify(c.faults.injectedByType())}; budget checks: ${audit.checks()} after ${audit.changes} changes`,
        );
        assert.deepEqual(audit.belowBudget, []);
        assert.deepEqual(audit.violations, []);
        assertBudgetsAudited(audit, budgets);
        assert.equal(audit.floorsSeen()["default/critical-pdb"].minHealthy, 1, "the blocking budget's pod was never disrupted");
        assert.ok(err instanceof DrainError);
        assert.equal(err.kind, "timeout");
        assert.deepEqual(
            err.remaining.map((r) => r.pod),
            [critical],
        );
        assert.match(
            err.message,
            new RegExp(
                `pod ${critical}: PodDisruptionBudget default/critical-pdb allows no disruption \\(needs 1 healthy pod and has 1; 0 disruptions allowed\\)`,
            ),
        );
        assert.equal(err.remaining[0].budget?.name, "critical-pdb");
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1", critical].sort());
    });
});
