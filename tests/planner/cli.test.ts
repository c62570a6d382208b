// `node-upgrade plan` end to end from a snapshot file: text, JSON, exit codes, argument errors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RollPlan } from "../../planner/types";
import type { SimCluster } from "../../sim";
import { runProcess, startSim } from "../drain/fixtures";
import { ClusterBuilder } from "./fixtures";

const MAIN = join(__dirname, "../../cli/main.js");

function run(args: string[]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 30000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What `kubectl get … -o json` prints for the builder's cluster: one List of every object. */
function list(c: ClusterBuilder): string {
    const s = c.snapshot;
    return JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [...s.nodes, ...s.pods, ...s.podDisruptionBudgets, ...s.replicaSets, ...s.deployments, ...s.statefulSets, ...s.daemonSets],
    });
}

describe("node-upgrade plan (CLI)", function () {
    let dir: string;
    let blockedFile: string;
    let okFile: string;

    before(function () {
        dir = mkdtempSync(join(tmpdir(), "plan-cli-"));
        const c = new ClusterBuilder();
        c.node("master", { controlPlane: true, version: "v1.29.4" });
        c.node("worker1", { version: "v1.29.4" });
        c.node("worker2", { version: "v1.29.4" });
        c.daemonSet("kube-system", "kube-proxy", ["master", "worker1", "worker2"]);
        const web = c.deployment("default", "web", 2);
        web.pod("worker1");
        web.pod("worker2");
        const db = c.statefulSet("shop", "db", 1);
        db.pod("worker1");
        c.pdb("shop", "db-pdb", db.labels, { minAvailable: 1 });
        blockedFile = join(dir, "blocked.json");
        writeFileSync(blockedFile, list(c));

        const ok = new ClusterBuilder();
        ok.node("worker1");
        ok.node("worker2");
        const api = ok.deployment("default", "api", 2);
        api.pod("worker1");
        api.pod("worker1");
        ok.pdb("default", "api-pdb", api.labels, { maxUnavailable: 1 });
        okFile = join(dir, "ok.json");
        writeFileSync(okFile, list(ok));
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));

    it("prints the plan and exits 2 when the roll would stop", () => {
        const r = run(["plan", "--all", "--snapshot", blockedFile, "--ignore-daemonsets", "--target-version", "v1.30.0"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stdout, /^Roll plan: 3 nodes, batches of 1, target v1\.30\.0 \(control plane first\)$/m);
        assert.match(r.stdout, /^\[2\/3\] worker1 v1\.29\.4 -> v1\.30\.0: BLOCKED$/m);
        assert.match(
            r.stdout,
            /pod shop\/db-0: PodDisruptionBudget shop\/db-pdb needs 1 healthy pods and would have 0 \(0 disruptions allowed, minAvailable 1 of 1 replicas\)/,
        );
        assert.match(r.stdout, /^Roll stops at worker1\. Not reached: worker2\.$/m);
        assert.equal(r.stderr, "");
    });

    it("exits 0 when every node is ok or waits, and prints JSON with --json", () => {
        const r = run(["plan", "worker1", "--snapshot", okFile, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        const plan = JSON.parse(r.stdout) as RollPlan;
        assert.equal(plan.verdict, "waits");
        assert.equal(plan.nodes[0].waits[0].budget?.key, "default/api-pdb");
    });

    it("plans with pulumi up's workload pacing by default (as preview does); --max-unavailable-per-workload 0 plans kubectl's", () => {
        const c = new ClusterBuilder();
        c.node("worker1");
        c.node("worker2");
        const web = c.deployment("default", "web", 2);
        web.pod("worker1");
        web.pod("worker1");
        const file = join(dir, "paced.json");
        writeFileSync(file, list(c));
        const paced = run(["plan", "worker1", "--snapshot", file]);
        assert.equal(paced.code, 0, paced.stderr);
        assert.match(
            paced.stdout,
            /^\[1\/1\] worker1 v\S+: waits for Ready replacements of default\/web \(maxUnavailablePerWorkload 1\)$/m,
        );
        const kubectlStyle = run(["plan", "worker1", "--snapshot", file, "--max-unavailable-per-workload", "0"]);
        assert.equal(kubectlStyle.code, 0, kubectlStyle.stderr);
        assert.match(kubectlStyle.stdout, /^\[1\/1\] worker1 v\S+: ok$/m);
        assert.match(
            run(["help", "plan"]).stdout,
            /--max-unavailable-per-workload <n>.*\(default: 1, as pulumi up; 0 plans a kubectl-style node-upgrade drain\)/s,
        );
    });

    it("passes drain flags through: without --ignore-daemonsets the DaemonSet pods block the first node", () => {
        const r = run(["plan", "--all", "--snapshot", blockedFile]);
        assert.equal(r.code, 2);
        assert.match(r.stdout, /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-0x/);
        assert.match(r.stdout, /Roll stops at master\./);
    });

    it("exits 1 with a clear message on bad arguments", () => {
        const cases: [string[], RegExp][] = [
            [["plan", "--snapshot", okFile], /name the nodes to plan, or give -l\/--selector, or --all/],
            [["plan", "nope", "--snapshot", okFile], /nodes "nope" not found/],
            [["plan", "worker1", "--all", "--snapshot", okFile], /only one of/],
            [["plan", "--all", "--batch-size", "0", "--snapshot", okFile], /--batch-size must be at least 1/],
            [
                ["plan", "--all", "--target-version", "soon", "--snapshot", okFile],
                /target version "soon" is not a semantic version like v1\.29\.3/,
            ],
            [["plan", "--all", "--snapshot", join(dir, "missing.json")], /cannot read snapshot .*missing\.json/],
            [["plan", "--all", "--snapshot", okFile, "--kubeconfig", "/nonexistent"], /either --snapshot or --kubeconfig/],
            [["plan", "--all", "--kubeconfig", join(dir, "missing-kubeconfig")], /kubeconfig/],
        ];
        for (const [args, message] of cases) {
            const r = run(args);
            assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
            assert.match(r.stderr, message, args.join(" "));
        }
    });
});

describe("node-upgrade plan against a flaky API server", function () {
    this.timeout(120_000);
    let c: SimCluster & { kubeconfigPath: string };

    before(async function () {
        c = await startSim("seed", { timeScale: 10 });
    });
    after(async () => {
        await c?.stop();
    });

    const plan = () =>
        runProcess(process.execPath, [
            MAIN,
            "plan",
            "--all",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--target-version",
            "v1.20.0",
            "--kubeconfig",
            c.kubeconfigPath,
        ]);

    it("rides out 503 bursts and a 429 on its lists as a drain does, and says each retry on stderr", async () => {
        const calm = await plan();
        assert.equal(calm.code, 0, calm.stderr);
        // Before: the planner listed with clients of its own that retried nothing, so the first 503 ended the plan
        // ("cannot list the cluster's nodes, pods, …", exit code 1).
        c.faults.add({ verb: "list", resource: "pods", status: 503, count: 2 });
        c.faults.add({ verb: "list", resource: "poddisruptionbudgets", status: 429, retryAfterSeconds: 1, count: 1 });
        const flaky = await plan();
        assert.equal(flaky.code, 0, flaky.stderr);
        for (const rule of c.faults.list()) assert.equal(rule.injected, rule.count, JSON.stringify(rule));
        assert.equal(flaky.stdout, calm.stdout);
        const retries = flaky.stderr.split("\n").filter(Boolean);
        assert.deepEqual(
            retries
                .map((l) => /^retrying in [\d.]+m?s: (list \S+): .*\(HTTP (\d+) \w+\), attempt (\d+) of 10$/.exec(l)?.slice(1).join(" "))
                .sort(),
            ["list PodDisruptionBudgets 429 2", "list pods 503 2", "list pods 503 3"],
            flaky.stderr,
        );
    });
});
