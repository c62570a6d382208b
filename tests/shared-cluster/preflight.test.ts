// preflight (read-only report for preview/plan) and acquireAndCheck (wait, take the locks, fail before any cordon)
// on the simulated cluster, and the permissions they need (deploy/rbac.yaml, enforced by the simulator).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadKubeConfig } from "../../drain";
import { clusterRoleRules, type PolicyRule, type SimCluster } from "../../sim";
import {
    acquireAndCheck,
    acquireLease,
    DEFAULT_KURED_ANNOTATION,
    formatPreflight,
    preflight,
    rollPreflight,
    SharedClusterBlockedError,
    startNowLine,
    validateSharedClusterOptions,
    type SharedClusterOptions,
} from "../../shared-cluster";
import { Events, kuredDaemonSet, lease, ManualClock, micro, simPerTest } from "./helpers";

const ME = "pulumi:infra/prod alice@build-01 pid 4242";
const OTHER = "cli bob@laptop pid 77";
const RBAC_FILE = path.join(__dirname, "..", "..", "..", "deploy", "rbac.yaml");

function blockerPod(name: string, node: string): any {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels: { "maintenance/blocker": "true" } },
        spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
        status: { phase: "Running" },
    };
}

const kuredHeldBy = (node: string) =>
    JSON.stringify({ nodeID: node, metadata: { unschedulable: false }, created: new Date().toISOString(), TTL: 0 });
const writes = (c: SimCluster) => c.requestLog().filter((r) => !["GET"].includes(r.method));
const ok = [process.execPath, "-e", "process.exit(0)"];
const alwaysOpen = { days: "*", start: "00:00", end: "24:00", timeZone: "Europe/Berlin" };

describe("shared-cluster: preflight and acquireAndCheck", function () {
    const sim = simPerTest();

    it("validateSharedClusterOptions lists every configuration problem", () => {
        const problems = validateSharedClusterOptions({
            window: "mon-fir 22:00-04:00",
            lock: { leaseDurationSeconds: 0.5 },
            gates: [
                { type: "pods", selector: "" },
                { type: "alerts", url: "http://p", matchers: ["severity"] },
                { type: "command", command: [] },
                { type: "bogus" } as any,
            ],
        });
        assert.deepEqual(problems, [
            'window: unknown day "fir" in "mon-fir": use mon … sun (or 0–6, 0 = Sunday), a range like mon-fri, a list like mon,wed,fri, or *',
            "lock: leaseDurationSeconds must be a whole number ≥ 1, not 0.5",
            "gates[0] (pods): blocking pods: the label selector is empty (it would match every pod)",
            'gates[1] (alerts): invalid label matcher "severity": use name=value, name!=value, name=~regexp or name!~regexp',
            'gates[2] (command): check command: give the program and its arguments as a list, e.g. ["/usr/local/bin/check", "--quick"]',
            'gates[3] (bogus): unknown gate type "bogus": use pods, alerts, query or command',
        ]);
        assert.deepEqual(validateSharedClusterOptions({ lock: true, kuredLock: true, window: "mon-fri 22:00-04:00 Europe/Berlin" }), []);
    });

    it("validateSharedClusterOptions refuses a Prometheus URL with credentials, without echoing the password, and names the headers option", () => {
        const problems = validateSharedClusterOptions({
            gates: [
                { type: "alerts", url: "http://bob:s3cret@prometheus.monitoring:9090" },
                { type: "query", url: "https://s3cret-token@prometheus.monitoring/prom", query: "up == 0" },
            ],
        });
        assert.deepEqual(problems, [
            'gates[0] (alerts): invalid Prometheus URL "http://bob:***@prometheus.monitoring:9090": it must not contain credentials (user:password@); ' +
                'pass them in the gate\'s headers option instead, e.g. headers: { Authorization: "Basic <base64 of user:password>" }',
            'gates[1] (query): invalid Prometheus URL "https://***@prometheus.monitoring/prom": it must not contain credentials (user:password@); ' +
                'pass them in the gate\'s headers option instead, e.g. headers: { Authorization: "Basic <base64 of user:password>" }',
        ]);
        assert.doesNotMatch(problems.join("\n"), /s3cret/);
    });

    it("validateSharedClusterOptions checks names and time limits as the CLI did: kured's DaemonSet, 63-character namespaces, negative waits", () => {
        assert.deepEqual(
            validateSharedClusterOptions({
                lock: { namespace: "n".repeat(64), timeoutMs: -1 },
                kuredLock: { daemonSet: "Kured", timeoutMs: NaN },
                gatesTimeoutMs: Infinity,
            }),
            [
                `lock: namespace "${"n".repeat(64)}" is not a valid namespace name (lower-case letters, digits and "-", at most 63 characters)`,
                'kuredLock: "Kured" is not a valid DaemonSet name (lower-case letters, digits, "-" and ".")',
                "lock: timeoutMs must be a number of milliseconds ≥ 0, not -1",
                "kuredLock: timeoutMs must be a number of milliseconds ≥ 0, not NaN",
                "gatesTimeoutMs must be a number of milliseconds ≥ 0, not Infinity",
            ],
        );
    });

    it("preflight reports who holds what and which gates block, without writing anything", async () => {
        const { c, kc } = await sim();
        // Held by OTHER, renewed at the preview's clock time (12:00Z), for an hour: held at that moment.
        const at = Date.parse("2026-12-02T12:00:00Z");
        c.apply({
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: "node-upgrade", namespace: "kube-system" },
            spec: { holderIdentity: OTHER, leaseDurationSeconds: 3600, acquireTime: micro(at), renewTime: micro(at) },
        });
        c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: kuredHeldBy("worker2") }));
        c.apply(blockerPod("backup-1", "worker1"));
        c.clearRequestLog();
        const options: SharedClusterOptions = {
            holderIdentity: ME,
            lock: true,
            kuredLock: true,
            window: "mon-fri 22:00-04:00 Europe/Berlin",
            gates: [
                { type: "pods", selector: "maintenance/blocker=true" },
                { type: "pods", selector: "maintenance/blocker=true", scope: "cluster" },
                { type: "command", command: [process.execPath, "-e", "console.log('replica lag 40s'); process.exit(1)"] },
            ],
        };
        const clock = { now: () => Date.parse("2026-12-02T12:00:00Z"), sleep: async () => undefined };
        const r = await preflight(kc, options, "worker1", { clock });
        assert.equal(r.ok, false);
        assert.equal(r.lease?.holderIdentity, OTHER);
        assert.equal(r.window?.open, false);
        assert.deepEqual(r.window?.opensAt, new Date("2026-12-02T21:00:00Z"));
        const lines = formatPreflight(r);
        assert.equal(lines.length, 6);
        assert.equal(
            lines[0],
            "✗ maintenance window: outside the window (mon-fri 22:00–04:00 Europe/Berlin); it opens at 2026-12-02T22:00:00+01:00; run `pulumi up` again then",
        );
        assert.equal(r.items[1].holder, OTHER);
        assert.match(lines[1], /^✗ lease kube-system\/node-upgrade: .*cli bob@laptop pid 77/);
        assert.match(
            lines[2],
            /^✗ kured lock kube-system\/kured: kured lock \(weave\.works\/kured-node-lock on DaemonSet kube-system\/kured\) is held by node worker2 since /,
        );
        assert.equal(r.items[2].holder, "worker2");
        // (Pending or Running: the simulated kubelet is starting it)
        assert.match(
            lines[3],
            /^✗ blocking pods maintenance\/blocker=true: pod matching maintenance\/blocker=true on worker1: default\/backup-1 \((Pending|Running)\)$/,
        );
        assert.match(
            lines[4],
            /^✗ blocking pods maintenance\/blocker=true \(cluster-wide\): pod matching .* default\/backup-1 \(\w+ on worker1\)$/,
        );
        assert.match(lines[5], /^✗ check command .* exited with 1; output:\nreplica lag 40s$/);
        assert.deepEqual(writes(c), [], "preflight only reads");
        // with the real clock: expired an hour after 12:00Z; renewed just now, held
        const expired = await preflight(kc, { holderIdentity: ME, lock: true }, undefined);
        if (Date.now() > at + 3600_000)
            assert.match(formatPreflight(expired)[0], /^✓ lease .* was held by cli bob@laptop pid 77, expired at /);
        const renewed = c.get("Lease", "kube-system", "node-upgrade");
        c.apply({ ...renewed, spec: { ...renewed.spec, renewTime: micro(Date.now()) } });
        const now = await preflight(kc, { holderIdentity: ME, lock: true }, undefined);
        assert.match(
            formatPreflight(now)[0],
            /^✗ lease kube-system\/node-upgrade: lease kube-system\/node-upgrade is held by cli bob@laptop pid 77 \(expires at /,
        );
        // before the roll (no node) per-node gates are skipped, commands can be left out of a preview
        const before = formatPreflight(await preflight(kc, { gates: options.gates }, undefined, { runCheckCommands: false }));
        assert.equal(before.length, 3);
        assert.equal(
            before[0],
            "- blocking pods maintenance/blocker=true: checked per node (pods matching maintenance/blocker=true on the node)",
        );
        assert.match(
            before[1],
            /^✗ blocking pods maintenance\/blocker=true \(cluster-wide\): pod matching .* default\/backup-1 \(\w+ on worker1\)$/,
        );
        assert.match(before[2], /^- check command .*: not run in this preview$/);
    });

    it("rollPreflight says per node whether it would start: node-scoped blocking pods judged per node from one list", async () => {
        const { c, kc } = await sim();
        c.apply(blockerPod("backup-1", "worker2"));
        // a completed blocker never blocks (kured#227)
        const done = blockerPod("report-1", "worker1");
        c.apply({ ...done, spec: { ...done.spec, restartPolicy: "Never" }, status: { phase: "Succeeded" } });
        c.clearRequestLog();
        const gates: SharedClusterOptions["gates"] = [{ type: "pods", selector: "maintenance/blocker=true" }];
        const r = await rollPreflight(kc, { gates }, ["master", "worker1", "worker2"]);
        assert.equal(r.ok, false);
        assert.deepEqual(
            r.nodes.map((n) => [n.node, n.startNow]),
            [
                ["master", true],
                ["worker1", true],
                ["worker2", false],
            ],
        );
        assert.match(
            startNowLine(r.nodes[2]),
            /^start now: no, blocked by pod matching maintenance\/blocker=true on worker2: default\/backup-1 \((Pending|Running)\)$/,
        );
        assert.equal(startNowLine(r.nodes[0]), "start now: yes");
        // one LIST of the selector for the whole roll, however many nodes; nothing written
        const pods = c.requestLog().filter((e) => e.method === "GET" && /\/pods/.test(e.path));
        assert.equal(pods.length, 1, JSON.stringify(pods.map((e) => e.path)));
        assert.deepEqual(writes(c), []);
        // a cluster-wide blocker (the lease) blocks every node, named without repeating what the report says
        c.apply({
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: "node-upgrade", namespace: "kube-system" },
            spec: { holderIdentity: OTHER, leaseDurationSeconds: 3600, acquireTime: micro(Date.now()), renewTime: micro(Date.now()) },
        });
        const held = await rollPreflight(kc, { holderIdentity: ME, lock: true }, ["worker1"]);
        assert.equal(startNowLine(held.nodes[0]), "start now: no, blocked by lease kube-system/node-upgrade");
    });

    it("rollPreflight runs a check command for each node with NODE_NAME, as up does; not at all when commands are off", async () => {
        const { kc } = await sim();
        const script = "if (process.env.NODE_NAME === 'worker2') { console.log('replica on worker2 lags'); process.exit(1) }";
        const gates: SharedClusterOptions["gates"] = [{ type: "command", command: [process.execPath, "-e", script] }];
        const r = await rollPreflight(kc, { gates }, ["master", "worker1", "worker2"]);
        assert.deepEqual(
            r.nodes.map((n) => startNowLine(n)),
            [
                "start now: yes",
                "start now: yes",
                `start now: no, blocked by check command ${process.execPath} -e ${JSON.stringify(script)} exited with 1; output:\nreplica on worker2 lags`,
            ],
        );
        assert.equal(r.ok, false);
        assert.match(formatPreflight(r.report).at(-1)!, /^- check command .*: run for each node, with NODE_NAME set \(see each node\)$/);
        const off = await rollPreflight(kc, { gates }, ["worker2"], { runCheckCommands: false });
        assert.equal(startNowLine(off.nodes[0]), "start now: yes");
        assert.match(formatPreflight(off.report).at(-1)!, /: not run in this preview$/);
    });

    it("acquireAndCheck takes the Lease and kured's lock when everything passes; release gives both back", async () => {
        const { c, kc } = await sim();
        c.apply(kuredDaemonSet());
        const ev = new Events();
        const session = await acquireAndCheck(
            kc,
            {
                holderIdentity: ME,
                lock: true,
                kuredLock: true,
                window: alwaysOpen,
                gates: [
                    { type: "pods", selector: "maintenance/blocker=true" },
                    { type: "command", command: ok },
                ],
            },
            "worker1",
            { onProgress: ev.push },
        );
        assert.equal(lease(c).spec.holderIdentity, ME);
        assert.equal(
            JSON.parse(c.get("DaemonSet", "kube-system", "kured").metadata.annotations[DEFAULT_KURED_ANNOTATION]).nodeID,
            `node-upgrade:${ME}`,
        );
        assert.deepEqual(
            ev.all.map((e) => `${e.item}:${e.phase}`),
            ["lease:acquired", "kured:acquired", "gates:ok"],
        );
        session.assertHeld();
        // the next node: a blocking pod there fails the per-node check, naming it
        c.apply(blockerPod("backup-2", "worker2"));
        await assert.rejects(session.checkNode("worker2"), (e: any) => {
            assert.ok(e instanceof SharedClusterBlockedError);
            assert.equal(e.item, "gates");
            assert.match(
                e.message,
                /^not starting: blocked by health gates for worker2: blocking pods maintenance\/blocker=true: pod matching .* default\/backup-2/,
            );
            return true;
        });
        await session.checkNode("master");
        await session.release();
        assert.equal(lease(c).spec.holderIdentity, undefined);
        assert.equal(c.get("DaemonSet", "kube-system", "kured").metadata.annotations?.[DEFAULT_KURED_ANNOTATION], undefined);
    });

    it("fails before taking anything when the window is closed", async () => {
        const { c, kc } = await sim();
        c.clearRequestLog();
        const clock = { now: () => Date.parse("2026-12-02T12:00:00Z"), sleep: async () => undefined };
        await assert.rejects(
            acquireAndCheck(
                kc,
                { holderIdentity: ME, lock: true, kuredLock: true, window: "mon-fri 22:00-04:00 Europe/Berlin" },
                "worker1",
                { clock },
            ),
            (e: any) => {
                assert.ok(e instanceof SharedClusterBlockedError);
                assert.equal(e.item, "window");
                assert.equal(
                    e.message,
                    "not starting: blocked by maintenance window: outside the window (mon-fri 22:00–04:00 Europe/Berlin); it opens at 2026-12-02T22:00:00+01:00; run `pulumi up` again then",
                );
                return true;
            },
        );
        assert.deepEqual(c.requestLog(), [], "not even a read");
    });

    it("a blocking gate fails it with the pod's name, and the locks it took are released", async () => {
        const { c, kc } = await sim();
        c.apply(kuredDaemonSet());
        c.apply(blockerPod("backup-1", "worker1"));
        await assert.rejects(
            acquireAndCheck(
                kc,
                { holderIdentity: ME, lock: true, kuredLock: true, gates: [{ type: "pods", selector: "maintenance/blocker=true" }] },
                "worker1",
            ),
            (e: any) => {
                assert.ok(e instanceof SharedClusterBlockedError);
                assert.equal(e.item, "gates");
                assert.match(
                    e.message,
                    /^not starting: blocked by health gates for worker1: blocking pods maintenance\/blocker=true: pod matching maintenance\/blocker=true on worker1: default\/backup-1 /,
                );
                return true;
            },
        );
        assert.equal(lease(c).spec.holderIdentity, undefined, "the Lease was given back");
        assert.equal(
            c.get("DaemonSet", "kube-system", "kured").metadata.annotations?.[DEFAULT_KURED_ANNOTATION],
            undefined,
            "kured's lock too",
        );
    });

    it("names the Lease holder and the kured node when they block; waits for the holder with a timeout", async () => {
        const { c, kc } = await sim();
        const other = await acquireLease(kc, { holderIdentity: OTHER });
        await assert.rejects(acquireAndCheck(kc, { holderIdentity: ME, lock: true }, "worker1"), (e: any) => {
            assert.equal(e.item, "lease");
            assert.match(
                e.message,
                /^not starting: blocked by lease kube-system\/node-upgrade: lease kube-system\/node-upgrade is held by cli bob@laptop pid 77 \(expires at /,
            );
            return true;
        });
        const ev = new Events();
        const pending = acquireAndCheck(kc, { holderIdentity: ME, lock: { timeoutMs: 30_000 }, pollMs: 20 }, "worker1", {
            onProgress: ev.push,
        });
        await ev.next((e) => e.item === "lease" && e.phase === "waiting");
        await other.release();
        const session = await pending;
        assert.equal(lease(c).spec.holderIdentity, ME);
        // kured holds its lock: we wait (take: false only waits) and fail naming the node; our Lease is released
        c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: kuredHeldBy("worker2") }));
        await session.release();
        await assert.rejects(acquireAndCheck(kc, { holderIdentity: ME, lock: true, kuredLock: { take: false } }, "worker1"), (e: any) => {
            assert.equal(e.item, "kured");
            assert.match(e.message, /is held by node worker2 since /);
            return true;
        });
        assert.equal(lease(c).spec.holderIdentity, undefined);
    });

    it("waits on the Lease every 1 s by default; lock.pollMs overrides it (and is validated)", async () => {
        const { c, kc } = await sim();
        for (const [lock, expected] of [
            [{ timeoutMs: 60_000 }, 1000],
            [{ timeoutMs: 60_000, pollMs: 3000 }, 3000],
        ] as const) {
            const other = await acquireLease(kc, { holderIdentity: OTHER });
            const clock = new ManualClock();
            const ev = new Events();
            const pending = acquireAndCheck(kc, { holderIdentity: ME, lock }, "worker1", { onProgress: ev.push, clock });
            await ev.next((e) => e.item === "lease" && e.phase === "waiting");
            await other.release();
            clock.advance(expected - 1);
            assert.equal(clock.sleeping, 1, `no re-check before ${expected} ms`);
            clock.advance(1);
            const session = await pending;
            assert.equal(lease(c).spec.holderIdentity, ME);
            await session.release();
        }
        assert.deepEqual(validateSharedClusterOptions({ lock: { pollMs: 0 }, kuredLock: { pollMs: -1 } }), [
            "lock: pollMs must be a number > 0, not 0",
            "kuredLock: pollMs must be a number > 0, not -1",
        ]);
    });

    describe("permissions (deploy/rbac.yaml, enforced by the simulator)", () => {
        const text = fs.readFileSync(RBAC_FILE, "utf8");
        const optionalKured = () => {
            const m = /# --- optional: kured interop[^\n]*\n([\s\S]*?)# --- end of optional: kured interop/.exec(text);
            assert.ok(m, "the optional kured block is in deploy/rbac.yaml");
            const lines = m[1].split("\n");
            const yaml = lines
                .slice(lines.indexOf("# ---")) // the prose above the first document separator explains the block
                .map((l) => l.replace(/^# ?/, ""))
                .join("\n");
            return clusterRoleRules(yaml, "node-upgrade-kured");
        };
        const restricted = async (rules: PolicyRule[]) => {
            const { c } = await sim({ rbac: { rules, user: "system:serviceaccount:kube-system:node-upgrade" } });
            return { c, kc: loadKubeConfig({ kubeconfig: c.rbac!.kubeconfig }) };
        };

        it("the Lease Role grants exactly create + get/update on kube-system/node-upgrade; the kured rules are optional", () => {
            assert.deepEqual(clusterRoleRules(text, "node-upgrade-lease"), [
                {
                    verbs: ["create"],
                    apiGroups: ["coordination.k8s.io"],
                    resources: ["leases"],
                    resourceNames: undefined,
                    nonResourceURLs: undefined,
                },
                {
                    verbs: ["get", "update"],
                    apiGroups: ["coordination.k8s.io"],
                    resources: ["leases"],
                    resourceNames: ["node-upgrade"],
                    nonResourceURLs: undefined,
                },
            ]);
            assert.deepEqual(optionalKured(), [
                {
                    verbs: ["get", "patch"],
                    apiGroups: ["apps"],
                    resources: ["daemonsets"],
                    resourceNames: ["kured"],
                    nonResourceURLs: undefined,
                },
            ]);
            assert.ok(!text.split("\n").some((l) => /^\s*name: node-upgrade-kured/.test(l)), "the kured Role is commented out");
        });

        it("lock + kured + gates work with the ClusterRole, the Lease Role and the optional kured Role: no request refused", async () => {
            const rules = [...clusterRoleRules(text, "node-upgrade"), ...clusterRoleRules(text, "node-upgrade-lease"), ...optionalKured()];
            const { c, kc } = await restricted(rules);
            c.apply(kuredDaemonSet());
            const options: SharedClusterOptions = {
                holderIdentity: ME,
                lock: true,
                kuredLock: true,
                gates: [{ type: "pods", selector: "maintenance/blocker=true" }],
            };
            const report = await preflight(kc, options, "worker1");
            assert.equal(report.ok, true, formatPreflight(report).join("\n"));
            const s = await acquireAndCheck(kc, options, "worker1");
            await s.lease!.renew();
            await s.release();
            const mine = c.requestLog().filter((r: any) => r.user);
            assert.ok(mine.length >= 8);
            assert.deepEqual(
                mine.filter((r) => r.status === 403).map((r) => `${r.method} ${r.path}`),
                [],
            );
            assert.deepEqual([...new Set(mine.map((r) => `${r.method} ${r.resource}`))].sort(), [
                "GET daemonsets",
                "GET leases",
                "GET pods",
                "PATCH daemonsets",
                "POST leases",
                "PUT leases",
            ]);
        });

        it("without the optional kured Role, kured interop fails with the permission it lacks (the Lease is given back)", async () => {
            const rules = [...clusterRoleRules(text, "node-upgrade"), ...clusterRoleRules(text, "node-upgrade-lease")];
            const { c, kc } = await restricted(rules);
            c.apply(kuredDaemonSet());
            await assert.rejects(
                acquireAndCheck(kc, { holderIdentity: ME, lock: true, kuredLock: true }, "worker1"),
                /cannot write the kured lock on DaemonSet kube-system\/kured: .*cannot patch resource "daemonsets"/,
            );
            assert.equal(lease(c).spec.holderIdentity, undefined);
        });
    });
});
