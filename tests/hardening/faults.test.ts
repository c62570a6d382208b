// Fault suite: full rolls of the root program (rollFromConfig) through the local engine and the real
// dynamic-provider host, against the simulated cluster while it misbehaves. For every scenario:
//   - no PodDisruptionBudget is ever violated: after every change of the simulator's store, every budget the
//     change can affect is checked (harness.ts Invariants, tests/helpers/budget-invariants.ts), and every pod
//     that stops being healthy is checked, at that very moment, against each budget that selects it;
//   - the faults of the scenario really fired: the simulator counts a fault only where it took effect (an
//     answer sent, a watch really cut, a 410 really served), and each scenario checks its own kind of fault in
//     the request log (e.g. the client waited out every Retry-After, latency really held answers back);
//   - no replica is lost: replacements never land on a cordoned node, and once the cluster settles every
//     Deployment and StatefulSet has spec.replicas Ready pods;
//   - a roll that cannot finish stops with its node cordoned, later nodes untouched, and an error naming the
//     cause; a rerun (after the cause is gone) resumes there and completes.
// Fault decisions use the simulator's seeded PRNG (one seed per scenario), so a run is reproducible. The suite
// ends by printing `fault suite: scenarios=N faults_injected=N pdb_violations=0 replicas_lost=0`.
import * as assert from "assert";
import type { FaultRule, RequestLogEntry, SimCluster } from "../../sim";
import type { RunResult } from "../../local-engine";
import {
    DynamicProviderHost,
    HardeningCluster,
    LocalEngine,
    loadComponents,
    newEngine,
    nodeState,
    REPO_ROOT,
    rollConfig,
    runRoll,
    startHardeningCluster,
    TARGET_VERSION,
    UPGRADE_COMMAND,
    upgraded,
} from "./harness";

const ROLLED = ["w1", "w2"];
const totals = { scenarios: 0, faults: 0, pdbViolations: 0, replicasLost: 0, evictions: 0 };

interface Outcome {
    cluster: HardeningCluster;
    first: RunResult<unknown>;
    /**
     * Faults injected outside the simulator (a killed provider host, a failing upgrade command): each one that
     * the test saw take effect. Everything injected through the simulator is counted by it, where it fired.
     */
    extraFaults: number;
}

/** Checks the invariants of a finished scenario and adds it to the totals. */
async function account(name: string, o: Outcome) {
    const inv = o.cluster.invariants;
    const lost = await inv.replicasLost(90);
    totals.scenarios++;
    totals.faults += o.cluster.sim.faults.injected() + o.extraFaults;
    totals.pdbViolations += inv.violations.length + inv.belowBudget.length;
    totals.replicasLost += lost.total;
    totals.evictions += inv.disruptions.length;
    const byType = Object.entries(o.cluster.sim.faults.injectedByType()).map(([k, v]) => `${k}=${v}`);
    if (o.extraFaults) byType.push(`other=${o.extraFaults}`);
    console.log(
        `      [${name}] faults: ${byType.join(" ") || "none"}; pods disrupted: ${inv.disruptions.length}; budget checks: ${inv.checks()} after ${inv.changes} changes`,
    );
    assert.deepStrictEqual(inv.belowBudget, [], `${name}: a PodDisruptionBudget fell below what it needs`);
    assert.deepStrictEqual(inv.violations, [], `${name}: PodDisruptionBudget violated`);
    assert.deepStrictEqual(inv.badBindings, [], `${name}: a replacement landed on a cordoned node`);
    assert.strictEqual(lost.total, 0, `${name}: replicas lost: ${lost.detail.join("; ")}`);
    for (const n of ROLLED) assert.ok(upgraded(o.cluster.sim, n), `${name}: ${n} ${JSON.stringify(nodeState(o.cluster.sim, n))}`);
    for (const n of ["w3", "w4", "cp"]) assert.strictEqual(nodeState(o.cluster.sim, n).unschedulable, false, `${name}: ${n} was cordoned`);
}

/** Every rule really fired, none more often than its `count` allows. */
function assertRulesFired(sim: SimCluster) {
    for (const r of sim.faults.list()) {
        const rule = JSON.stringify({ ...r, injected: undefined });
        assert.ok(r.injected >= 1, `rule ${rule} never fired`);
        if (r.count !== undefined) assert.ok(r.injected <= r.count, `rule ${rule} fired ${r.injected} times`);
    }
}

/** The answers the simulator sent from its error rules (status per injected answer). */
function injectedAnswers(sim: SimCluster): RequestLogEntry[] {
    return sim.requestLog().filter((e) => e.injected);
}

const selectorsOf = (e: RequestLogEntry) => {
    const q = new URLSearchParams(e.query);
    return `${q.get("labelSelector") ?? ""}|${q.get("fieldSelector") ?? ""}`;
};

/** The state of a roll stopped at `node`: cordoned by us, not upgraded; every later node untouched. */
function assertStoppedAt(sim: SimCluster, result: RunResult<unknown>, node: string, later: string[]) {
    assert.ok(!result.ok, "the roll should have failed");
    const s = nodeState(sim, node);
    assert.ok(s.unschedulable && s.cordonedByUs, `${node} should stay cordoned: ${JSON.stringify(s)}`);
    for (const n of later) {
        assert.deepStrictEqual(
            nodeState(sim, n),
            { unschedulable: false, ready: true, kubeletVersion: "v1.28.5", cordonedByUs: false },
            `${n} was touched`,
        );
        assert.ok(!result.registered.some((r) => r.endsWith(`::roll-${n}-cordon`)), `${n}'s chain registered`);
        assert.ok(!sim.requestLog().some((r) => r.method !== "GET" && r.path.includes(`/nodes/${n}`)), `${n} was written to`);
    }
}

describe("hardening: fault suite (full rolls against a misbehaving simulated cluster)", function () {
    this.timeout(120_000);
    let host: DynamicProviderHost;
    let cluster: HardeningCluster | undefined;

    before(async () => {
        await loadComponents();
        host = await DynamicProviderHost.start();
    });

    afterEach(async () => {
        await cluster?.stop();
        cluster = undefined;
    });

    after(async () => {
        await host?.stop();
        console.log(
            `      fault suite: scenarios=${totals.scenarios} faults_injected=${totals.faults} ` +
                `pdb_violations=${totals.pdbViolations} replicas_lost=${totals.replicasLost}`,
        );
        assert.strictEqual(totals.pdbViolations, 0);
        assert.strictEqual(totals.replicasLost, 0);
    });

    /** A roll that must succeed despite transient faults (the engine retries; nothing fails). */
    async function survives(
        seed: number,
        faults: FaultRule[],
        setup?: (c: HardeningCluster) => void,
        clusterOptions: { upgradeDownSeconds?: number } = {},
    ): Promise<Outcome> {
        cluster = await startHardeningCluster({ seed, ...clusterOptions });
        for (const f of faults) cluster.sim.faults.add(f);
        setup?.(cluster);
        const first = await runRoll(newEngine(host), rollConfig(cluster));
        assert.ok(first.ok, first.error?.message);
        return { cluster, first, extraFaults: 0 };
    }

    it("bursts of HTTP 500 on evictions, pod lists, node reads, watches and patches: the roll rides them out", async () => {
        const o = await survives(
            101,
            [
                { verb: "create", resource: "pods/eviction", status: 500, rate: 0.5, count: 6 },
                { verb: "list", resource: "pods", status: 500, rate: 0.5, count: 4 },
                { verb: "get", resource: "nodes", status: 500, rate: 0.3, count: 4 },
                { verb: "watch", resource: "nodes", status: 500, count: 2 },
                { verb: "patch", resource: "nodes", status: 500, count: 2 },
            ],
            undefined,
            // Each node stays down 240 simulated seconds (4 real): the Ready step finds it down and watches it, so
            // the watch fault fires however busy the machine is.
            { upgradeDownSeconds: 240 },
        );
        const sim = o.cluster.sim;
        assertRulesFired(sim);
        assert.ok(sim.faults.injected() >= 10, `only ${sim.faults.injected()} faults fired`);
        // every counted fault is an answer the client really got
        assert.deepStrictEqual(
            injectedAnswers(sim).map((e) => e.status),
            Array(sim.faults.injected()).fill(500),
        );
        await account("500 bursts", o);
    });

    it("bursts of HTTP 503 (apiserver restarting): the roll rides them out", async () => {
        const o = await survives(102, [
            { verb: "create", resource: "pods/eviction", status: 503, rate: 0.5, count: 6 },
            { verb: "list", resource: "pods", status: 503, count: 3 },
            { verb: "watch", resource: "pods", status: 503, count: 2 },
            { verb: "get", resource: "nodes", status: 503, rate: 0.3, count: 4 },
            { verb: "list", resource: "poddisruptionbudgets", status: 503, count: 2 },
        ]);
        const sim = o.cluster.sim;
        assertRulesFired(sim);
        assert.ok(sim.faults.injected() >= 10, `only ${sim.faults.injected()} faults fired`);
        assert.deepStrictEqual(
            injectedAnswers(sim).map((e) => e.status),
            Array(sim.faults.injected()).fill(503),
        );
        await account("503 bursts", o);
    });

    it("HTTP 429 with Retry-After (priority and fairness) on evictions, lists and node reads: honoured, not fatal", async () => {
        const o = await survives(103, [
            { verb: "create", resource: "pods/eviction", status: 429, retryAfterSeconds: 1, count: 4 },
            { verb: "list", resource: "pods", status: 429, retryAfterSeconds: 1, count: 2 },
            { verb: "get", resource: "nodes", status: 429, retryAfterSeconds: 1, plainText: true, count: 2 },
            { verb: "patch", resource: "nodes", status: 429, retryAfterSeconds: 1, count: 1 },
        ]);
        const sim = o.cluster.sim;
        assertRulesFired(sim);
        const answered = injectedAnswers(sim);
        assert.deepStrictEqual(
            answered.map((e) => [e.status, e.retryAfterSeconds]),
            Array(sim.faults.injected()).fill([429, 1]),
        );
        // Retry-After is in real seconds (the client cannot know the simulator runs 60× faster): after each 429 on
        // an eviction or a node patch, the same request came again no earlier than 1 s × timeScale of simulated
        // time after the 429 was sent (the log's times are simulated ms; 1 real ms of clock rounding allowed).
        const scale = sim.clock.timeScale;
        const waited: string[] = [];
        for (const e of answered.filter((x) => x.method === "POST" || x.method === "PATCH")) {
            const again = sim.requestLog().find((x) => x !== e && x.method === e.method && x.path === e.path && x.received! >= e.time);
            assert.ok(again, `${e.method} ${e.path} was never retried after its 429`);
            const gap = again.received! - e.time;
            assert.ok(
                gap >= e.retryAfterSeconds! * 1000 * scale - scale,
                `${e.method} ${e.path}: retried ${gap / scale} real ms after a 429 with Retry-After: ${e.retryAfterSeconds}`,
            );
            waited.push(`${(gap / scale / 1000).toFixed(2)}s`);
        }
        assert.ok(waited.length >= 2, `only ${waited.length} evictions or node patches got a 429`);
        console.log(`      [429 + Retry-After] retried after (real): ${waited.join(" ")}`);
        await account("429 + Retry-After", o);
    });

    it("connection resets (the socket dies without an answer) during drains and waits", async () => {
        const o = await survives(104, [
            { type: "reset", verb: "create", resource: "pods/eviction", rate: 0.4, count: 5 },
            { type: "reset", verb: "list", resource: "pods", count: 2 },
            { type: "reset", verb: "get", resource: "nodes", rate: 0.3, count: 4 },
            { type: "reset", verb: "watch", resource: "nodes", count: 2 },
            { type: "reset", verb: "patch", resource: "nodes", count: 1 },
        ]);
        const sim = o.cluster.sim;
        const resets = sim.requestLog().filter((r) => r.reset);
        assert.ok(resets.length > 0, "no connection was reset");
        assert.deepStrictEqual(sim.faults.injectedByType(), { reset: resets.length }, "every counted reset is a socket really destroyed");
        await account("connection resets", o);
    });

    it("added latency on every request (and slow evictions): answers really held back, budgets still kept", async () => {
        const o = await survives(105, [
            { type: "latency", ms: 60, rate: 0.5 },
            { type: "latency", verb: "create", resource: "pods/eviction", ms: 400, count: 6 },
        ]);
        const sim = o.cluster.sim;
        const scale = sim.clock.timeScale;
        const delayed = sim.requestLog().filter((e) => e.latencyMs);
        assert.strictEqual(delayed.length, sim.faults.injectedByType().latency, "every counted delay is a request that was held back");
        // Each delayed request was answered no sooner than its delay (real ms; the log's times are simulated ms).
        for (const e of delayed) {
            assert.ok(
                e.time - e.received! >= (e.latencyMs! - 1) * scale,
                `${e.method} ${e.path}${e.query ? `?${e.query}` : ""}: held ${(e.time - e.received!) / scale} ms, not ${e.latencyMs}`,
            );
        }
        const slowEvictions = delayed.filter((e) => e.verb === "create" && e.resource === "pods/eviction" && e.latencyMs! >= 400);
        assert.strictEqual(slowEvictions.length, 6);
        assert.ok(delayed.length > slowEvictions.length + 20, `only ${delayed.length} requests were delayed`);
        await account("latency", o);
    });

    it("dropped watches and 410 Gone (compacted history) during drains and node waits", async () => {
        const o = await survives(106, [{ type: "dropWatch", verb: "watch", afterEvents: 1, rate: 0.5, count: 12 }], (c) => {
            // Compact the history and cut every open watch at the worst moments: when a drain is evicting, and
            // when a node goes NotReady for its upgrade. Clients must re-list (410) instead of missing events.
            let evictions = 0;
            const compacted = new Set<string>();
            const cut = () =>
                setImmediate(() => {
                    c.sim.compactWatchHistory();
                    c.sim.dropWatches();
                });
            c.sim.subscribe((e) => {
                if (
                    e.resource === "pods" &&
                    e.type === "MODIFIED" &&
                    e.object.metadata?.deletionTimestamp &&
                    !e.old?.metadata?.deletionTimestamp
                ) {
                    if (++evictions % 4 === 1) cut();
                }
                if (e.resource === "nodes" && ROLLED.includes(e.object.metadata?.name)) {
                    const ready = (n: any) => (n?.status?.conditions ?? []).some((x: any) => x.type === "Ready" && x.status === "True");
                    if (ready(e.old) && !ready(e.object) && !compacted.has(e.object.metadata.name)) {
                        compacted.add(e.object.metadata.name);
                        cut();
                    }
                }
            });
        });
        const sim = o.cluster.sim;
        const log = sim.requestLog();
        const byType = sim.faults.injectedByType();
        // Watches were really cut (by the rule and by the cuts above) ...
        const dropped = log.filter((e) => e.dropped);
        assert.ok(dropped.length > 0, "no watch was cut");
        assert.strictEqual(byType.dropWatch, dropped.length, "every counted drop is a watch that was really cut");
        // ... 410s were really served ...
        const gone = log.filter((e) => e.expired);
        assert.ok(gone.length > 0, "no 410 was served: the compactions never reached a client");
        assert.strictEqual(byType.expired, gone.length);
        // ... and each client that got one recovered: it listed again (the roll then completed, above), and it
        // never asked for the expired resourceVersion again.
        const rvOf = (x: RequestLogEntry) => new URLSearchParams(x.query).get("resourceVersion");
        for (const e of gone) {
            const same = (x: RequestLogEntry) => x.path === e.path && selectorsOf(x) === selectorsOf(e) && x.received! >= e.time;
            const relist = log.find((x) => same(x) && x.verb === "list" && x.status === 200);
            assert.ok(relist, `no list of ${e.path} (${selectorsOf(e)}) after its 410`);
            const stale = log.filter((x) => x !== e && same(x) && x.verb === "watch" && rvOf(x) === rvOf(e));
            assert.deepStrictEqual(stale, [], `${e.path} (${selectorsOf(e)}) watched again from the expired resourceVersion ${rvOf(e)}`);
        }
        console.log(
            `      [watch drops + 410] watches cut: ${dropped.length}; 410s served: ${gone.length} (${[...new Set(gone.map((e) => e.path))].join(", ")})`,
        );
        await account("watch drops + 410", o);
    });

    it("a node that never comes back Ready: the roll stops at it (cordoned, error names it and what was last seen); a rerun after repair completes", async () => {
        cluster = await startHardeningCluster({ seed: 107 });
        cluster.sim.faults.add({ type: "nodeNeverReturns", node: "w1" });
        const engine = newEngine(host);
        const first = await runRoll(engine, rollConfig(cluster, { readyTimeout: "3s" }));
        assertStoppedAt(cluster.sim, first, "w1", ["w2"]);
        assert.match(
            first.error!.message,
            /NodeReady w1: timed out after 3s waiting for node w1: node w1 is NotReady at v1\.28\.5, waiting for Ready at v1\.28\.6/,
        );
        assert.ok(
            first.registered.some((r) => r.endsWith("::roll-w1-ready")) && !first.registered.some((r) => r.endsWith("::roll-w1-uncordon")),
        );
        assert.deepStrictEqual(cluster.sim.faults.injectedByType(), { nodeNeverReturns: 1 }, "one upgrade, one node that stayed down");

        // The operator repairs the node (here: the kubelet is restarted at the target), then runs `pulumi up` again.
        cluster.sim.faults.clear();
        await cluster.sim.upgradeNode("w1", TARGET_VERSION, { downSeconds: 1 });
        const second = await runRoll(engine, rollConfig(cluster, { readyTimeout: "30s" }));
        assert.ok(second.ok, second.error?.message);
        const ops = Object.fromEntries(second.ops.filter((x) => x.op !== "delete").map((x) => [x.name, x.op]));
        // w1 did not finish (still cordoned by us), so its chain runs again from the cordon: the drain finds it
        // empty, the (idempotent) script runs again right after it, then the wait that failed before.
        assert.strictEqual(ops["roll-w1-cordon"], "update");
        assert.strictEqual(ops["roll-w1-drain"], "update");
        assert.strictEqual(ops["roll-w1-upgrade"], "replace");
        assert.strictEqual(ops["roll-w1-ready"], "create");
        await account("node never Ready", { cluster, first, extraFaults: 0 });
    });

    it("an upgrade command that fails: the roll stops at that node (cordoned, drained, error carries the command's output); fixed, it resumes", async () => {
        cluster = await startHardeningCluster({ seed: 108 });
        const engine = newEngine(host);
        const failing = `if [ "$NODE_NAME" = w1 ]; then echo "E: Unable to locate package kubelet=$TARGET_SEMVER-1.1" >&2; exit 100; fi; ${UPGRADE_COMMAND}`;
        const first = await runRoll(engine, rollConfig(cluster, { upgradeCommand: failing }));
        assertStoppedAt(cluster.sim, first, "w1", ["w2"]);
        assert.match(
            first.error!.message,
            /roll-w1-upgrade: Process exited with status 100: running ".*":\nE: Unable to locate package kubelet=1\.28\.6-1\.1/s,
        );
        // Drained before the command ran: only the DaemonSet pod is left on it.
        const left = cluster.sim
            .list("Pod")
            .filter((p) => p.spec?.nodeName === "w1" && !p.metadata.deletionTimestamp)
            .map((p) => p.metadata.name);
        assert.deepStrictEqual(left, ["kube-proxy-w1"]);

        const second = await runRoll(engine, rollConfig(cluster));
        assert.ok(second.ok, second.error?.message);
        await account("failing upgrade command", { cluster, first, extraFaults: 1 });
    });

    it("evictions refused for longer than the drain timeout (persistent 503): stops at the node with the cause; resumes once the API recovers", async () => {
        cluster = await startHardeningCluster({ seed: 109 });
        const engine = newEngine(host);
        const rule = cluster.sim.faults.add({ verb: "create", resource: "pods/eviction", status: 503 });
        const first = await runRoll(engine, rollConfig(cluster, { drainTimeout: "3s" }));
        assertStoppedAt(cluster.sim, first, "w1", ["w2"]);
        const message = first.error!.message;
        assert.match(message, /NodeDrain w1: drain of node "w1" timed out/);
        assert.match(message, /the server is currently unable to handle the request/);
        assert.match(message, /The node stays cordoned\..*run `pulumi up` again: the roll resumes at this node\./s);
        assert.ok(!message.includes(cluster.sim.token), "the error must not contain the token");

        cluster.sim.faults.remove(rule);
        const second = await runRoll(engine, rollConfig(cluster));
        assert.ok(second.ok, second.error?.message);
        await account("persistent 503", { cluster, first, extraFaults: 0 });
    });

    it("connections reset on every pod list for longer than the drain timeout: stops at the node naming the reset; resumes once the network heals", async () => {
        cluster = await startHardeningCluster({ seed: 112 });
        const engine = newEngine(host);
        const rule = cluster.sim.faults.add({ type: "reset", verb: "list", resource: "pods" });
        const first = await runRoll(engine, rollConfig(cluster, { drainTimeout: "3s" }));
        assertStoppedAt(cluster.sim, first, "w1", ["w2"]);
        assert.match(first.error!.message, /NodeDrain w1: .*(socket hang up|ECONNRESET|reset)/is);
        assert.match(first.error!.message, /The node stays cordoned\./);
        cluster.sim.faults.remove(rule);
        const second = await runRoll(engine, rollConfig(cluster));
        assert.ok(second.ok, second.error?.message);
        await account("sustained resets", { cluster, first, extraFaults: 0 });
    });

    it("a roll interrupted in the middle of a drain (the provider host is killed) resumes on the next run without breaking a budget", async () => {
        cluster = await startHardeningCluster({ seed: 110 });
        const doomed = await DynamicProviderHost.start();
        const engine = newEngine(doomed);
        let killed = false;
        let evictionsOnW1 = 0;
        const stopWatching = cluster.sim.subscribe((e) => {
            if (killed || e.resource !== "pods" || e.type !== "MODIFIED") return;
            if (
                e.object.spec?.nodeName === "w1" &&
                e.object.metadata?.deletionTimestamp &&
                !e.old?.metadata?.deletionTimestamp &&
                ++evictionsOnW1 === 3
            ) {
                killed = true;
                setImmediate(() => void doomed.stop());
            }
        });
        const first = await runRoll(engine, rollConfig(cluster));
        stopWatching();
        assert.ok(killed, "the drain never got going");
        // The SDK's words for an engine or provider host that went away mid-operation.
        assert.match(first.error?.message ?? "", /Resource monitor is terminating|UNAVAILABLE|Connection dropped/);
        assertStoppedAt(cluster.sim, first, "w1", ["w2"]);
        assert.ok(
            !engine.state.has("pulumi-nodejs:dynamic/node-upgrade:NodeDrain::roll-w1-drain"),
            "the interrupted drain must not be in state",
        );
        const stillThere = cluster.sim
            .list("Pod")
            .filter((p) => p.spec?.nodeName === "w1" && !p.metadata.deletionTimestamp && !p.metadata.name.startsWith("kube-proxy"));
        assert.ok(stillThere.length > 0, "the drain should have been cut short");

        // `pulumi up` again: a new host, the state the engine saved (the cordon, done).
        const resumed = new LocalEngine(host, { cwd: REPO_ROOT });
        for (const [k, v] of engine.state) resumed.state.set(k, v);
        const second = await runRoll(resumed, rollConfig(cluster));
        assert.ok(second.ok, second.error?.message);
        const ops = Object.fromEntries(second.ops.map((x) => [x.name, x.op]));
        // Unfinished, so the chain runs again from the cordon (which finds w1 still cordoned by us).
        assert.strictEqual(ops["roll-w1-cordon"], "update");
        assert.strictEqual(ops["roll-w1-drain"], "create");
        await account("interrupted mid-drain", { cluster, first, extraFaults: 1 });
    });

    it("self-test of the budget audit: a drain that bypasses budgets (disableEviction, no pacing) is caught", async () => {
        cluster = await startHardeningCluster({ seed: 111 });
        const r = await runRoll(
            newEngine(host),
            rollConfig(cluster, { nodes: ["w1"], drainDisableEviction: true, drainMaxUnavailablePerWorkload: 0 }),
        );
        assert.ok(r.ok, r.error?.message);
        assert.ok(cluster.invariants.violations.length > 0, "deleting web's two pods on w1 at once must be reported");
        assert.match(
            cluster.invariants.violations.join("\n"),
            /shop\/web-.* went away leaving 4 healthy pods of budget shop\/web, which needs 5/,
        );
        // the change-by-change check sees the same dip, and how low it went
        assert.match(
            cluster.invariants.belowBudget.join("\n"),
            /^shop\/web: 4 healthy pods, needs 5 \(after pods shop\/web-\S+ started terminating\)$/m,
        );
        assert.deepStrictEqual(cluster.invariants.floorsSeen()["shop/web"], { desired: 5, minHealthy: 4 });
    });
});
