// A budget that opens for one disruption at a time: only as many waiting pods retry as it allows, so refused
// retries (429) mostly disappear, while every pod is still evicted and the budget is never broken.
import assert from "node:assert/strict";
import { drain } from "../../drain";
import { asList, cluster, deployment, pdb, podsOnNode, simPerTest } from "./fixtures";

describe("drain engine: retries when a PodDisruptionBudget opens", function () {
    this.timeout(120_000);
    const sim = simPerTest();

    it("6 of 10 replicas behind maxUnavailable=1: all evicted with few refused retries, budget kept", async () => {
        const f = cluster();
        deployment(f, "web", ["w1", "w1", "w1", "w1", "w1", "w1", "w2", "w2", "w3", "w3"], { grace: 1 });
        pdb(f, "web-pdb", "web", { maxUnavailable: 1 });
        const { c, kc } = await sim(asList(f), { timeScale: 10, startupDelaySeconds: 1 });
        await c.settle();
        // every status the budget went through during the drain
        const statuses: any[] = [];
        const stopWatching = c.subscribe((e) => {
            if (e.resource === "poddisruptionbudgets" && e.object?.status) statuses.push(e.object.status);
        });
        c.clearRequestLog();
        const result = await drain(kc, "w1", { ignoreDaemonSets: true });
        stopWatching();

        assert.equal(result.evicted.length, 6);
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
        const evictions = c
            .requestLog()
            .filter((r) => r.resource === "pods/eviction" && r.method === "POST")
            .sort((a, b) => (a.received ?? a.time) - (b.received ?? b.time));
        assert.equal(evictions.filter((r) => r.status === 201).length, 6, "6 evictions admitted");
        // The first attempts go out together (1 admitted, 5 refused, as with kubectl); after that, a budget that
        // opens for one disruption lets one waiting pod retry, not all of them (before: 4 + 3 + 2 + 1 refusals).
        const seen = new Set<string>();
        const refusedRetries = evictions.filter((r) => {
            const retry = seen.has(r.path);
            seen.add(r.path);
            return retry && r.status === 429;
        });
        const refused = evictions.filter((r) => r.status === 429);
        assert.ok(refusedRetries.length <= 2, `${refusedRetries.length} refused retries (of ${refused.length} refusals)`);
        assert.ok(refused.length <= 7, `${refused.length} evictions refused with 429`);
        // The budget never went below its minimum.
        assert.ok(statuses.length > 0, "the budget's status was seen");
        for (const s of statuses) {
            assert.ok(s.currentHealthy >= s.desiredHealthy, `budget below its minimum: ${JSON.stringify(s)}`);
            assert.ok((s.disruptionsAllowed ?? 0) >= 0);
        }
    });
});
