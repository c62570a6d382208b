// Safe in a shared cluster, through the root program (real provider host, local engine, simulated cluster):
// the roll lock is on by default and released after each node; another holder's Lease, kured's lock, a firing
// alert in a real Prometheus and a closed maintenance window each show in preview and stop `up` before the first
// node is cordoned, naming what blocks; a holder that lets go while we wait lets the roll proceed.
import * as assert from "assert";
import { DynamicProviderHost, LocalEngine, REPO_ROOT } from "../../local-engine";
import { nodeState, simStackConfig, startTestCluster, TestCluster, writeRequests } from "../helpers/pulumi-sim";
import { prometheusPerSuite } from "../helpers/prometheus";
import { loadComponents, type Components } from "../helpers/components";
import { kuredDaemonSet, kuredLockHeldBy } from "../shared-cluster/helpers";

let c: Components;
const NODES = ["master", "worker1", "worker2"];
const roll = () => c.rollFromConfig().report;

const configFor = (cluster: TestCluster, values: Record<string, unknown> = {}) =>
    simStackConfig(cluster, { nodes: NODES, targetVersion: "v1.20.0", ...values });

/** A Lease held by someone else, renewed just now, for an hour. */
function foreignLease(cluster: TestCluster, holder = "alice@laptop (node-upgrade drain)") {
    const now = new Date().toISOString().replace(/Z$/, "000Z");
    cluster.sim.apply({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "node-upgrade", namespace: "kube-system" },
        spec: { holderIdentity: holder, leaseDurationSeconds: 3600, acquireTime: now, renewTime: now },
    });
}

const lease = (cluster: TestCluster) => cluster.sim.get("Lease", "kube-system", "node-upgrade");
const nodeWrites = (cluster: TestCluster) => writeRequests(cluster.sim).filter((w) => w.includes("/nodes/"));

/** Collects what preview logs (pulumi.log.info / warn print to the console under the local engine). */
async function logsOf<T>(run: () => Promise<T>): Promise<{ result: T; logged: string[] }> {
    const logged: string[] = [];
    const original = { log: console.log, warn: console.warn, error: console.error };
    console.log = console.warn = console.error = (...a: any[]) => logged.push(a.join(" "));
    try {
        return { result: await run(), logged };
    } finally {
        Object.assign(console, original);
    }
}

describe("components: safe in a shared cluster (lock, kured, gates, window)", function () {
    this.timeout(120_000);
    let host: DynamicProviderHost;
    let hostLines: string[] = [];
    let onLine: ((line: string) => void) | undefined;
    let cluster: TestCluster;
    let engine: LocalEngine;

    before(async () => {
        c = await loadComponents();
        host = await DynamicProviderHost.start({
            onOutput: (line) => {
                hostLines.push(line);
                onLine?.(line);
            },
        });
    });
    after(async () => host?.stop());
    beforeEach(async () => {
        hostLines = [];
        cluster = await startTestCluster("seed");
        engine = new LocalEngine(host, { cwd: REPO_ROOT });
    });
    afterEach(async () => cluster?.stop());

    it("by default each node's cordon takes the Lease kube-system/node-upgrade and its uncordon releases it", async () => {
        const result = await engine.run(roll, { config: configFor(cluster), secretKeys: ["kubeconfig"] });
        assert.ok(result.ok, result.error?.message);
        for (const n of NODES) assert.strictEqual(nodeState(cluster.sim, n).kubeletVersion, "v1.20.0");
        const l = lease(cluster);
        assert.ok(l, "the roll created the Lease");
        assert.ok(!l.spec.holderIdentity, `released after the last uncordon, holder ${l.spec.holderIdentity}`);
        assert.ok(
            hostLines.some((x) => /\[NodeUncordon worker2\] released the roll lock/.test(x)),
            hostLines.join("\n"),
        );
    });

    it("another holder's Lease: preview says who holds it; up stops before the first cordon, naming the holder", async () => {
        foreignLease(cluster);
        cluster.sim.clearRequestLog();
        const { result: preview, logged } = await logsOf(() =>
            engine.run(roll, { config: configFor(cluster), secretKeys: ["kubeconfig"], preview: true }),
        );
        assert.ok(preview.ok, preview.error?.message);
        const text = logged.join("\n");
        assert.match(text, /shared cluster: master would NOT start now/);
        assert.match(text, /✗ lease kube-system\/node-upgrade: .*alice@laptop/);
        // and on every node: the lease blocks each of them
        assert.strictEqual(text.match(/shared cluster: start now: no, blocked by lease kube-system\/node-upgrade$/gm)?.length, 3, text);
        assert.deepStrictEqual(writeRequests(cluster.sim), [], "preview writes nothing");

        const up = await engine.run(roll, { config: configFor(cluster), secretKeys: ["kubeconfig"] });
        assert.ok(!up.ok, "up must stop");
        assert.match(up.error!.message, /NodeCordon master: not starting: .*held by alice@laptop/);
        for (const n of NODES) assert.ok(!nodeState(cluster.sim, n).unschedulable, `${n} must stay schedulable`);
        assert.deepStrictEqual(nodeWrites(cluster), [], "nothing was cordoned");
        assert.strictEqual(lease(cluster).spec.holderIdentity, "alice@laptop (node-upgrade drain)", "their lease is left alone");
    });

    it("a blocking pod on worker2: preview says master and worker1 would start now and worker2 would not, naming the pod", async () => {
        cluster.sim.apply({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "backup-1", namespace: "default", labels: { "maintenance/blocker": "true" } },
            spec: { nodeName: "worker2", containers: [{ name: "c", image: "busybox" }] },
        });
        const { result: preview, logged } = await logsOf(() =>
            engine.run(roll, {
                config: configFor(cluster, { blockingPodSelector: "maintenance/blocker=true" }),
                secretKeys: ["kubeconfig"],
                preview: true,
            }),
        );
        assert.ok(preview.ok, preview.error?.message);
        const starts = logged.join("\n").match(/shared cluster: start now: .*/g) ?? [];
        assert.deepStrictEqual(
            starts.map((l) => l.replace(/ \((Pending|Running)\)$/, "")),
            [
                "shared cluster: start now: yes",
                "shared cluster: start now: yes",
                "shared cluster: start now: no, blocked by pod matching maintenance/blocker=true on worker2: default/backup-1",
            ],
            logged.join("\n"),
        );
    });

    it("a holder that lets go while we wait (lockTimeout): the roll reports the wait, then proceeds", async () => {
        foreignLease(cluster);
        // Let go as soon as the roll says it waits on the holder (on that line, not after a fixed time).
        const waited = new Promise<string>((resolve) => {
            onLine = (line) => {
                if (!/lease: waiting: lease kube-system\/node-upgrade is held by alice@laptop/.test(line)) return;
                onLine = undefined;
                const l = lease(cluster);
                cluster.sim.apply({ ...l, spec: { ...l.spec, holderIdentity: null } });
                resolve(line);
            };
        });
        const result = await engine.run(roll, { config: configFor(cluster, { lockTimeout: "2m" }), secretKeys: ["kubeconfig"] });
        assert.ok(result.ok, result.error?.message);
        assert.match(
            await waited,
            /\[NodeCordon master\] lease: waiting: lease kube-system\/node-upgrade is held by alice@laptop .*\(2m0s left\)/,
        );
        for (const n of NODES) assert.strictEqual(nodeState(cluster.sim, n).kubeletVersion, "v1.20.0");
    });

    it("kured rebooting a node (its lock annotation): preview shows it; up stops before cordoning, naming kured's node", async () => {
        cluster.sim.apply(kuredDaemonSet(kuredLockHeldBy("worker2")));
        const { logged } = await logsOf(() => engine.run(roll, { config: configFor(cluster), secretKeys: ["kubeconfig"], preview: true }));
        assert.match(logged.join("\n"), /✗ kured.*worker2/);
        cluster.sim.clearRequestLog();
        const up = await engine.run(roll, { config: configFor(cluster), secretKeys: ["kubeconfig"] });
        assert.ok(!up.ok);
        assert.match(up.error!.message, /NodeCordon master: not starting: .*kured.*worker2/);
        assert.deepStrictEqual(nodeWrites(cluster), []);
        assert.ok(!lease(cluster)?.spec?.holderIdentity, "the Lease taken before kured's check was given back");
    });

    it("a closed maintenance window: preview says when it opens; up stops before the first node and says to run again then", async () => {
        // A window of one minute, twelve hours from now: closed now, whatever the time of day.
        const opens = new Date(Date.now() + 12 * 3600_000);
        const hhmm = (d: Date) => d.toISOString().slice(11, 16);
        const window = `* ${hhmm(opens)}-${hhmm(new Date(opens.getTime() + 60_000))} UTC`;
        const { logged } = await logsOf(() =>
            engine.run(roll, { config: configFor(cluster, { maintenanceWindow: window }), secretKeys: ["kubeconfig"], preview: true }),
        );
        assert.match(logged.join("\n"), /✗ maintenance window.*opens at/);
        cluster.sim.clearRequestLog();
        const up = await engine.run(roll, { config: configFor(cluster, { maintenanceWindow: window }), secretKeys: ["kubeconfig"] });
        assert.ok(!up.ok);
        assert.match(up.error!.message, /outside the window .*; it opens at .*; run `pulumi up` again then/);
        assert.deepStrictEqual(nodeWrites(cluster), []);
    });

    describe("with a real Prometheus whose AlwaysFiring alert fires", () => {
        const prometheus = prometheusPerSuite();

        it("preview names the alert; up stops before the first cordon, naming AlwaysFiring", async () => {
            const config = configFor(cluster, { prometheusUrl: prometheus.url });
            const { logged } = await logsOf(() => engine.run(roll, { config, secretKeys: ["kubeconfig"], preview: true }));
            assert.match(logged.join("\n"), /✗ .*AlwaysFiring/);
            cluster.sim.clearRequestLog();
            const up = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(!up.ok);
            assert.match(up.error!.message, /NodeCordon master: not starting: .*AlwaysFiring/);
            assert.deepStrictEqual(nodeWrites(cluster), []);
            // With the alert filtered out (kured's --alert-filter-regexp), the roll goes.
            const filtered = await engine.run(roll, {
                config: configFor(cluster, { prometheusUrl: prometheus.url, alertFilterRegexp: "^Always" }),
                secretKeys: ["kubeconfig"],
            });
            assert.ok(filtered.ok, filtered.error?.message);
        });
    });
});
