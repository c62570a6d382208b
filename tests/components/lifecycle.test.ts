// Lifecycle of the root program against the simulated cluster, through the real dynamic-provider host and a
// local engine (local-engine): first roll, no-op rerun, version bump, failure and resume, destroy. The
// upgrade "over SSH" is the simulator's upgrade-node command run locally.
import * as assert from "assert";
import { DynamicProviderHost, LocalEngine, OpRecord, REPO_ROOT } from "../../local-engine";
import {
    nodeState,
    readyPods,
    SIM_UPGRADE_COMMAND,
    simStackConfig,
    startTestCluster,
    TestCluster,
    writeRequests,
} from "../helpers/pulumi-sim";
import type { SimCluster } from "../../sim";
import { loadComponents, stepsOf, type Components } from "../helpers/components";

/**
 * Runs `check` on the cluster as it is now and after EVERY change of the simulated API server's store (each object
 * write), so a dip between two writes cannot be missed the way a timer's samples can miss it. Returns a stop().
 */
function onEveryChange(sim: SimCluster, check: () => void): () => void {
    check();
    const unsubscribe = sim.subscribe(() => check());
    return () => {
        unsubscribe();
        check();
    };
}
import type { RollingNodeUpgradeReport } from "../../components/rolling-node-upgrade";

let c: Components;

/** The simulated node upgrade, with every value coming from the environment the component sets. */

const configFor = simStackConfig;

const roll = () => c.rollFromConfig().report;
const label = (o: OpRecord) => o.name.replace(/^roll-/, "");

describe("components: lifecycle against the simulated cluster (real provider host, mini engine)", function () {
    let host: DynamicProviderHost;

    before(async () => {
        c = await loadComponents();
        host = await DynamicProviderHost.start();
    });

    after(async () => {
        await host?.stop();
    });

    describe("seed cluster: master, worker1, worker2 from v1.19.0", () => {
        let cluster: TestCluster;
        let engine: LocalEngine;
        before(async () => {
            // The seed cluster as it is: http-go (10 replicas, 6 on worker1) has NO PodDisruptionBudget. The drain's
            // workload-aware pacing (drainMaxUnavailablePerWorkload, default 1) keeps it at ≥ 9 Ready replicas.
            cluster = await startTestCluster("seed");
            assert.deepStrictEqual(cluster.sim.list("PodDisruptionBudget"), [], "the seed cluster has no PodDisruptionBudget");
            engine = new LocalEngine(host, { cwd: REPO_ROOT });
        });
        after(async () => cluster?.stop());

        it("first run upgrades master, then worker1, then worker2, one node down at a time, http-go always ≥ 9 Ready", async () => {
            const config = configFor(cluster, { nodes: ["worker1", "master", "worker2"], targetVersion: "v1.20.0" });
            let maxCordoned = 0;
            let minHttpGo = Infinity;
            const stop = onEveryChange(cluster.sim, () => {
                const cordoned = ["master", "worker1", "worker2"].filter((n) => nodeState(cluster.sim, n).unschedulable).length;
                maxCordoned = Math.max(maxCordoned, cordoned);
                minHttpGo = Math.min(minHttpGo, readyPods(cluster.sim, "default", "http-go-"));
            });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            stop();
            assert.ok(result.ok, result.error?.message);
            assert.strictEqual(maxCordoned, 1, "two nodes were cordoned at the same time");
            assert.ok(minHttpGo >= 9, `http-go dropped to ${minHttpGo} Ready replicas`);
            // It was the drain's pacing that held the line: pods waited for http-go's replacements.
            await waitFor(() =>
                host
                    .output()
                    .some((l) => /waiting for default\/http-go to have 10 Ready replicas \(has 9; maxUnavailablePerWorkload 1\)/.test(l)),
            );

            // Dependency order: each node's whole chain, node after node, control plane first.
            const steps = stepsOf(result.ops, "create").sort((a, b) => a.start - b.start);
            assert.deepStrictEqual(
                steps.map(label),
                ["master", "worker1", "worker2"].flatMap((n) =>
                    ["cordon", "drain", "upgrade", "ready", "uncordon"].map((s) => `${n}-${s}`),
                ),
            );
            for (let i = 1; i < steps.length; i++)
                assert.ok(steps[i].start >= steps[i - 1].end, `${steps[i].name} overlapped ${steps[i - 1].name}`);

            for (const n of ["master", "worker1", "worker2"]) {
                assert.deepStrictEqual(
                    nodeState(cluster.sim, n),
                    { unschedulable: false, ready: true, kubeletVersion: "v1.20.0", cordonedByUs: false },
                    n,
                );
            }
            const report = result.value as RollingNodeUpgradeReport;
            assert.deepStrictEqual(report.batches, [["master"], ["worker1"], ["worker2"]]);
            const worker1 = report.nodes.find((n) => n.node === "worker1")!;
            assert.strictEqual(worker1.versionBefore, "v1.19.0");
            assert.strictEqual(worker1.versionAfter, "v1.20.0");
            assert.strictEqual(worker1.evictedPods.filter((p) => p.startsWith("default/http-go-")).length, 6);
            // Six paced evictions take time; the node's total includes its drain and its wait for Ready.
            assert.ok(worker1.drainSeconds > 0, `drainSeconds ${worker1.drainSeconds}`);
            assert.ok(worker1.totalSeconds >= worker1.drainSeconds + worker1.readyWaitSeconds - 0.2, JSON.stringify(worker1)); // each rounded to 0.1 s
            assert.ok(Date.parse(worker1.finishedAt) > Date.parse(worker1.startedAt));
            assert.ok(!JSON.stringify(report).includes("token"), "the report must not contain credentials");

            // The kubeconfig stays secret in state; the upgrade really ran the simulator command.
            const cordonState = engine.state.get("pulumi-nodejs:dynamic/node-upgrade:NodeCordon::roll-worker1-cordon")!;
            assert.ok(cordonState.secretOutputs.includes("kubeconfig"));
            assert.ok(engine.commandOutput.has("roll-worker1-upgrade"));
        });

        it("a second run changes nothing and sends no write to the cluster", async () => {
            const config = configFor(cluster, { nodes: ["worker1", "master", "worker2"], targetVersion: "v1.20.0" });
            cluster.sim.clearRequestLog();
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(result.ok, result.error?.message);
            assert.deepStrictEqual(
                stepsOf(result.ops).filter((o) => o.op !== "same"),
                [],
            );
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
        });

        it("preview of a version bump plans an update of every step in order and writes nothing", async () => {
            const config = configFor(cluster, { nodes: ["worker1", "master", "worker2"], targetVersion: "v1.21.0" });
            cluster.sim.clearRequestLog();
            const logged: string[] = [];
            const original = console.log;
            console.log = (...a: any[]) => logged.push(a.join(" "));
            let result;
            try {
                result = await engine.run(roll, { config, secretKeys: ["kubeconfig"], preview: true });
            } finally {
                console.log = original;
            }
            assert.ok(result.ok, result.error?.message);
            // The planner's read-only verdict, one block per node in roll order.
            const blocks = logged.filter((l) => l.startsWith("info: [runtime] ["));
            assert.deepStrictEqual(
                blocks.map((l) => /^info: \[runtime\] \[(\d\/3)\] (\S+)/.exec(l)!.slice(1).join(" ")),
                ["1/3 master", "2/3 worker1", "3/3 worker2"],
            );
            assert.match(blocks[1], /v1\.20\.0 -> v1\.21\.0/);
            // http-go has no budget here: the drain's workload pacing makes worker1's pods wait for Ready replacements.
            assert.match(blocks[1], /: waits for Ready replacements of default\/http-go \(maxUnavailablePerWorkload 1\)/);
            assert.doesNotMatch(blocks[1], /PodDisruptionBudget|BLOCKED/);
            const planned = stepsOf(result.ops);
            assert.strictEqual(planned.length, 15, planned.map((o) => `${o.op} ${o.name}`).join("\n"));
            // The steps update; each upgrade command is replaced (its trigger is the cordon's run id, unknown here).
            const expected = (o: OpRecord) => (o.type === "command:remote:Command" ? "plan-replace" : "plan-update");
            assert.ok(
                planned.every((o) => o.op === expected(o)),
                planned.map((o) => `${o.op} ${o.name}`).join("\n"),
            );
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            assert.strictEqual(nodeState(cluster.sim, "master").kubeletVersion, "v1.20.0");
        });

        it("raising the target version re-rolls the nodes in order (updates)", async () => {
            const config = configFor(cluster, { nodes: ["worker1", "master", "worker2"], targetVersion: "v1.21.0" });
            let maxCordoned = 0;
            const stop = onEveryChange(cluster.sim, () => {
                maxCordoned = Math.max(
                    maxCordoned,
                    ["master", "worker1", "worker2"].filter((n) => nodeState(cluster.sim, n).unschedulable).length,
                );
            });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            stop();
            assert.ok(result.ok, result.error?.message);
            assert.strictEqual(maxCordoned, 1);
            const steps = stepsOf(result.ops)
                .filter((o) => o.op !== "delete")
                .sort((a, b) => a.start - b.start);
            // The steps run again as updates; each upgrade command is replaced: a new one runs `create`, and the old
            // one's delete (no delete command: nothing runs) comes after the whole roll.
            assert.ok(
                steps.every((o) => o.op === (o.type === "command:remote:Command" ? "replace" : "update")),
                steps.map((o) => `${o.op} ${o.name}`).join("\n"),
            );
            const deletes = stepsOf(result.ops, "delete");
            assert.deepStrictEqual(deletes.map(label).sort(), ["master-upgrade", "worker1-upgrade", "worker2-upgrade"]);
            assert.ok(
                deletes.every((d) => d.start >= Math.max(...steps.map((o) => o.end))),
                "replaced commands are deleted at the end",
            );
            assert.deepStrictEqual(
                steps.map(label),
                ["master", "worker1", "worker2"].flatMap((n) =>
                    ["cordon", "drain", "upgrade", "ready", "uncordon"].map((s) => `${n}-${s}`),
                ),
            );
            for (const n of ["master", "worker1", "worker2"]) assert.strictEqual(nodeState(cluster.sim, n).kubeletVersion, "v1.21.0");
        });

        it("refresh (Read through the host) reports the live nodes and changes nothing", async () => {
            cluster.sim.clearRequestLog();
            const config = configFor(cluster, { nodes: ["worker1", "master", "worker2"], targetVersion: "v1.21.0" });
            const refreshed = await engine.refresh({ config, secretKeys: ["kubeconfig"] });
            assert.ok(refreshed.ok, refreshed.errors.map((e) => e.message).join("\n"));
            assert.deepStrictEqual(refreshed.removed, []);
            const entries = [...engine.state.values()].filter((e) => e.type.startsWith("pulumi-nodejs:"));
            assert.strictEqual(entries.length, 12);
            for (const e of entries) {
                if (e.type.endsWith(":NodeReady")) assert.strictEqual(e.outputs.kubeletVersion, "v1.21.0");
                if (e.type.endsWith(":NodeCordon")) assert.strictEqual(e.outputs.observedUnschedulable, false);
                assert.strictEqual(typeof e.outputs.__provider, "string");
            }
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            // Refreshing changes nothing the next `up` does.
            const after = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(after.ok, after.error?.message);
            assert.deepStrictEqual(
                stepsOf(after.ops).filter((o) => o.op !== "same"),
                [],
            );
        });

        it("destroying the stack never evicts, cordons or uncordons anything", async () => {
            cluster.sim.clearRequestLog();
            host.clearOutput();
            const ops = await engine.destroy();
            assert.strictEqual(ops.length, 15);
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            // The providers have no delete: the host runs no provider code at all.
            assert.deepStrictEqual(
                host.output().filter((l) => l.includes("node-upgrade")),
                [],
            );
            assert.strictEqual(engine.state.size, 0);
        });
    });

    describe("pdb cluster: a PodDisruptionBudget blocks worker1", () => {
        let cluster: TestCluster;
        let engine: LocalEngine;
        const nodes = ["control-plane", "worker1", "worker2"];
        before(async () => {
            cluster = await startTestCluster("pdb");
            engine = new LocalEngine(host, { cwd: REPO_ROOT });
        });
        after(async () => cluster?.stop());

        it("preview warns on the BLOCKED node; with failOnBlockedPlan the preview fails naming it, and writes nothing", async () => {
            cluster.sim.clearRequestLog();
            const logged: string[] = [];
            const original = console.warn;
            console.warn = (...a: any[]) => logged.push(a.join(" "));
            try {
                const warned = await engine.run(roll, {
                    config: configFor(cluster, { nodes, targetVersion: "v1.28.6", drainTimeout: "3s" }),
                    secretKeys: ["kubeconfig"],
                    preview: true,
                });
                assert.ok(warned.ok, warned.error?.message);
                assert.ok(
                    logged.some((l) => /^warning: \[runtime\] \[2\/3\] worker1 v1\.28\.5 -> v1\.28\.6: BLOCKED/.test(l)),
                    logged.join("\n"),
                );
                const failed = await engine.run(roll, {
                    config: configFor(cluster, { nodes, targetVersion: "v1.28.6", drainTimeout: "3s", failOnBlockedPlan: true }),
                    secretKeys: ["kubeconfig"],
                    preview: true,
                });
                assert.ok(!failed.ok);
                // worker1 first; the plan goes on past it (the critical pod would block wherever it lands next).
                assert.match(
                    failed.error!.message,
                    /the roll plan is BLOCKED at worker1(, worker2)? \(see the warnings above\); failOnBlockedPlan is set, so the preview fails/,
                );
            } finally {
                console.warn = original;
            }
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
        });

        it("stops at the blocked node: it stays cordoned, the error names the pod and the budget, later nodes are untouched", async () => {
            const config = configFor(cluster, { nodes, targetVersion: "v1.28.6", drainTimeout: "3s" });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(!result.ok, "the roll should fail");
            const message = result.error!.message;
            assert.match(message, /NodeDrain worker1: drain of node "worker1" timed out/);
            assert.match(
                message,
                /pod default\/critical-5f7c8d9b6d-q2x7k: PodDisruptionBudget default\/critical-pdb allows no disruption \(needs 1 healthy pod and has 1; 0 disruptions allowed\)/,
            );
            assert.match(message, /The node stays cordoned\. .* run `pulumi up` again: the roll resumes at this node\./);
            assert.ok(!message.includes(cluster.sim.token), "the error must not contain the token");

            assert.deepStrictEqual(nodeState(cluster.sim, "control-plane"), {
                unschedulable: false,
                ready: true,
                kubeletVersion: "v1.28.6",
                cordonedByUs: false,
            });
            assert.deepStrictEqual(nodeState(cluster.sim, "worker1"), {
                unschedulable: true,
                ready: true,
                kubeletVersion: "v1.28.5",
                cordonedByUs: true,
            });
            assert.deepStrictEqual(nodeState(cluster.sim, "worker2"), {
                unschedulable: false,
                ready: true,
                kubeletVersion: "v1.28.5",
                cordonedByUs: false,
            });
            assert.ok(!writeRequests(cluster.sim).some((r) => r.includes("worker2")), "worker2 was touched");
            assert.ok(!result.registered.some((r) => r.includes("roll-worker2-cordon")), "worker2's chain must not even register");
            assert.ok(!result.registered.some((r) => r.includes("roll-worker1-upgrade")));
        });

        it("after the budget is relaxed, a rerun resumes at the failed node and completes the roll", async () => {
            const pdb = cluster.sim.get("PodDisruptionBudget", "default", "critical-pdb");
            cluster.sim.apply({
                ...pdb,
                metadata: { name: pdb.metadata.name, namespace: "default" },
                spec: { ...pdb.spec, minAvailable: 0 },
                status: undefined,
            });
            await cluster.sim.settle();
            cluster.sim.clearRequestLog();
            const config = configFor(cluster, { nodes, targetVersion: "v1.28.6", drainTimeout: "3s" });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(result.ok, result.error?.message);
            const steps = stepsOf(result.ops);
            // The control plane is done and stays untouched. worker1 did not finish, so its chain runs again from the
            // cordon (which finds the node still cordoned by us), then its drain, which failed before (so: create).
            assert.ok(steps.filter((o) => o.name.startsWith("roll-control-plane-")).every((o) => o.op === "same"));
            assert.strictEqual(steps.find((o) => o.name === "roll-worker1-cordon")!.op, "update");
            assert.strictEqual(steps.find((o) => o.name === "roll-worker1-drain")!.op, "create");
            assert.ok(!writeRequests(cluster.sim).some((r) => r.includes("control-plane")), "the finished node was touched again");
            for (const n of nodes) {
                assert.deepStrictEqual(
                    nodeState(cluster.sim, n),
                    { unschedulable: false, ready: true, kubeletVersion: "v1.28.6", cordonedByUs: false },
                    n,
                );
            }
        });

        it("a failing upgrade command stops the roll at that node; fixing the command resumes without touching finished nodes", async () => {
            const failing = `if [ "$NODE_NAME" = worker1 ]; then echo "E: Version '$TARGET_SEMVER' for 'kubelet' was not found" >&2; exit 3; fi; ${SIM_UPGRADE_COMMAND}`;
            const first = await engine.run(roll, {
                config: configFor(cluster, { nodes, targetVersion: "v1.28.7", upgradeCommand: failing }),
                secretKeys: ["kubeconfig"],
            });
            assert.ok(!first.ok);
            // @pulumi/command's own text: the exit status, the command as Go quotes it, then its output.
            assert.match(
                first.error!.message,
                /roll-worker1-upgrade: Process exited with status 3: running ".*":\nE: Version '1\.28\.7' for 'kubelet' was not found/s,
            );
            assert.deepStrictEqual(nodeState(cluster.sim, "control-plane").kubeletVersion, "v1.28.7");
            assert.deepStrictEqual(nodeState(cluster.sim, "worker1"), {
                unschedulable: true,
                ready: true,
                kubeletVersion: "v1.28.6",
                cordonedByUs: true,
            });
            assert.strictEqual(nodeState(cluster.sim, "worker2").kubeletVersion, "v1.28.6");
            assert.ok(!first.registered.some((r) => r.includes("roll-worker1-ready") || r.includes("roll-worker2-")));

            cluster.sim.clearRequestLog();
            const fixed = await engine.run(roll, {
                config: configFor(cluster, { nodes, targetVersion: "v1.28.7" }),
                secretKeys: ["kubeconfig"],
            });
            assert.ok(fixed.ok, fixed.error?.message);
            // A new command is a new trigger, so the control plane's steps run again, but they find it at the
            // target and leave it alone: its upgrade is an echo and nothing is written to it.
            assert.ok(!writeRequests(cluster.sim).some((r) => r.includes("control-plane")), writeRequests(cluster.sim).join("\n"));
            assert.match(
                engine.commandOutput.get("roll-control-plane-upgrade")!,
                /control-plane already runs v1\.28\.7; skipping the upgrade/,
            );
            for (const n of nodes) {
                assert.deepStrictEqual(
                    nodeState(cluster.sim, n),
                    { unschedulable: false, ready: true, kubeletVersion: "v1.28.7", cordonedByUs: false },
                    n,
                );
            }
        });
    });
});

/** Waits for what the provider host prints: its output arrives on a pipe, after the operation's answer. */
async function waitFor(pred: () => boolean, ms = 60_000) {
    const until = Date.now() + ms;
    while (!pred()) {
        if (Date.now() > until) throw new Error("condition not met in time");
        await new Promise((r) => setTimeout(r, 20));
    }
}
