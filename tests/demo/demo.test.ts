import * as fs from "fs";
// `npm run demo` as a newcomer runs it: node dist/demo/main.js as a child process, against the simulated
// cluster it starts itself (time scale high so the suite stays quick). Checks exit codes and the lines that
// tell the walkthrough's story.
import * as assert from "assert";
import * as path from "path";
import { assertInOrder, ROOT, runDemo } from "./run-demo";

describe("demo: npm run demo", function () {
    this.timeout(120_000);

    it("--preview prints the plan per node and the steps, and changes nothing (only GET requests)", async () => {
        const r = await runDemo(["--preview", "--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assertInOrder(r.stdout, [
            "$ kubectl get nodes",
            /master +Ready +master +127d +v1\.19\.0/,
            "$ pulumi preview",
            /\[1\/3\] master \(control plane\) v1\.19\.0 -> v1\.20\.0/,
            /\[2\/3\] worker1 v1\.19\.0 -> v1\.20\.0/,
            /\[3\/3\] worker2 v1\.19\.0 -> v1\.20\.0/,
            "`pulumi up` would run these steps",
            /master +cordon → drain → upgrade → ready → uncordon/,
            /Nothing was changed: the preview sent \d+ requests to the API server, all of them reads \(GET\)/,
            "every node still runs v1.19.0",
        ]);
        assert.doesNotMatch(r.stdout, /━━ master \(1\/3\)/, "the preview must not roll anything");
    });

    it("the README's plan output is what the code prints (each line, up to its '…', in the demo's preview)", async () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const block = /This is `npm run demo -- --scenario pdb --preview`[^\n]*\n\n```\n([\s\S]*?)\n```/.exec(readme);
        assert.ok(block, "the README's plan example was not found");
        const r = await runDemo(["--scenario", "pdb", "--preview", "--time-scale", "60"]);
        const printed = r.stdout.split("\n").map((l) => l.trim().replace(/^warning: /, ""));
        for (const line of block[1].split("\n")) {
            const shown = line.trim().split("…")[0].trim();
            assert.ok(
                printed.some((p) => p.startsWith(shown)),
                `README line not printed by the code: ${shown}`,
            );
        }
    });

    it("--scenario pdb --preview: the root program's preview names the blocking budget and its numbers, and where the roll would stop", async () => {
        const r = await runDemo(["--scenario", "pdb", "--preview", "--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assertInOrder(r.stdout, [
            "$ pulumi preview",
            /\[1\/3\] control-plane \(control plane\) v1\.28\.5 -> v1\.28\.6: ok/,
            /\[2\/3\] worker1 v1\.28\.5 -> v1\.28\.6: BLOCKED/,
            /PodDisruptionBudget default\/critical-pdb needs 1 healthy pods and would have 0 \(0 disruptions allowed, minAvailable 1 of 1 replicas\)/,
            /\[3\/3\] worker2 .*: not reached/,
            "the roll would stop at worker1",
            /Nothing was changed: the preview sent \d+ requests to the API server, all of them reads \(GET\)/,
        ]);
    });

    it("rolls master, worker1, worker2 to v1.20.0 with live progress and kubectl tables, and exits 0", async () => {
        const r = await runDemo(["--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assertInOrder(r.stdout, [
            /http-go-568f649bb-4npss +2\/2 +Running +0 +\S+ +10\.40\.0\.1 +worker1/,
            "http-go has 10 replicas: master (2), worker1 (6) and worker2 (2).",
            "PodDisruptionBudget default/http-go: maxUnavailable: 1",
            "━━ master (1/3) ━━",
            "━━ worker1 (2/3) ━━",
            /worker1 +cordon +│ node\/worker1 cordoned/,
            /worker1 +drain +│ node\/worker1: 15 pods to evict, 2 left in place/,
            /worker1 +drain +│ .*waiting on PodDisruptionBudget default\/http-go/,
            /worker1 +drain +│ pod\/\S+ evicted {2}· none left to evict/,
            "After the drain of worker1:",
            /worker1 +Ready,SchedulingDisabled +<none> +127d +v1\.19\.0/,
            /Its 6 http-go pods left; the ReplicaSet's replacements run on /,
            /worker1 +upgrade +│ node\/worker1 upgrade to v1\.20\.0 accepted/,
            /worker1 +ready +│ Ready at v1\.20\.0/,
            /worker1 +uncordon +│ uncordoned/,
            "After the uncordon of worker1:",
            /worker1 +Ready +<none> +127d +v1\.20\.0/,
            "It runs 0 http-go pods: uncordon does not move pods back",
            "━━ worker2 (3/3) ━━",
            "━━ The roll finished",
            /worker2 +Ready +<none> +127d +v1\.20\.0/,
            /worker1 +v1\.19\.0 → v1\.20\.0 +15 pods +evicted/,
            /http-go: at least 9 of 10 pods were Ready at every moment of the roll/,
            "Checked through the API: master, worker1, worker2 are Ready, schedulable and run v1.20.0.",
        ]);
        assert.match(r.stdout, /worker1 +drain +│ pod\/\S+ evicted {2}· 14 left to evict/);
        assert.strictEqual(r.stderr, "", "nothing on stderr");
    });

    it("--scenario pdb stops at worker1, names the budget, explains the state, and exits 2", async () => {
        const r = await runDemo(["--scenario", "pdb", "--time-scale", "60", "--drain-timeout", "3s"]);
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        assertInOrder(r.stdout, [
            /critical-pdb +1 +N\/A +0/,
            "━━ control-plane (1/3) ━━",
            /control-plane +uncordon +│ uncordoned/,
            "━━ worker1 (2/3) ━━",
            /worker1 +drain +│ pod default\/critical-5f7c8d9b6d-q2x7k waiting on PodDisruptionBudget default\/critical-pdb/,
            "━━ The roll stopped",
            /worker1 +Ready,SchedulingDisabled +<none> +\S+ +v1\.28\.5/,
            "pulumi-nodejs:dynamic/node-upgrade:NodeDrain (roll-worker1-drain):",
            /error: NodeDrain worker1: drain of node "worker1" timed out after 3s/,
            "PodDisruptionBudget default/critical-pdb allows no disruption",
            "- control-plane: upgraded to v1.28.6 and uncordoned.",
            "- worker1: stays cordoned",
            "- worker2: not touched",
            "Exit code 2: the roll stopped",
        ]);
        assert.doesNotMatch(r.stdout, /━━ worker2 \(3\/3\)/);
    });

    it("rejects an unknown scenario with exit code 1", async () => {
        const r = await runDemo(["--scenario", "nope"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /must be "seed", "pdb" or "shared"/);
    });
});
