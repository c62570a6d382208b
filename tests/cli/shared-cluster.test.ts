// Issue 14, CLI part: `node-upgrade drain --lock / --kured-lock / health gates / --maintenance-window` and the same
// flags on `plan`, as processes against an in-process simulated cluster (and a real Prometheus for the alert
// gate). What is checked: a held lock or a blocking gate refuses BEFORE anything is cordoned (no PATCH of the node,
// the node stays schedulable), the refusal names the holder / alert; a lock released while we wait lets the drain
// go on, and the lock is released afterwards; plan reports the same, read only, with exit code 2.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { SimCluster } from "../../sim";
import { NODE_UPGRADE, nodeUpgrade, simPerTest, type ProcessResult } from "../drain/fixtures";
import { kuredDaemonSet, kuredLockHeldBy, micro } from "../shared-cluster/helpers";
import { prometheusPerSuite } from "../helpers/prometheus";

type Sim = SimCluster & { kubeconfigPath: string };

const LEASE_NS = "kube-system";
const LEASE_NAME = "node-upgrade";
const DRAIN_FLAGS = ["--ignore-daemonsets", "--delete-emptydir-data"];

/** Someone else's Lease, renewed now, valid for an hour. */
function holdLease(c: Sim, holder = "alice@laptop"): void {
    c.apply({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: LEASE_NAME, namespace: LEASE_NS },
        spec: { holderIdentity: holder, renewTime: micro(Date.now()), acquireTime: micro(Date.now()), leaseDurationSeconds: 3600 },
    });
}

const lease = (c: Sim) => c.get("Lease", LEASE_NS, LEASE_NAME);
const unschedulable = (c: Sim, node: string) => !!c.get("Node", undefined, node)?.spec?.unschedulable;
/** Every request that was not a read ("PATCH /api/v1/nodes/worker1 200"). */
const writes = (c: Sim) =>
    c
        .requestLog()
        .filter((e) => e.method !== "GET")
        .map((e) => `${e.method} ${e.path} ${e.status}`);

/** A node-upgrade process whose stderr can be awaited line by line while it runs. */
function startNodeUpgrade(kubeconfigPath: string, args: string[]) {
    const child = spawn(process.execPath, [NODE_UPGRADE, ...args, `--kubeconfig=${kubeconfigPath}`], { stdio: ["ignore", "pipe", "pipe"] });
    const started = Date.now();
    let stdout = "";
    let stderr = "";
    let waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
    const check = () => {
        for (const w of waiters) {
            const m = w.re.exec(stderr);
            if (m) {
                waiters = waiters.filter((x) => x !== w);
                w.resolve(m[0]);
            }
        }
    };
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
        stderr += d;
        check();
    });
    const done = new Promise<ProcessResult>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started, exitedAt: Date.now() }));
    });
    return {
        child,
        done,
        /** Resolves with the first match of `re` in stderr (already printed or still to come); rejects if the process ends first. */
        stderrMatch(re: RegExp): Promise<string> {
            return Promise.race([
                new Promise<string>((resolve) => {
                    waiters.push({ re, resolve });
                    check();
                }),
                done.then((r) => {
                    const m = re.exec(r.stderr);
                    if (m) return m[0];
                    throw new Error(`node-upgrade exited (${r.code}) without printing ${re} on stderr:\n${r.stderr}`);
                }),
            ]);
        },
    };
}

describe("cli: drain and plan in a shared cluster (issue 14)", function () {
    this.timeout(120_000);
    const sim = simPerTest();

    it("(a) drain --lock: a Lease held by someone else → refuses after --lock-timeout naming the holder; nothing cordoned", async () => {
        const { c } = await sim("seed");
        holdLease(c);
        c.clearRequestLog();
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "worker1", "--lock", "--lock-timeout", "5s", ...DRAIN_FLAGS]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stdout, "", "nothing was cordoned or evicted");
        assert.match(r.stderr, /^waiting: lease kube-system\/node-upgrade is held by alice@laptop .*\(5s left\)$/m);
        assert.match(
            r.stderr,
            /^error: not starting: gave up after 5s waiting for lease kube-system\/node-upgrade: .*held by alice@laptop .*; nothing was cordoned$/m,
        );
        assert.equal(unschedulable(c, "worker1"), false, "worker1 stays schedulable");
        assert.deepEqual(writes(c), [], "no PATCH of the node, no write at all (the Lease is someone else's)");
        assert.equal(lease(c).spec.holderIdentity, "alice@laptop", "alice's Lease is left as it was");
    });

    it("(b) drain --lock: kured's lock held by node worker2 → refuses naming worker2 and kured; our Lease is released", async () => {
        const { c } = await sim("seed");
        c.apply(kuredDaemonSet(kuredLockHeldBy("worker2")));
        c.clearRequestLog();
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "worker1", "--lock", "--lock-timeout", "5s", ...DRAIN_FLAGS]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^acquired lease kube-system\/node-upgrade as cli \S+ pid \d+ \(created, TTL 60s\)$/m);
        assert.match(r.stderr, /^waiting: kured lock .* is held by node worker2 /m);
        assert.match(
            r.stderr,
            /^error: not starting: gave up after 5s waiting for kured lock kube-system\/kured: .*held by node worker2.*; nothing was cordoned$/m,
        );
        assert.match(r.stderr, /^released lease kube-system\/node-upgrade$/m);
        assert.equal(unschedulable(c, "worker1"), false, "worker1 stays schedulable");
        assert.deepEqual(
            writes(c).filter((w) => w.includes("/nodes/")),
            [],
            "no PATCH of any node",
        );
        assert.equal(lease(c).spec.holderIdentity, undefined, "the Lease we took is released");
        assert.match(c.get("DaemonSet", "kube-system", "kured").metadata.annotations["weave.works/kured-node-lock"], /"nodeID":"worker2"/);
    });

    describe("(c) with a real Prometheus", () => {
        const prometheus = prometheusPerSuite();
        let url = "";
        before(() => (url = prometheus.url));

        it("drain --prometheus-url: the firing alert AlwaysFiring refuses the drain, naming it; worker1 stays schedulable", async () => {
            const { c } = await sim("seed");
            c.clearRequestLog();
            const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "worker1", "--prometheus-url", url, ...DRAIN_FLAGS]);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stdout, "");
            assert.match(
                r.stderr,
                /^error: not starting: blocked by health gates for worker1: Prometheus alerts at http:\/\/127\.0\.0\.1:\d+: alert firing: AlwaysFiring\{severity="critical"\} \(firing since \S+\); nothing was cordoned$/m,
            );
            assert.equal(unschedulable(c, "worker1"), false);
            assert.deepEqual(writes(c), []);

            // --alert-filter-regexp ignores it: the drain goes on (the pending alert does not block by default)
            const ok = await nodeUpgrade(c.kubeconfigPath, [
                "drain",
                "worker1",
                "--prometheus-url",
                url,
                "--alert-filter-regexp",
                "^AlwaysFiring$",
                ...DRAIN_FLAGS,
            ]);
            assert.equal(ok.code, 0, ok.stderr);
            assert.match(ok.stderr, /^health gates pass: no firing alert matching name !~ \/\^AlwaysFiring\$\/ /m);
            assert.match(ok.stdout, /^node\/worker1 drained$/m);
        });
    });

    it("(d) drain --lock: the holder releases while we wait → the drain goes on, succeeds, and releases the Lease", async () => {
        const { c } = await sim("seed");
        holdLease(c);
        const run = startNodeUpgrade(c.kubeconfigPath, ["drain", "worker1", "--lock", "--lock-timeout", "2m", ...DRAIN_FLAGS]);
        await run.stderrMatch(/^waiting: lease kube-system\/node-upgrade is held by alice@laptop .*$/m);
        assert.equal(unschedulable(c, "worker1"), false, "not cordoned while waiting");
        // alice releases as client-go does: the holder cleared, the object kept
        const l = lease(c);
        c.apply({ ...l, spec: { ...l.spec, holderIdentity: undefined, leaseDurationSeconds: 1 } });
        const r = await run.done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /^acquired lease kube-system\/node-upgrade as cli \S+ pid \d+ \(was free, TTL 60s\)$/m);
        assert.match(r.stdout, /^node\/worker1 cordoned$/m);
        assert.match(r.stdout, /^node\/worker1 drained$/m);
        assert.match(r.stderr, /^released lease kube-system\/node-upgrade$/m);
        assert.ok(r.stderr.indexOf("acquired lease") < r.stderr.indexOf("released lease"));
        assert.equal(lease(c).spec.holderIdentity, undefined, "released: holderIdentity is empty");
        assert.equal(unschedulable(c, "worker1"), true, "drained nodes stay cordoned");
    });

    it("(d') a drain that fails leaves the node cordoned and still releases the Lease, saying so", async () => {
        const { c } = await sim("seed");
        // without --ignore-daemonsets the drain of worker1 is refused after its cordon, as kubectl's
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "worker1", "--lock", "--delete-emptydir-data"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
            r.stderr,
            /^the drain failed: node worker1 stays cordoned; releasing the lock\nreleased lease kube-system\/node-upgrade$/m,
        );
        assert.equal(unschedulable(c, "worker1"), true);
        assert.equal(lease(c).spec.holderIdentity, undefined);
    });

    it("(e) plan --lock shows the holder; --maintenance-window closed shows when it opens; exit 2; read only", async () => {
        const { c } = await sim("seed");
        holdLease(c);
        c.clearRequestLog();
        const r = await nodeUpgrade(c.kubeconfigPath, ["plan", "worker1", "worker2", "--lock", ...DRAIN_FLAGS]);
        assert.equal(r.code, 2, r.stderr);
        const lines = r.stdout.split("\n");
        assert.equal(lines[0], "Shared cluster now (read only):");
        assert.match(
            lines[1],
            /^ {2}✗ lease kube-system\/node-upgrade: lease kube-system\/node-upgrade is held by alice@laptop \(expires at \S+ unless renewed\)$/,
        );
        assert.equal(
            lines[2],
            "  ✓ kured lock kube-system/kured: DaemonSet kube-system/kured not found: kured is not installed, kured interop is a no-op",
        );
        assert.match(lines[3], /^Roll plan: 2 nodes/);
        assert.equal(r.stdout.match(/^ {6}start now: no, blocked by lease kube-system\/node-upgrade$/gm)?.length, 2, r.stdout);
        assert.match(
            r.stdout,
            /^Roll completes: 0 ok, 2 wait; /m,
            `the plan itself (waits are pacing, as in up) is fine: exit 2 comes from the lock\n${r.stdout}`,
        );
        assert.deepEqual(writes(c), [], "plan writes nothing");

        // a window that opens on a day that is not today (UTC): closed now
        const day = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(new Date().getUTCDay() + 3) % 7];
        const w = await nodeUpgrade(c.kubeconfigPath, [
            "plan",
            "worker1",
            "--maintenance-window",
            `${day} 01:00-02:00 UTC`,
            ...DRAIN_FLAGS,
        ]);
        assert.equal(w.code, 2, w.stderr);
        assert.match(
            w.stdout,
            new RegExp(
                `^ {2}✗ maintenance window: outside the window \\(${day} 01:00–02:00 UTC\\); it opens at \\d{4}-\\d\\d-\\d\\dT01:00:00\\+00:00$`,
                "m",
            ),
        );
        assert.match(w.stdout, /^ {6}start now: no, blocked by maintenance window$/m);

        // nothing blocks: exit 0, "start now: yes"
        c.delete("Lease", LEASE_NS, LEASE_NAME);
        const ok = await nodeUpgrade(c.kubeconfigPath, [
            "plan",
            "worker1",
            "--lock",
            "--maintenance-window",
            "00:00-24:00",
            ...DRAIN_FLAGS,
        ]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, /^ {2}✓ lease kube-system\/node-upgrade: lease kube-system\/node-upgrade does not exist yet: free$/m);
        assert.match(ok.stdout, /^ {6}start now: yes$/m);
        assert.deepEqual(writes(c), []);
    });

    it("bad flags and combinations fail with exit 1 before any request", async () => {
        const { c } = await sim("seed");
        c.clearRequestLog();
        const cases: Array<[string[], RegExp]> = [
            [["drain", "worker1", "--lock-timeout", "5s"], /--lock-timeout needs --lock/],
            [["drain", "worker1", "--lock", "--lock-timeout", "5"], /--lock-timeout takes a Go duration/],
            [["drain", "worker1", "--lock", "--lock-name", "Kube-System/x"], /--lock-name takes NAMESPACE\/NAME/],
            [["drain", "worker1", "--kured-lock", "maybe"], /--kured-lock must be "wait", "take" or "off"/],
            [
                ["drain", "worker1", "--prometheus-url", "ftp://x"],
                /--prometheus-url: invalid Prometheus URL "ftp:\/\/x": use http:\/\/ or https:\/\//,
            ],
            [["drain", "worker1", "--alert-filter-regexp", "Watchdog"], /--alert-filter-regexp needs --prometheus-url/],
            [
                ["drain", "worker1", "--prometheus-url", "http://p:9090", "--alert-filter-regexp", "("],
                /--alert-filter-regexp is not a valid regular expression/,
            ],
            [
                ["drain", "worker1", "--blocking-pod-selector", "app in (a"],
                /--blocking-pod-selector: app in \(a is not a valid label selector/,
            ],
            [["drain", "worker1", "--check-command", '["x", 2]'], /--check-command as JSON must be a list of strings/],
            [["drain", "worker1", "--gates-timeout", "1m"], /--gates-timeout needs a health gate/],
            [["drain", "worker1", "--maintenance-window", "mon-fri 22:00-04:00 Mars/Olympus"], /--maintenance-window: /],
            [["plan", "--all", "--snapshot", "/nonexistent", "--lock"], /--lock, --kured-lock read the cluster: drop --snapshot/],
        ];
        for (const [args, re] of cases) {
            const r = await nodeUpgrade(c.kubeconfigPath, args);
            assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, re, args.join(" "));
        }
        assert.deepEqual(
            c.requestLog().map((e) => `${e.method} ${e.path}`),
            [],
            "no request sent",
        );
    });

    it("help drain / help plan document every flag", async () => {
        const { c } = await sim("seed");
        for (const verb of ["drain", "plan"]) {
            const r = await nodeUpgrade(c.kubeconfigPath, ["help", verb]);
            assert.equal(r.code, 0, r.stderr);
            for (const flag of [
                "--lock ",
                "--lock-timeout <duration>",
                "--lock-name <namespace/name>",
                "--kured-lock <mode>",
                "--blocking-pod-selector <selector>",
                "--prometheus-url <url>",
                "--alert-filter-regexp <regexp>",
                "--alert-filter-match-only",
                "--alert-include-pending",
                "--alert-firing-only",
                "--prometheus-query <promql>",
                "--check-command <command>",
                "--gates-timeout <duration>",
                "--maintenance-window <window>",
            ])
                assert.ok(r.stdout.includes(flag), `help ${verb} documents ${flag}`);
        }
    });
});
