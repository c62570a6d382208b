// Issue 13: `npm run demo` rejects bad arguments before anything starts (exit 1, one clear message on stderr)
// instead of starting a cluster and reporting a stopped roll; --no-pdb and --no-pacing say what they show.
import * as assert from "assert";
import { runDemo } from "./run-demo";

const HINT = "(npm run demo -- --help lists the options)";

describe("demo: bad arguments are rejected before anything starts (issue 13)", function () {
    this.timeout(120_000);

    const CASES: [string[], RegExp][] = [
        // Before: a cluster started, the roll ran and "stopped" with exit code 2 (drain.timeout: invalid duration "abc").
        [
            ["--drain-timeout", "abc"],
            /^error: option '--drain-timeout <duration>' argument 'abc' is invalid\. --drain-timeout takes a Go duration such as 30s, 5m or 1h2m; 0 means no limit \(unexpected "abc"\)/,
        ],
        [["--drain-timeout", "-5s"], /argument '-5s' is invalid\. --drain-timeout must not be negative/],
        // Before: the roll stopped with 'target version "1.20" is not a semantic version', exit code 2.
        [
            ["--target-version", "1.20"],
            /^error: option '--target-version <version>' argument '1\.20' is invalid\. target version "1\.20" is not a semantic version like v1\.29\.3 \(major\.minor\.patch\); pass one, e\.g\. --target-version v1\.29\.3/,
        ],
        // The CLI's flag check, shared: a letter O typed for a zero gets a suggestion.
        [["--target-version", "v1.2O.0"], /argument 'v1\.2O\.0' is invalid\. .*; did you mean --target-version v1\.20\.0\?/],
        [["--bogus"], /^error: unknown option '--bogus'/],
        [["--time-scale", "fast"], /^error: option '--time-scale <n>' argument 'fast' is invalid\. must be a number above 0/],
        [["--time-scale", "0"], /argument '0' is invalid\. must be a number above 0/],
        [["seed"], /^error: too many arguments/],
        [["--scenario", "pdb", "--no-pdb"], /^error: --no-pdb only applies to --scenario seed/],
    ];

    for (const [args, message] of CASES) {
        it(`${args.join(" ")}: exit 1, the reason on stderr, no cluster started`, async () => {
            const r = await runDemo(args);
            assert.strictEqual(r.code, 1, r.stdout + r.stderr);
            // Rejected before the heavy modules load, let alone a cluster (~0.3 s; it was a stopped roll after 5-6 s).
            assert.match(r.stderr, message);
            assert.ok(r.stderr.trimEnd().endsWith(HINT), r.stderr);
            // The demo's banner and "Simulated cluster ..." come before the cluster starts: nothing on stdout means
            // nothing was started (and no roll, which would print "━━ The roll ...").
            assert.strictEqual(r.stdout, "");
        });
    }

    it("--no-pdb explains that per-workload pacing still keeps 9 of 10 http-go replicas Ready", async () => {
        // Also: good values pass the checks (a full version without its "v", a Go duration).
        const r = await runDemo(["--no-pdb", "--preview", "--time-scale", "60", "--target-version", "1.20.0", "--drain-timeout", "90s"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /node-upgrade:targetVersion: 1\.20\.0/);
        assert.match(r.stdout, /node-upgrade:drainTimeout: 90s/);
        const text = r.stdout.replace(/\n/g, " ");
        assert.match(
            text,
            /No PodDisruptionBudget for http-go \(--no-pdb\)\. The drain's per-workload pacing still keeps 9 of 10 http-go replicas Ready/,
        );
        assert.match(text, /add --no-pacing to see that/);
        assert.doesNotMatch(r.stdout, /drainMaxUnavailablePerWorkload: 0/);
    });

    it("--no-pacing turns pacing off in the stack configuration and says what that shows", async () => {
        const r = await runDemo(["--no-pdb", "--no-pacing", "--preview", "--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const text = r.stdout.replace(/\n/g, " ");
        assert.match(
            text,
            /no per-workload pacing \(--no-pacing\): each drain evicts every http-go pod on its node at once, as kubectl drain does/,
        );
        assert.match(r.stdout, /node-upgrade:drainMaxUnavailablePerWorkload: 0 +# --no-pacing/);
    });
});
