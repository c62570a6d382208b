// The node-upgrade CLI as a process against the simulated cluster: kubectl-like output, our extra progress
// lines, errors on stderr and exit codes.
import assert from "node:assert/strict";
import { asList, cluster, deployment, nodeUpgrade, pdb, podsOnNode, startSim } from "./fixtures";

type Sim = Awaited<ReturnType<typeof startSim>>;

describe("cli: node-upgrade against the simulator", function () {
    const sims: Sim[] = [];
    afterEach(async () => {
        for (const c of sims.splice(0)) await c.stop();
    });
    async function sim(...args: Parameters<typeof startSim>): Promise<Sim> {
        const c = await startSim(...args);
        sims.push(c);
        return c;
    }

    it("drain prints kubectl's lines: cordoned, warning, evicting, evicted, drained", async () => {
        const f = cluster();
        deployment(f, "web", ["w1", "w1"], { grace: 1 });
        const c = await sim(asList(f));
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "w1", "--ignore-daemonsets"]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout.trim().split("\n");
        assert.equal(out[0], "node/w1 cordoned");
        assert.equal(out.filter((l) => /^evicting pod default\/web-\S+-p[01]$/.test(l)).length, 2);
        assert.equal(out.filter((l) => /^pod\/web-\S+ evicted$/.test(l)).length, 2);
        assert.equal(out[out.length - 1], "node/w1 drained");
        assert.equal(r.stderr.trim(), "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-w1");
    });

    it("drain reports a budget wait and, on timeout, names pod, budget and numbers; exit 1", async () => {
        const f = cluster();
        deployment(f, "critical", ["w1"]);
        pdb(f, "critical-pdb", "critical", { minAvailable: 1 });
        const c = await sim(asList(f));
        const pod = podsOnNode(c, "w1").find((p) => p.includes("critical"))!;
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "w1", "--ignore-daemonsets", "--timeout=2s"]);
        assert.equal(r.code, 1);
        assert.match(
            r.stderr,
            new RegExp(`^pod ${pod} waiting on PodDisruptionBudget default/critical-pdb \\(needs 1 healthy pod, has 1\\)$`, "m"),
        );
        assert.match(
            r.stderr,
            new RegExp(
                `^  pod ${pod}: PodDisruptionBudget default/critical-pdb allows no disruption \\(needs 1 healthy pod and has 1; 0 disruptions allowed\\)$`,
                "m",
            ),
        );
        assert.match(r.stderr, /^There are pending nodes to be drained:\n w1$/m);
        assert.match(r.stderr, /^error: drain of node "w1" timed out after 2s with 1 pod remaining$/m);
    });

    it("--max-unavailable-per-workload 1 prints what a pod waits for and, on timeout, names the workload; exit 1", async () => {
        const f = cluster();
        deployment(f, "web", ["w1", "w1"], { grace: 1 });
        const c = await sim(asList(f));
        c.faults.add({ type: "neverReady", labelSelector: "app=web" });
        const r = await nodeUpgrade(c.kubeconfigPath, [
            "drain",
            "w1",
            "--ignore-daemonsets",
            "--timeout=2s",
            "--max-unavailable-per-workload",
            "1",
        ]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
            r.stderr,
            /^pod default\/web-\S+ waiting for default\/web to have 2 Ready replicas \(has 1; maxUnavailablePerWorkload 1\)$/m,
        );
        assert.match(
            r.stderr,
            /^ {2}pod default\/web-\S+: waiting for default\/web to have 2 Ready replicas \(has 1; maxUnavailablePerWorkload 1\)$/m,
        );
        assert.match(r.stderr, /^error: drain of node "w1" timed out after 2s with 1 pod remaining$/m);
        assert.equal(podsOnNode(c, "w1").filter((p) => p.startsWith("default/web-")).length, 1);
    });

    it("a blocked drain prints kubectl's error lines and exits 1 without evicting", async () => {
        const c = await sim("seed", { timeScale: 30 });
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "worker1"]);
        assert.equal(r.code, 1);
        assert.equal(r.stdout.trim(), "node/worker1 cordoned");
        assert.match(
            r.stderr,
            /^error: unable to drain node "worker1" due to error: \[cannot delete Pods with local storage .*, cannot delete DaemonSet-managed Pods .*\], continuing command\.\.\.$/m,
        );
        assert.match(
            r.stderr,
            /^cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-587jv, kube-system\/weave-net-p964j$/m,
        );
        assert.equal(podsOnNode(c, "worker1").length, 17);
    });

    it("drain -l drains every selected node, cordoning them all first", async () => {
        const f = cluster();
        for (const n of ["w1", "w2"]) f.nodes.get(n).metadata.labels.pool = "blue";
        deployment(f, "web", ["w1", "w2", "w3"], { grace: 1 });
        const c = await sim(asList(f));
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "-l", "pool=blue", "--ignore-daemonsets"]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.deepEqual(lines.slice(0, 2), ["node/w1 cordoned", "node/w2 cordoned"]);
        assert.ok(lines.includes("node/w1 drained") && lines.includes("node/w2 drained"));
        assert.deepEqual(podsOnNode(c, "w1"), ["kube-system/kube-proxy-w1"]);
        assert.deepEqual(podsOnNode(c, "w2"), ["kube-system/kube-proxy-w2"]);
        const both = await nodeUpgrade(c.kubeconfigPath, ["drain", "w1", "-l", "pool=blue"]);
        assert.equal(both.code, 1);
        assert.match(both.stderr, /cannot specify both a node name and a --selector option/);
    });

    it("cordon / uncordon / uncordon --only-if-cordoned-by-us", async () => {
        const c = await sim("seed", { timeScale: 30 });
        let r = await nodeUpgrade(c.kubeconfigPath, ["cordon", "worker1", "worker2"]);
        assert.equal(r.stdout, "node/worker1 cordoned\nnode/worker2 cordoned\n");
        // worker2's cordon now "belongs" to an operator: drop our annotation behind our back.
        const w2 = c.get("Node", undefined, "worker2");
        delete w2.metadata.annotations["node-upgrade.pulumi.com/cordoned-by"];
        c.apply(w2);
        r = await nodeUpgrade(c.kubeconfigPath, ["uncordon", "worker1", "worker2", "--only-if-cordoned-by-us"]);
        assert.equal(r.code, 0);
        assert.equal(r.stdout, "node/worker1 uncordoned\nnode/worker2 left cordoned: the cordon was not made by node-upgrade\n");
        assert.equal(c.get("Node", undefined, "worker2").spec.unschedulable, true);
        r = await nodeUpgrade(c.kubeconfigPath, ["uncordon", "worker1"]);
        assert.equal(r.stdout, "node/worker1 already uncordoned\n");
        r = await nodeUpgrade(c.kubeconfigPath, ["cordon", "nope"]);
        assert.equal(r.code, 1);
        assert.equal(r.stderr.trim(), 'error: node "nope" not found');
    });

    it("wait --version waits for the upgraded kubelet; a timeout says what it saw", async () => {
        const c = await sim("seed", { timeScale: 10 });
        let r = await nodeUpgrade(c.kubeconfigPath, ["wait", "worker1", "--version", "v1.20.0", "--timeout", "1s"]);
        assert.equal(r.code, 1);
        assert.match(
            r.stderr,
            /^error: timed out after 1s waiting for node worker1: node worker1 is Ready at v1\.19\.0, waiting for Ready at v1\.20\.0$/m,
        );
        const upgrade = c.upgradeNode("worker1", "v1.20.0", { downSeconds: 5 });
        r = await nodeUpgrade(c.kubeconfigPath, ["wait", "worker1", "--version", "1.20.0", "--timeout", "30s"]);
        await upgrade;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^node\/worker1 Ready at v1\.20\.0$/m);
    });

    it("dry-run=client prints what would happen and changes nothing", async () => {
        const f = cluster();
        deployment(f, "web", ["w1"], { grace: 1 });
        const c = await sim(asList(f));
        const r = await nodeUpgrade(c.kubeconfigPath, ["drain", "w1", "--ignore-daemonsets", "--dry-run=client"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
            r.stdout,
            /^node\/w1 cordoned \(dry run\)\nevicting pod default\/web-\S+ \(dry run\)\nnode\/w1 drained \(dry run\)\n$/,
        );
        assert.equal(!!c.get("Node", undefined, "w1").spec.unschedulable, false);
    });
});
