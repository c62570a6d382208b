// The node-upgrade CLI without a cluster: flag parsing, error messages and exit codes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { drainOptionsFrom, normaliseBooleanFlags, durationFlag, intFlag, dryRunFlag } from "../../cli/options";

const MAIN = path.resolve(__dirname, "../../cli/main.js");

function run(...args: string[]) {
    const r = spawnSync(process.execPath, [MAIN, ...args], {
        encoding: "utf8",
        env: { ...process.env, KUBECONFIG: "/nonexistent/kubeconfig" },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli: flag helpers", () => {
    it("turns kubectl's --flag=true/false into what commander understands", () => {
        assert.deepEqual(
            normaliseBooleanFlags(["drain", "w", "--force=true", "--ignore-daemonsets=false", "--delete-emptydir-data", "--timeout=5s"]),
            ["drain", "w", "--force", "--delete-emptydir-data", "--timeout=5s"],
        );
    });
    it("maps flags to DrainOptions with kubectl's defaults", () => {
        assert.deepEqual(drainOptionsFrom({}), {
            force: false,
            ignoreDaemonSets: false,
            deleteEmptyDirData: false,
            gracePeriodSeconds: -1,
            timeoutSeconds: undefined,
            podSelector: undefined,
            disableEviction: false,
            skipWaitForDeleteTimeoutSeconds: 0,
            chunkSize: 500,
            dryRun: "none",
            concurrency: undefined,
            maxUnavailablePerWorkload: 0,
        });
        const o = drainOptionsFrom({
            force: true,
            ignoreDaemonsets: true,
            deleteEmptydirData: true,
            gracePeriod: 0,
            timeout: 90,
            dryRun: "server",
        });
        assert.equal(o.force && o.ignoreDaemonSets && o.deleteEmptyDirData, true);
        assert.equal(o.gracePeriodSeconds, 0);
        assert.equal(o.timeoutSeconds, 90);
        assert.equal(o.dryRun, "server");
        assert.equal(drainOptionsFrom({ maxUnavailablePerWorkload: 2 }).maxUnavailablePerWorkload, 2);
    });
    it("parses durations, ints and dry-run values", () => {
        assert.equal(durationFlag("--timeout")("1h2m"), 3720);
        assert.equal(durationFlag("--timeout")("0"), 0);
        assert.throws(
            () => durationFlag("--timeout")("10"),
            /--timeout takes a Go duration such as 30s, 5m or 1h2m; 0 means no limit \(missing unit\)/,
        );
        assert.equal(intFlag("--grace-period")("-1"), -1);
        assert.throws(() => intFlag("--chunk-size", 0)("-1"), /at least 0/);
        assert.throws(() => intFlag("--grace-period")("1.5"), /whole number/);
        assert.equal(dryRunFlag("server"), "server");
        assert.equal(dryRunFlag(undefined), "none");
        assert.throws(() => dryRunFlag("maybe"), /"none", "server", or "client"/);
    });
});

describe("cli: process exit codes and messages", function () {
    it("--help exits 0 and lists the commands", () => {
        const r = run("--help");
        assert.equal(r.code, 0);
        for (const c of ["cordon", "uncordon", "drain", "wait", "plan"]) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
    });
    it("an invalid --timeout names the flag and the expected form", () => {
        const r = run("drain", "worker1", "--timeout", "30");
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: .*--timeout.*Go duration such as 30s, 5m or 1h2m/m);
    });
    it("--max-unavailable-per-workload takes a whole number ≥ 0 and is listed in drain --help", () => {
        const r = run("drain", "worker1", "--max-unavailable-per-workload", "-1");
        assert.equal(r.code, 1);
        assert.match(r.stderr, /--max-unavailable-per-workload must be at least 0/);
        const help = run("drain", "--help");
        assert.equal(help.code, 0);
        assert.match(help.stdout, /--max-unavailable-per-workload <n>/);
    });
    it("an unknown flag fails", () => {
        const r = run("drain", "worker1", "--no-such-flag");
        assert.equal(r.code, 1);
        assert.match(r.stderr, /unknown option '--no-such-flag'/);
    });
    it("an invalid --pod-selector is rejected before any request", () => {
        const r = run("drain", "worker1", "--pod-selector", "app in (web");
        assert.equal(r.code, 1);
        assert.match(r.stderr, /--pod-selector=app in \(web must be a valid label selector/);
    });
    it("a missing kubeconfig is a clear error", () => {
        const r = run("cordon", "worker1", "--kubeconfig", "/nonexistent/config");
        assert.equal(r.code, 1);
        assert.equal(r.stderr.trim(), "error: --kubeconfig /nonexistent/config: no such file");
    });
});
