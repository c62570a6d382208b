// The provider objects' methods called directly (in-process) against the simulated seed cluster: what each
// step does to the node, its no-op cases, refresh, and its errors.
import * as assert from "assert";
import { nodeCordonProvider } from "../../components/node-cordon";
import { nodeDrainProvider } from "../../components/node-drain";
import { nodeReadyProvider } from "../../components/node-ready";
import { nodeUncordonProvider } from "../../components/node-uncordon";
import { nodeState, startTestCluster, TestCluster, writeRequests } from "../helpers/pulumi-sim";

describe("components: step providers against the simulated cluster", function () {
    let cluster: TestCluster;
    let base: Record<string, any>;
    const quiet = silenceConsole();

    before(async () => {
        cluster = await startTestCluster("seed", { upgradeDownSeconds: 30 });
        base = { nodeName: "worker1", targetVersion: "v1.20.0", commandHash: "h1", revision: "", kubeconfig: cluster.kubeconfig };
    });
    after(async () => cluster?.stop());
    beforeEach(() => quiet.start());
    afterEach(() => quiet.stop());

    it("check accepts a known node and rejects an unknown one (but NodeReady tolerates a missing node)", async () => {
        assert.deepStrictEqual((await nodeCordonProvider.check!({}, base)).failures, []);
        const ghost = await nodeDrainProvider.check!({}, { ...base, nodeName: "ghost" });
        assert.deepStrictEqual(ghost.failures, [{ property: "nodeName", reason: 'NodeDrain: node "ghost" not found in the cluster' }]);
        assert.deepStrictEqual((await nodeReadyProvider.check!({}, { ...base, nodeName: "ghost" })).failures, []);
        // A step that will not run (same triggers as its stored state) does not even ask the cluster.
        cluster.sim.clearRequestLog();
        await nodeUncordonProvider.check!({ ...base }, { ...base, kubeconfig: base.kubeconfig });
        assert.strictEqual(cluster.sim.requestLog().length, 0);
    });

    it("check normalizes durations and rejects bad ones", async () => {
        const drain = await nodeDrainProvider.check!({}, { ...base, timeout: "2m", gracePeriodSeconds: -1 });
        assert.deepStrictEqual(drain.failures, []);
        assert.strictEqual(drain.inputs!.timeoutSeconds, 120);
        const bad = await nodeDrainProvider.check!({}, { ...base, timeout: "soon", gracePeriodSeconds: -5, force: "yes" });
        assert.deepStrictEqual(bad.failures!.map((f) => f.property).sort(), ["force", "gracePeriodSeconds", "timeout"]);
        assert.match(bad.failures!.find((f) => f.property === "timeout")!.reason, /NodeDrain: timeout: invalid duration "soon"/);
        // Workload pacing: a whole number ≥ 0.
        assert.deepStrictEqual((await nodeDrainProvider.check!({}, { ...base, maxUnavailablePerWorkload: 0 })).failures, []);
        assert.deepStrictEqual((await nodeDrainProvider.check!({}, { ...base, maxUnavailablePerWorkload: 2 })).failures, []);
        for (const v of [-1, 1.5, "1"]) {
            const f = (await nodeDrainProvider.check!({}, { ...base, maxUnavailablePerWorkload: v })).failures!;
            assert.deepStrictEqual(
                f.map((x) => x.property),
                ["maxUnavailablePerWorkload"],
                String(v),
            );
            assert.match(
                f[0].reason,
                /NodeDrain: maxUnavailablePerWorkload must be a whole number of pods \(0 = no workload pacing, as kubectl\)/,
            );
        }
        const ready = await nodeReadyProvider.check!({}, { ...base, timeout: "90s", soak: "1m", pollInterval: "250ms" });
        assert.deepStrictEqual(ready.failures, []);
        assert.deepStrictEqual(
            [ready.inputs!.timeoutSeconds, ready.inputs!.soakSeconds, ready.inputs!.pollIntervalSeconds],
            [90, 60, 0.25],
        );
        assert.match(
            (await nodeReadyProvider.check!({}, { ...base, pollInterval: "0s" })).failures![0].reason,
            /pollInterval must be above zero/,
        );
    });

    it("cordon marks the node unschedulable with our annotation; again it sends nothing", async () => {
        const { id, outs } = await nodeCordonProvider.create(base);
        assert.strictEqual(id, "worker1");
        assert.strictEqual(outs.cordoned, true);
        assert.strictEqual(outs.versionBefore, "v1.19.0");
        assert.strictEqual(outs.alreadyAtTarget, false);
        assert.strictEqual(outs.kubeconfig, base.kubeconfig, "outputs keep the (secret) kubeconfig for refresh");
        assert.deepStrictEqual(nodeState(cluster.sim, "worker1"), {
            unschedulable: true,
            ready: true,
            kubeletVersion: "v1.19.0",
            cordonedByUs: true,
        });
        cluster.sim.clearRequestLog();
        const again = await nodeCordonProvider.update!("worker1", outs, base);
        assert.strictEqual(again.outs.cordoned, false);
        assert.match(again.outs.message, /already cordoned by node-upgrade/);
        assert.deepStrictEqual(writeRequests(cluster.sim), []);
        const refreshed = await nodeCordonProvider.read!("worker1", outs);
        assert.strictEqual(refreshed.props.observedUnschedulable, true);
        assert.strictEqual(refreshed.props.observedCordonedByUs, true);
    });

    it("drain evicts the node's pods like kubectl drain and reports them", async () => {
        const checked = await nodeDrainProvider.check!({}, { ...base, ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "60s" });
        const { outs } = await nodeDrainProvider.create(checked.inputs);
        assert.strictEqual(outs.alreadyAtTarget, false);
        assert.strictEqual(outs.evictedPods.filter((p: string) => p.startsWith("default/http-go-")).length, 6);
        assert.ok(outs.skippedPods.some((p: string) => p.startsWith("kube-system/kube-proxy-")));
        assert.ok(outs.warnings.some((w: string) => /DaemonSet-managed/.test(w)));
        const left = cluster.sim
            .list("Pod")
            .filter((p) => p.spec?.nodeName === "worker1" && !p.metadata?.ownerReferences?.some((o: any) => o.kind === "DaemonSet"));
        assert.deepStrictEqual(
            left.map((p) => p.metadata.name),
            [],
        );
    });

    it("ready waits through the node's restart until it is Ready at the target, then soaks", async () => {
        const inputs = (
            await nodeReadyProvider.check!(
                {},
                { ...base, timeout: "60s", soak: "1s", expectNotReady: true, notReadyTimeout: "10s", pollInterval: "100ms" },
            )
        ).inputs!;
        cluster.sim.clearRequestLog();
        const waiting = nodeReadyProvider.create(inputs);
        // The step is watching for the restart once it has read the node (the event, not a fixed time).
        await cluster.sim.waitFor(
            () => cluster.sim.requestLog().some((r) => r.method === "GET" && r.path === "/api/v1/nodes/worker1"),
            600,
        );
        await cluster.sim.upgradeNode("worker1", "v1.20.0");
        const { outs } = await waiting;
        assert.strictEqual(outs.ready, true);
        assert.strictEqual(outs.kubeletVersion, "v1.20.0");
        assert.strictEqual(outs.soakedSeconds, 1);
        // It saw the node go down, then waited for it to come back.
        assert.ok(
            quiet.lines.some((l) => /\[NodeReady worker1\] went down for the restart; waiting for it to come back/.test(l)),
            quiet.lines.join("\n"),
        );
        assert.ok(outs.waitedSeconds > 0, `waited ${outs.waitedSeconds}s`);
        assert.deepStrictEqual(nodeState(cluster.sim, "worker1").kubeletVersion, "v1.20.0");
    });

    it("a node that goes NotReady during the soak restarts the soak", async () => {
        const inputs = (await nodeReadyProvider.check!({}, { ...base, timeout: "60s", soak: "2s", pollInterval: "100ms" })).inputs!;
        const waiting = nodeReadyProvider.create(inputs);
        await quiet.waitForLine(/\[NodeReady worker1\] Ready at v1\.20\.0; soaking for 2s before uncordon/);
        await cluster.sim.upgradeNode("worker1", "v1.20.0"); // a flap: NotReady for 30 simulated seconds
        const { outs } = await waiting;
        assert.strictEqual(outs.soakedSeconds, 2);
        assert.ok(
            quiet.lines.some((l) => /\[NodeReady worker1\] went NotReady during the soak; waiting for it again/.test(l)),
            "the soak was not restarted",
        );
    });

    it("ready fails after its timeout saying what it last saw", async () => {
        const inputs = (await nodeReadyProvider.check!({}, { ...base, targetVersion: "v1.99.0", timeout: "1s", pollInterval: "100ms" }))
            .inputs!;
        await assert.rejects(
            nodeReadyProvider.create(inputs),
            /^Error: NodeReady worker1: timed out after 1s waiting for node worker1: node worker1 is Ready at v1\.20\.0, waiting for Ready at v1\.99\.0/,
        );
    });

    it("uncordon undoes our cordon only", async () => {
        const { outs } = await nodeUncordonProvider.create(base);
        assert.strictEqual(outs.uncordoned, true);
        assert.deepStrictEqual(nodeState(cluster.sim, "worker1"), {
            unschedulable: false,
            ready: true,
            kubeletVersion: "v1.20.0",
            cordonedByUs: false,
        });

        // An operator's own cordon (no annotation) is left in place.
        const node = cluster.sim.get("Node", undefined, "worker2");
        cluster.sim.apply({ ...node, spec: { ...node.spec, unschedulable: true } });
        const other = await nodeUncordonProvider.create({ ...base, nodeName: "worker2" });
        assert.strictEqual(other.outs.uncordoned, false);
        assert.match(other.outs.message, /left cordoned: the cordon was not made by node-upgrade/);
        assert.strictEqual(nodeState(cluster.sim, "worker2").unschedulable, true);
        cluster.sim.apply({ ...cluster.sim.get("Node", undefined, "worker2"), spec: { ...node.spec, unschedulable: false } });
    });

    it("a node already at the target is left alone by cordon and drain, and the wait returns at once", async () => {
        cluster.sim.clearRequestLog();
        const cordon = await nodeCordonProvider.create(base);
        assert.strictEqual(cordon.outs.alreadyAtTarget, true);
        assert.match(cordon.outs.message, /already at v1\.20\.0: not cordoning/);
        const drain = await nodeDrainProvider.create({ ...base, ignoreDaemonSets: true });
        assert.strictEqual(drain.outs.alreadyAtTarget, true);
        assert.deepStrictEqual(drain.outs.evictedPods, []);
        const ready = await nodeReadyProvider.create({ ...base, pollIntervalSeconds: 0.1 });
        assert.strictEqual(ready.outs.kubeletVersion, "v1.20.0");
        const uncordon = await nodeUncordonProvider.create(base);
        assert.match(uncordon.outs.message, /already schedulable: nothing to do/);
        assert.deepStrictEqual(writeRequests(cluster.sim), []);
    });

    it("refresh reports the live node, and a node that is gone as a deleted resource", async () => {
        const { outs } = await nodeReadyProvider.create({ ...base, pollIntervalSeconds: 0.1 });
        const live = await nodeReadyProvider.read!("worker1", { ...outs, kubeletVersion: "v0.0.1" });
        assert.strictEqual(live.props.kubeletVersion, "v1.20.0");
        const gone = await nodeCordonProvider.read!("ghost", { ...base, nodeName: "ghost" });
        assert.strictEqual(gone.id, undefined);
    });

    it("delete never touches the node: the providers have no delete at all (the host then runs no code)", async () => {
        for (const p of [nodeCordonProvider, nodeDrainProvider, nodeReadyProvider, nodeUncordonProvider])
            assert.strictEqual(p.delete, undefined);
    });
});

/**
 * Provider progress lines go to console.log (the host's stdout): kept out of the test output, and recorded so a
 * test can wait for the step to say it reached a point (an event, not a fixed time).
 */
function silenceConsole() {
    const original = console.log;
    const lines: string[] = [];
    let waiters: (() => void)[] = [];
    return {
        lines,
        start: () =>
            (console.log = (...a: unknown[]) => {
                lines.push(a.map(String).join(" "));
                waiters.forEach((w) => w());
            }),
        stop: () => (console.log = original),
        /** Resolves once a printed line matches. */
        waitForLine(pattern: RegExp): Promise<string> {
            return new Promise((resolve) => {
                const check = () => {
                    const found = lines.find((l) => pattern.test(l));
                    if (found === undefined) return false;
                    waiters = waiters.filter((w) => w !== listener);
                    resolve(found);
                    return true;
                };
                const listener = () => void check();
                if (!check()) waiters.push(listener);
            });
        },
    };
}
