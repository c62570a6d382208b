// Issue 14's done criterion: `npm run demo -- --scenario shared` shows a roll waiting on another holder's lock,
// then proceeding. A colleague's `node-upgrade drain --lock worker2` holds the Lease kube-system/node-upgrade when
// the roll starts; the stack sets lockTimeout, so the roll waits, naming them; when the roll says so, the demo lets
// their drain finish (simulated seconds later) and release the lock; the roll then takes it and rolls every node.
import * as assert from "assert";
import { parseDuration } from "../../kube-rules";
import { assertInOrder, runDemo } from "./run-demo";

const HOLDER = "cli bob@ops-laptop pid 48213";
const NODES = ["master", "worker1", "worker2"];

describe("demo: npm run demo -- --scenario shared (a colleague holds the roll lock)", function () {
    this.timeout(120_000);

    it("the roll waits for bob's lock, bob releases it, then every node is upgraded and the Lease is free (exit 0)", async () => {
        const r = await runDemo(["--scenario", "shared", "--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const released = "bob@ops-laptop released the lock (their drain of worker2 finished, 30 s later in simulated time)";
        assertInOrder(r.stdout, [
            // Before the roll: the colleague's Lease, and the stack's lockTimeout.
            "$ kubectl get lease -n kube-system node-upgrade",
            new RegExp(`node-upgrade +${HOLDER} +\\S+`),
            /node-upgrade:lockTimeout: 10m/,
            "$ pulumi up",
            "━━ master (1/3) ━━",
            // The roll's own line (the cordon step, in the provider host), naming the holder.
            new RegExp(
                `master +cordon +│ lease: waiting: lease kube-system/node-upgrade is held by ${HOLDER} \\(expires at \\S+ unless renewed\\) \\(10m0s left\\)`,
            ),
            released,
            /master +cordon +│ lease: acquired lease kube-system\/node-upgrade as /,
            /master +cordon +│ node\/master cordoned/,
            ...NODES.flatMap((n, i) => [
                ...(i > 0 ? [`━━ ${n} (${i + 1}/3) ━━`] : []), // master's header comes before its wait
                new RegExp(`${n} +ready +│ Ready at v1\\.20\\.0`),
                new RegExp(`${n} +uncordon +│ uncordoned`),
                new RegExp(`${n} +uncordon +│ released the roll lock`),
            ]),
            "━━ The roll finished",
            ...NODES.map((n) => new RegExp(`${n} +Ready +\\S+ +127d +v1\\.20\\.0`)),
            /The roll lock: the roll waited [\dms]+ \(simulated;\s+[\d.ms]+\s+real\)\s+for\s+bob@ops-laptop's\s+lock/,
            "$ kubectl get lease -n kube-system node-upgrade",
            /^ +node-upgrade +[0-9hmds]+$/m, // no holder
            "Checked through the API: master, worker1, worker2 are Ready, schedulable and run v1.20.0. The Lease kube-system/node-upgrade is free (no holder).",
            "(exit code 0)",
        ]);
        // Nothing was cordoned while bob held the lock, and bob's release is announced once.
        assert.ok(r.stdout.indexOf("node/master cordoned") > r.stdout.indexOf(released), r.stdout);
        assert.strictEqual(r.stdout.split(released).length, 2, r.stdout);
        // The wait lasted at least bob's 30 simulated seconds.
        const waited = parseDuration(/the roll waited (\S+) \(simulated/.exec(r.stdout)![1]);
        assert.ok(waited >= 30, `waited ${waited} s`);
        assert.strictEqual(r.stderr, "", "nothing on stderr");
    });

    it("--preview: master would NOT start now, the lease is held by bob; nothing is changed", async () => {
        const r = await runDemo(["--scenario", "shared", "--preview", "--time-scale", "60"]);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assertInOrder(r.stdout, [
            new RegExp(`node-upgrade +${HOLDER} +\\S+`),
            "$ pulumi preview",
            "shared cluster: master would NOT start now",
            new RegExp(`✗ lease kube-system/node-upgrade: lease kube-system/node-upgrade is held by ${HOLDER}`),
            /The roll lock: the preview names its holder, cli bob@ops-laptop pid 48213/,
            /\[1\/3\] master \(control plane\) v1\.19\.0 -> v1\.20\.0/,
            /Nothing was changed: the preview sent \d+ requests to the API server, all of them reads \(GET\)/,
            "Run `npm run demo -- --scenario shared` to roll the nodes.",
        ]);
        assert.doesNotMatch(r.stdout, /━━ master \(1\/3\)/, "the preview must not roll anything");
        assert.doesNotMatch(r.stdout, /released the lock/, "nobody releases anything in a preview");
    });
});
