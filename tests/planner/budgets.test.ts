// PodDisruptionBudget outcomes: the numbers of §6 and the eviction rules of §5, one node at a time.
import assert from "node:assert/strict";
import { planRoll } from "../../planner";
import type { NodePlan, RollPlan } from "../../planner/types";
import { ClusterBuilder, DRAIN } from "./fixtures";

function nodePlan(plan: RollPlan, name: string): NodePlan {
    const found = plan.nodes.find((n) => n.node === name);
    assert.ok(found, `node ${name} in plan`);
    return found;
}

/** worker1 is drained; worker2 and worker3 have room for replacements. */
function threeWorkers(): ClusterBuilder {
    const c = new ClusterBuilder();
    c.node("worker1");
    c.node("worker2");
    c.node("worker3");
    return c;
}

describe("planner: PodDisruptionBudget outcomes", () => {
    it("blocks on a budget with 0 disruptions allowed and names it with its numbers", () => {
        const c = threeWorkers();
        const db = c.statefulSet("shop", "db", 1);
        db.pod("worker1");
        c.pdb("shop", "db-pdb", db.labels, { minAvailable: 1 });
        const plan = planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN });
        const w1 = nodePlan(plan, "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.equal(w1.blocked.length, 1);
        const blocked = w1.blocked[0];
        assert.equal(blocked.pod, "shop/db-0");
        assert.equal(blocked.cause, "budget");
        assert.deepEqual(
            {
                ns: blocked.budget?.namespace,
                name: blocked.budget?.name,
                desired: blocked.budget?.desiredHealthy,
                current: blocked.budget?.currentHealthy,
                expected: blocked.budget?.expectedPods,
                allowed: blocked.budget?.disruptionsAllowed,
            },
            { ns: "shop", name: "db-pdb", desired: 1, current: 1, expected: 1, allowed: 0 },
        );
        assert.match(
            blocked.reason,
            /PodDisruptionBudget shop\/db-pdb needs 1 healthy pods and would have 0 \(0 disruptions allowed, minAvailable 1 of 1 replicas\)/,
        );
        assert.match(blocked.reason, /can never allow a disruption/);
        assert.equal(plan.verdict, "blocked");
        assert.equal(plan.stopsAt, "worker1");
    });

    it("blocks on maxUnavailable 0 and on minAvailable 100%", () => {
        for (const rule of [{ maxUnavailable: 0 }, { minAvailable: "100%" }]) {
            const c = threeWorkers();
            const web = c.deployment("default", "web", 3);
            web.pod("worker1");
            web.pod("worker2");
            web.pod("worker3");
            c.pdb("default", "web-pdb", web.labels, rule);
            const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
            assert.equal(w1.verdict, "blocked", JSON.stringify(rule));
            assert.equal(w1.blocked[0].budget?.desiredHealthy, 3);
            assert.equal(w1.blocked[0].budget?.expectedPods, 3);
        }
    });

    it("blocks when the budget expects 0 pods (neither field set, or maxUnavailable over pods without a controller)", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        c.pdb("default", "web-pdb", web.labels, {});
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.blocked[0].reason, /neither minAvailable nor maxUnavailable/);

        const d = threeWorkers();
        d.pod("default", "bare-1", "worker1", { labels: { app: "bare" } });
        d.pod("default", "bare-2", "worker2", { labels: { app: "bare" } });
        d.pdb("default", "bare-pdb", { app: "bare" }, { maxUnavailable: 1 });
        w1 = nodePlan(planRoll(d.snapshot, { nodes: ["worker1"], drain: { ...DRAIN, force: true } }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.equal(w1.blocked[0].budget?.expectedPods, 0);
        assert.match(w1.blocked[0].reason, /expects 0 pods/);
    });

    it("two pods of one budget on one node: the first goes, the second waits for its replacement", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker1");
        web.pod("worker2");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "waits");
        assert.deepEqual(
            w1.evict.map((e) => [e.pod, e.waits]),
            [
                ["default/web-5d9c7-1", false],
                ["default/web-5d9c7-2", true],
            ],
        );
        assert.equal(w1.waits.length, 1);
        assert.equal(w1.waits[0].budget?.key, "default/web-pdb");
        assert.equal(w1.waits[0].budget?.disruptionsAllowed, 0);
        assert.match(w1.waits[0].reason, /it goes once the new pod replacing default\/web-5d9c7-1 is Ready on worker[23]/);
        assert.notEqual(w1.evict[0].replacementNode, "worker1");
    });

    it("two pods of one budget on one node with nowhere else to run: blocked", () => {
        const c = new ClusterBuilder();
        c.node("worker1");
        c.node("worker2", { unschedulable: true });
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker1");
        web.pod("worker2");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.equal(w1.evict.length, 1);
        assert.equal(w1.evict[0].replacementNode, null);
        assert.equal(w1.blocked[0].pod, "default/web-5d9c7-2");
        assert.match(
            w1.blocked[0].reason,
            /the new pod replacing default\/web-5d9c7-1 has nowhere to run \(no other node is schedulable\)/,
        );
        assert.equal(w1.capacity?.ok, false);
    });

    it("one budget across a batch of two nodes: waits when replacements fit elsewhere, blocked when not", () => {
        const build = (thirdSchedulable: boolean) => {
            const c = new ClusterBuilder();
            c.node("worker1");
            c.node("worker2");
            c.node("worker3", { unschedulable: !thirdSchedulable });
            const web = c.deployment("default", "web", 3);
            web.pod("worker1");
            web.pod("worker2");
            web.pod("worker3");
            c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
            return planRoll(c.snapshot, { nodes: ["worker1", "worker2"], batchSize: 2, drain: DRAIN });
        };
        let plan = build(true);
        assert.equal(nodePlan(plan, "worker1").batch, 1);
        assert.equal(nodePlan(plan, "worker2").batch, 1);
        // The two nodes drain at once and race for the budget: each is planned with the worse outcome, and says so.
        assert.equal(nodePlan(plan, "worker1").verdict, "waits");
        assert.equal(nodePlan(plan, "worker2").verdict, "waits");
        assert.match(
            nodePlan(plan, "worker1").reasons.join("\n"),
            /waits \(batch race\): shares PodDisruptionBudget default\/web-pdb with worker2 in the same batch/,
        );
        assert.equal(nodePlan(plan, "worker1").evict[0].replacementNode, "worker3");
        assert.equal(plan.verdict, "waits");

        plan = build(false);
        assert.equal(nodePlan(plan, "worker2").verdict, "blocked");
        assert.equal(nodePlan(plan, "worker1").verdict, "blocked");
        assert.match(
            nodePlan(plan, "worker1").reasons.join("\n"),
            /blocked \(batch race\): shares PodDisruptionBudget default\/web-pdb with worker2/,
        );
        assert.equal(plan.stopsAt, "worker1");
    });

    it("a batch race is about the shared budget only: another budget blocking one node does not block the other", () => {
        const c = new ClusterBuilder();
        c.node("worker1");
        c.node("worker2");
        c.node("worker3");
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker2");
        web.pod("worker3");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const db = c.deployment("default", "db", 1);
        db.pod("worker1");
        c.pdb("default", "db-pdb", db.labels, { minAvailable: 1 });
        const plan = planRoll(c.snapshot, { nodes: ["worker1", "worker2"], batchSize: 2, drain: DRAIN });
        assert.equal(nodePlan(plan, "worker1").verdict, "blocked", "db-pdb blocks worker1");
        // worker2 only shares web-pdb, which waits: the race makes it wait, db-pdb does not block it.
        assert.equal(nodePlan(plan, "worker2").verdict, "waits");
        assert.match(
            nodePlan(plan, "worker2").reasons.join("\n"),
            /waits \(batch race\): shares PodDisruptionBudget default\/web-pdb with worker1/,
        );
        assert.ok(!nodePlan(plan, "worker2").reasons.some((r) => r.startsWith("blocked (batch race)")));
    });

    it("a budget spent on one node comes back for the next batch once its replacement runs", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 2);
        web.pod("worker1");
        web.pod("worker2");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const plan = planRoll(c.snapshot, { all: true, drain: DRAIN });
        assert.deepEqual(
            plan.nodes.map((n) => n.verdict),
            ["ok", "ok", "ok"],
        );
        // The replacement of worker1's pod lands on worker3, which runs no web pod, and is evicted again there.
        // It has a new name, unknown to the plan, so it is named after the pod it replaces.
        assert.equal(nodePlan(plan, "worker1").evict[0].replacementNode, "worker3");
        assert.deepEqual(
            nodePlan(plan, "worker3").evict.map((e) => [e.pod, e.replaces]),
            [["a new default/web pod (replacing default/web-5d9c7-1)", "default/web-5d9c7-1"]],
        );
    });

    it("percentages: minAvailable 50% of 3 needs 2; maxUnavailable 50% of 3 needs 1", () => {
        for (const [rule, desired, allowed] of [
            [{ minAvailable: "50%" }, 2, 1],
            [{ maxUnavailable: "50%" }, 1, 2],
            [{ maxUnavailable: "34%" }, 1, 2],
            [{ minAvailable: "67%" }, 3, 0],
        ] as const) {
            const c = threeWorkers();
            const web = c.deployment("default", "web", 3);
            web.pod("worker1");
            web.pod("worker2");
            web.pod("worker3");
            c.pdb("default", "web-pdb", web.labels, rule);
            const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
            assert.equal(w1.budgets[0].desiredHealthy, desired, JSON.stringify(rule));
            assert.equal(w1.budgets[0].disruptionsAllowed, allowed, JSON.stringify(rule));
            assert.equal(w1.verdict, allowed > 0 ? "ok" : "blocked", JSON.stringify(rule));
        }
    });

    it("percentages count the Deployment's replicas (via its ReplicaSet), not the pods that exist", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 4); // 4 wanted, 2 running
        web.pod("worker1");
        web.pod("worker2");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: "50%" });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.budgets[0].expectedPods, 4);
        assert.equal(w1.budgets[0].desiredHealthy, 2);
        assert.equal(w1.budgets[0].currentHealthy, 2);
        assert.equal(w1.verdict, "blocked");
    });

    it("an invalid percentage makes the controller fail safe: nothing is allowed", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker2");
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: "1" });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.blocked[0].reason, /not a percentage/);
    });

    it("unhealthy pod policy: IfHealthyBudget evicts an unready pod only while the budget is met", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1", { ready: false });
        web.pod("worker2");
        web.pod("worker3");
        c.pdb("default", "web-pdb", web.labels, { minAvailable: 2 });
        // current 2 >= desired 2 > 0: evicted without spending the budget.
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "ok");
        assert.match(w1.evict[0].note ?? "", /budget is already met/);

        const d = threeWorkers();
        const api = d.deployment("default", "api", 3);
        api.pod("worker1", { ready: false });
        api.pod("worker2", { ready: false });
        api.pod("worker3");
        d.pdb("default", "api-pdb", api.labels, { minAvailable: 2 });
        // current 1 < desired 2: the unready pod needs a disruption, and none is allowed.
        w1 = nodePlan(planRoll(d.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.blocked[0].reason, /AlwaysAllow would let not-Ready pods go/);

        // AlwaysAllow: unready pods always go.
        d.snapshot.podDisruptionBudgets[0].spec!.unhealthyPodEvictionPolicy = "AlwaysAllow";
        w1 = nodePlan(planRoll(d.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "ok");
        assert.match(w1.evict[0].note ?? "", /AlwaysAllow/);
    });

    it("a pod still starting elsewhere counts as a coming recovery: waits, not blocked", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker2");
        web.pod("worker3", { phase: "Pending" });
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 1 });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "waits");
        assert.match(
            w1.waits[0].reason,
            /needs 2 healthy pods and has 2 .*it goes once default\/web-5d9c7-3, starting on worker3, is Ready/,
        );

        // A pod that runs but is not Ready may never be: blocked.
        c.snapshot.pods[2].status = { phase: "Running", conditions: [{ type: "Ready", status: "False" }] };
        const again = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(again.verdict, "blocked");
        assert.match(again.blocked[0].reason, /1 of its 3 pods are not healthy and no replacement is on its way/);
    });

    it("Pending, finished and terminating pods bypass an exhausted budget", () => {
        for (const extra of [{ phase: "Pending" }, { phase: "Succeeded" }, { phase: "Failed" }, { terminating: true }]) {
            const c = threeWorkers();
            const db = c.statefulSet("default", "db", 1);
            db.pod("worker1", extra);
            c.pdb("default", "db-pdb", db.labels, { minAvailable: 1 });
            const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
            assert.equal(w1.verdict, "ok", JSON.stringify(extra));
            assert.match(w1.evict[0].note ?? "", /budgets do not apply/);
        }
    });

    it("a pod matching two budgets is blocked (the server answers 500), even when both have room", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3, { labels: { app: "web", tier: "front" } });
        web.pod("worker1");
        web.pod("worker2");
        web.pod("worker3");
        c.pdb("default", "web-pdb", { app: "web" }, { maxUnavailable: 1 });
        c.pdb("default", "front-pdb", { tier: "front" }, { maxUnavailable: 1 });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.match(w1.blocked[0].reason, /matches 2 PodDisruptionBudgets \(default\/web-pdb, default\/front-pdb\).*500/);
    });

    it("selectors: null matches nothing, {} matches every pod of its namespace only", () => {
        const c = threeWorkers();
        const db = c.statefulSet("default", "db", 1);
        db.pod("worker1");
        c.pod("other", "x", "worker1", { owner: { kind: "ReplicaSet", name: "x" } });
        c.pdb("default", "none-pdb", {}, { minAvailable: 1, selector: null });
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "ok");

        c.pdb("default", "all-pdb", {}, { minAvailable: 1, selector: {} });
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.deepEqual(
            w1.blocked.map((b) => b.pod),
            ["default/db-0"],
        );
    });

    it("--disable-eviction deletes pods without consulting budgets", () => {
        const c = threeWorkers();
        const db = c.statefulSet("default", "db", 1);
        db.pod("worker1");
        c.pdb("default", "db-pdb", db.labels, { minAvailable: 1 });
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: { ...DRAIN, disableEviction: true } }), "worker1");
        assert.equal(w1.verdict, "ok");
        assert.match(w1.evict[0].note ?? "", /disable-eviction/);
    });
});

describe("planner: workload pacing (maxUnavailablePerWorkload, as the drain engine does)", () => {
    it("evicts one pod of an unbudgeted workload at a time: the next waits until a replacement is Ready", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker1");
        web.pod("worker2");
        const w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: { ...DRAIN, maxUnavailablePerWorkload: 1 } }), "worker1");
        assert.equal(w1.verdict, "waits");
        assert.deepEqual(
            w1.evict.map((e) => [e.pod, e.waits]),
            [
                ["default/web-5d9c7-1", false],
                ["default/web-5d9c7-2", true],
            ],
        );
        assert.deepEqual(w1.waits[0].workload, {
            namespace: "default",
            kind: "Deployment",
            name: "web",
            desiredReplicas: 3,
            readyReplicas: 2,
            requiredReady: 3,
            maxUnavailable: 1,
        });
        assert.match(
            w1.reasons[0],
            /^pod default\/web-5d9c7-2 waits: waiting for default\/web to have 3 Ready replicas \(has 2; maxUnavailablePerWorkload 1\): it goes once the new pod replacing default\/web-5d9c7-1 is Ready on worker3$/,
        );
        // Without pacing (kubectl), both go at once; the replacements spread: worker3 had no web pod, then worker2 and
        // worker3 tie (one web pod, one pod each) and name order picks worker2.
        const kubectl = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain: DRAIN }), "worker1");
        assert.equal(kubectl.verdict, "ok");
        assert.deepEqual(
            kubectl.evict.map((e) => e.replacementNode),
            ["worker3", "worker2"],
        );
    });

    it("blocks when the workload cannot have enough Ready replicas, and leaves budgeted workloads to their budget", () => {
        const c = threeWorkers();
        const web = c.deployment("default", "web", 3);
        web.pod("worker1");
        web.pod("worker2", { ready: false });
        web.pod("worker3");
        const drain = { ...DRAIN, maxUnavailablePerWorkload: 1 };
        let w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain }), "worker1");
        assert.equal(w1.verdict, "blocked");
        assert.equal(w1.blocked[0].cause, "workload");
        assert.match(
            w1.blocked[0].reason,
            /waiting for default\/web to have 3 Ready replicas \(has 2; maxUnavailablePerWorkload 1\): 1 of its 3 replicas is not Ready and no replacement is on its way; the drain would wait until its timeout \(10m0s\)/,
        );
        // A PodDisruptionBudget covers it: pacing steps aside, the budget decides (maxUnavailable 2 allows it).
        c.pdb("default", "web-pdb", web.labels, { maxUnavailable: 2 });
        w1 = nodePlan(planRoll(c.snapshot, { nodes: ["worker1"], drain }), "worker1");
        assert.equal(w1.verdict, "ok");
    });
});
