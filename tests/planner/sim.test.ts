// `node-upgrade plan` against the simulated HTTPS API server: the pdb scenario's blocking budget is
// named with its numbers, the roll stops where `kubectl drain` would hang, and nothing but GETs is sent.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RollPlan } from "../../planner/types";

const MAIN = join(__dirname, "../../cli/main.js");
const SIM = join(__dirname, "../../sim/index.js");

/** The part of the simulator's API these tests use (sim/ belongs to another helper; loaded at run time). */
interface Sim {
    kubeconfigPath?: string;
    list(kind: string, namespace?: string): any[];
    requestLog(): { method: string; path: string; status: number }[];
    clearRequestLog(): void;
    stop(): Promise<void>;
}

/** Runs the CLI in a child process (async, so the in-process simulator keeps serving). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("node-upgrade plan on the simulated cluster", function () {
    let sim: Sim | undefined;
    let dir: string;

    before(async function () {
        dir = mkdtempSync(join(tmpdir(), "plan-sim-"));
        const { startCluster } = require(SIM);
        sim = (await startCluster({ scenario: "pdb", kubeconfigPath: join(dir, "kubeconfig") })) as Sim;
    });
    after(async () => {
        await sim?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("pdb scenario: names the blocking budget, its namespace and numbers, and where the roll stops; only GETs", async () => {
        const kubeconfig = sim!.kubeconfigPath!;
        const before = JSON.stringify(sim!.list("Pod").map((p) => [p.metadata.name, p.spec.nodeName, p.metadata.resourceVersion]));
        sim!.clearRequestLog();

        const r = await run(["plan", "--all", "--ignore-daemonsets", "--kubeconfig", kubeconfig]);
        assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^\[2\/3\] worker1 v1\.28\.5: BLOCKED$/m);
        assert.match(
            r.stdout,
            /pod default\/critical-5f7c8d9b6d-q2x7k: PodDisruptionBudget default\/critical-pdb needs 1 healthy pods and would have 0 \(0 disruptions allowed, minAvailable 1 of 1 replicas\)/,
        );
        assert.match(r.stdout, /^Roll stops at worker1\. Not reached: worker2\.$/m);
        // worker2 is still planned, as if worker1 were unblocked: critical's pod is recreated there and blocks again.
        assert.match(
            r.stdout,
            /^\[3\/3\] worker2 v1\.28\.5: not reached \(the roll stops at worker1\); after worker1 is unblocked: BLOCKED$/m,
        );
        assert.match(
            r.stdout,
            /a new default\/critical pod \(replacing default\/critical-5f7c8d9b6d-q2x7k\): PodDisruptionBudget default\/critical-pdb/,
        );

        const json = await run(["plan", "--all", "--ignore-daemonsets", "--kubeconfig", kubeconfig, "--json"]);
        assert.equal(json.code, 2, json.stderr);
        const plan = JSON.parse(json.stdout) as RollPlan;
        assert.equal(plan.stopsAt, "worker1");
        assert.deepEqual(plan.notReached, ["worker2"]);
        assert.deepEqual(plan.nodes.find((n) => n.node === "worker2")?.assumesUnblocked, ["worker1"]);
        const worker1 = plan.nodes.find((n) => n.node === "worker1")!;
        const budget = worker1.blocked[0].budget!;
        assert.deepEqual(
            [budget.namespace, budget.name, budget.desiredHealthy, budget.currentHealthy, budget.expectedPods, budget.disruptionsAllowed],
            ["default", "critical-pdb", 1, 1, 1, 0],
        );
        // The simulator's own disruption controller agrees with the planner's arithmetic.
        const pdb = sim!.list("PodDisruptionBudget", "default").find((p) => p.metadata.name === "critical-pdb");
        assert.equal(pdb?.status?.disruptionsAllowed, 0);
        assert.equal(pdb?.status?.desiredHealthy, budget.desiredHealthy);
        // web: two replicas of web-pdb are on worker2, not reached; worker1's web pod goes at once.
        assert.ok(worker1.evict.some((e) => e.pod.startsWith("default/web-7b9c6d5f4-") && !e.waits));

        const writes = sim!.requestLog().filter((e) => e.method !== "GET");
        assert.deepEqual(writes, [], "plan must only read");
        assert.ok(
            sim!.requestLog().some((e) => e.path === "/api/v1/pods"),
            "pods were listed",
        );
        const after = JSON.stringify(sim!.list("Pod").map((p) => [p.metadata.name, p.spec.nodeName, p.metadata.resourceVersion]));
        assert.equal(after, before, "no pod changed");
    });

    it("pdb scenario without --ignore-daemonsets: the DaemonSet pod stops the roll at the first node, as kubectl drain would", async () => {
        const r = await run(["plan", "--all", "--kubeconfig", sim!.kubeconfigPath!]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stdout, /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-cp9xk/);
        assert.match(r.stdout, /^Roll stops at control-plane\. Not reached: worker1, worker2\.$/m);
    });
});
