// `node-upgrade rehearse` as a process: the tables, --json, the exit codes (0 completes, 2 stops, 1 bad input).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RehearsalReport } from "../../rehearse";
import { scenarioSnapshot, snapshotDir } from "./snapshots";

const MAIN = join(__dirname, "../../cli/main.js");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("node-upgrade rehearse (CLI)", function () {
    this.timeout(120_000);
    const files = snapshotDir();
    let seed: string;
    let pdb: string;
    const fast = ["--ignore-daemonsets", "--delete-emptydir-data", "--upgrade-seconds", "10", "--restart-seconds", "5"];

    before(async () => {
        seed = files.file("seed.json", await scenarioSnapshot("seed"));
        pdb = files.file("pdb.json", await scenarioSnapshot("pdb"));
    });
    after(() => files.cleanup());

    it("prints the tables and exits 0 when the roll completes", async () => {
        const r = await run(["rehearse", "--snapshot", seed, "--target-version", "v1.20.0", "--all", ...fast, "-v"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^NODE +BATCH +START +DRAIN +UPGRADE +READY +TOTAL +EVICTED +PLAN +STATUS +WAITED ON$/m);
        assert.match(r.stdout, /^master +1 +0\.0s +\d+\.\ds +10\.0s +5\.0s /m);
        assert.match(
            r.stdout,
            /^WORKLOAD +REPLICAS +READY AT START +MIN READY +PDB MIN HEALTHY +MARGIN +STARTUP +SHUTDOWN +LOWEST DURING$/m,
        );
        assert.match(r.stdout, /The roll completes\./);
        // -v: the steps as they go, on stderr.
        assert.match(r.stderr, /worker1: drained, \d+ pods evicted in /);
    });

    it("--json prints the whole report", async () => {
        const r = await run([
            "rehearse",
            "worker1",
            "--snapshot",
            seed,
            "--target-version",
            "v1.20.0",
            ...fast,
            "--startup-seconds",
            "default/http-go=3",
            "--json",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        const report = JSON.parse(r.stdout) as RehearsalReport;
        assert.equal(report.completed, true);
        assert.deepEqual(report.batches, [["worker1"]]);
        const httpGo = report.workloads.find((w) => w.name === "http-go")!;
        assert.equal(httpGo.startupSeconds, 3);
        assert.equal(httpGo.minReady, 9);
        assert.ok(report.nodes[0].drainSeconds! > 30);
    });

    it("exits 2 and names the node and the reason when the roll would stop", async () => {
        const r = await run(["rehearse", "--snapshot", pdb, "--target-version", "v1.28.6", "--all", ...fast, "--timeout", "90s"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stdout, /The roll would STOP at worker1 \(drain, /);
        assert.match(
            r.stderr,
            /^error: the roll would stop at node worker1 \(drain\): drain of node "worker1" timed out after 1m30s with 1 pod remaining: .*PodDisruptionBudget default\/critical-pdb allows no disruption/m,
        );
    });

    it("takes the drain flags as drain does and the roll flags as plan does: the same help, the same checks", async () => {
        /** "--flag <value>" → its help text, without a "(default: …)" (a command may have its own default). */
        const flags = async (command: string) => {
            const r = await run([command, "--help"]);
            assert.equal(r.code, 0, r.stderr);
            const byFlag = new Map<string, string>();
            for (const m of r.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)(?: [<[][^>\]]+[>\]])? {2,}(.+)$/gm))
                byFlag.set(m[1], m[2].replace(/ \(default: [^)]*\)$/, ""));
            return byFlag;
        };
        const [rehearseFlags, drainFlags, planFlags] = await Promise.all(["rehearse", "drain", "plan"].map(flags));
        // What each command prints is its own.
        const output = ["--help", "--verbose", "--json"];
        const shared = (other: Map<string, string>) => [...rehearseFlags.keys()].filter((f) => other.has(f) && !output.includes(f));
        assert.ok(shared(drainFlags).length >= 11, shared(drainFlags).join(" "));
        assert.ok(shared(planFlags).includes("--batch-size") && shared(planFlags).includes("--snapshot"), shared(planFlags).join(" "));
        for (const [name, other] of [
            ["drain", drainFlags],
            ["plan", planFlags],
        ] as const)
            for (const f of shared(other)) assert.equal(rehearseFlags.get(f), other.get(f), `${f}: rehearse and ${name} differ`);
        // The one default that differs on purpose says so.
        assert.match((await run(["rehearse", "--help"])).stdout, /--max-unavailable-per-workload <n> .*\(default: 1, as pulumi up\)/);

        for (const args of [
            ["--grace-period", "1.5"],
            ["--timeout", "10"],
            ["--pod-selector", "app in (web"],
        ]) {
            const [r, d] = await Promise.all([
                run(["rehearse", "--snapshot", seed, "--target-version", "v1.20.0", "--all", ...args]),
                run(["drain", "worker1", "--kubeconfig", "/nonexistent/config", ...args]),
            ]);
            assert.equal(r.code, 1, args.join(" "));
            assert.notEqual(r.stderr, "");
            assert.equal(r.stderr, d.stderr, args.join(" "));
        }
    });

    it("exits 1 for bad input, before rehearsing anything", async () => {
        const timings = join(files.dir, "timings.json");
        writeFileSync(timings, JSON.stringify({ startupSeconds: { "default/http-go": "slow" } }));
        const cases: [string[], RegExp][] = [
            [["rehearse", "--target-version", "v1.20.0", "--all"], /--snapshot FILE is required/],
            [["rehearse", "--snapshot", seed, "--all"], /--target-version is required/],
            [["rehearse", "--snapshot", seed, "--target-version", "v1.2O.0", "--all"], /did you mean --target-version v1\.20\.0/],
            [["rehearse", "--snapshot", seed, "--target-version", "v1.20.0"], /name the nodes to roll/],
            [["rehearse", "ghost", "--snapshot", seed, "--target-version", "v1.20.0"], /nodes "ghost" not found/],
            [
                ["rehearse", "--snapshot", "/nonexistent.json", "--target-version", "v1.20.0", "--all"],
                /cannot read snapshot \/nonexistent\.json/,
            ],
            [["rehearse", "--snapshot", seed, "--target-version", "v1.20.0", "--all", "--startup-seconds", "http-go=3"], /namespace\/name/],
            [
                ["rehearse", "--snapshot", seed, "--target-version", "v1.20.0", "--all", "--startup-seconds", "default/nope=3"],
                /no Deployment, StatefulSet or ReplicaSet default\/nope/,
            ],
            [["rehearse", "--snapshot", seed, "--target-version", "v1.20.0", "--all", "--timings", timings], /must be a number of seconds/],
        ];
        for (const [args, message] of cases) {
            const r = await run(args);
            assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, message, args.join(" "));
            assert.equal(r.stdout, "", args.join(" "));
        }
    });
});
