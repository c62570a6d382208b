// Acceptance 1: the Korean node-upgrade walkthrough, replayed with the real
// kubectl against the simulated "seed" cluster.

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { kubectl, requireKubectl } from "../helpers/sim-kubectl";

function rows(out: string): string[][] {
    return out
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(/\s{2,}/));
}

describe("sim: seed walkthrough with real kubectl", function () {
    let c: SimCluster;

    before(async function () {
        requireKubectl(this);
        c = await startCluster({ scenario: "seed", timeScale: 60 });
    });
    after(async () => {
        await c?.stop();
    });

    it("kubectl get nodes: 3 nodes Ready at v1.19.0, ROLES master/<none>", async () => {
        const r = await kubectl(c, ["get", "nodes"]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.match(lines[0], /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
        const t = rows(r.stdout);
        assert.deepEqual(
            t.map((x) => [x[0], x[1], x[2], x[4]]),
            [
                ["master", "Ready", "master", "v1.19.0"],
                ["worker1", "Ready", "<none>", "v1.19.0"],
                ["worker2", "Ready", "<none>", "v1.19.0"],
            ],
        );
        for (const x of t) assert.equal(x[3], "127d");
    });

    it("kubectl drain worker1 fails naming DaemonSet and local-storage pods", async () => {
        const r = await kubectl(c, ["drain", "worker1"]);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout, /node\/worker1 cordoned/);
        assert.match(
            r.stderr,
            /cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-587jv, kube-system\/weave-net-p964j/,
        );
        assert.match(
            r.stderr,
            /cannot delete Pods with local storage \(use --delete-emptydir-data to override\): default\/ratings-v1-7d99676f7f-7x8nl, default\/reviews-v2-6c5bf657cf-n5vwl, gitlab-managed-apps\/runner-gitlab-runner-69779496d5-5xjzp, istio-system\/grafana-784c89f4cf-zksvs, istio-system\/jaeger-7f78b6fb65-76mk8, kube-system\/metrics-server-75f98fdbd5-mfb2k/,
        );
        assert.match(r.stderr, /There are pending nodes to be drained:\n worker1/);
        // nothing was evicted
        assert.ok(c.get("pods", "default", "http-go-568f649bb-4npss"));
    });

    it("kubectl drain worker1 --ignore-daemonsets --delete-emptydir-data succeeds", async () => {
        const r = await kubectl(c, ["drain", "worker1", "--ignore-daemonsets", "--delete-emptydir-data"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /node\/worker1 already cordoned/);
        assert.match(r.stderr, /Warning: ignoring DaemonSet-managed Pods: kube-system\/kube-proxy-587jv, kube-system\/weave-net-p964j/);
        for (const p of [
            "default/http-go-568f649bb-4npss",
            "blue/pod-jenkins-deploy-6c8f5b65cb-gmg8k",
            "kube-system/coredns-f9fd979d6-79vc6",
        ]) {
            assert.ok(r.stdout.includes(`evicting pod ${p}`), `missing "evicting pod ${p}"`);
            assert.ok(r.stdout.includes(`pod/${p.split("/")[1]} evicted`), `missing "pod/${p.split("/")[1]} evicted"`);
        }
        assert.match(r.stdout, /node\/worker1 drained/);
    });

    it("kubectl get nodes shows worker1 Ready,SchedulingDisabled", async () => {
        const r = await kubectl(c, ["get", "nodes"]);
        const t = rows(r.stdout);
        assert.deepEqual(
            t.map((x) => x[1]),
            ["Ready", "Ready,SchedulingDisabled", "Ready"],
        );
    });

    it("all 10 http-go pods end Running on master and worker2", async () => {
        await c.waitFor(() => {
            const pods = c.list("pods", "default").filter((p) => p.metadata.name.startsWith("http-go-"));
            return pods.length === 10 && pods.every((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
        }, 600);
        const r = await kubectl(c, ["get", "pods", "-o", "wide"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout.split("\n")[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
        const httpGo = rows(r.stdout).filter((x) => x[0].startsWith("http-go-568f649bb-"));
        assert.equal(httpGo.length, 10);
        for (const x of httpGo) {
            assert.equal(x[1], "2/2");
            assert.equal(x[2], "Running");
            assert.ok(["master", "worker2"].includes(x[6]), `pod ${x[0]} on ${x[6]}`);
            assert.match(x[5], x[6] === "master" ? /^10\.38\.0\.\d+$/ : /^10\.32\.0\.\d+$/);
        }
        // the survivors keep their names
        for (const n of ["j2mqp", "v4fzb", "n7w9l", "vj6bn"]) assert.ok(httpGo.some((x) => x[0] === `http-go-568f649bb-${n}`));
    });

    it("kubectl uncordon worker1: Ready again, no pod moves back", async () => {
        const before = c
            .list("pods")
            .filter((p) => p.spec.nodeName !== "worker1")
            .map((p) => `${p.metadata.name}@${p.spec.nodeName}`)
            .sort();
        const r = await kubectl(c, ["uncordon", "worker1"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /node\/worker1 uncordoned/);
        const n = await kubectl(c, ["get", "nodes"]);
        assert.deepEqual(
            rows(n.stdout).map((x) => x[1]),
            ["Ready", "Ready", "Ready"],
        );
        await c.clock.sleep(30);
        const after = c
            .list("pods")
            .filter((p) => p.spec.nodeName !== "worker1")
            .map((p) => `${p.metadata.name}@${p.spec.nodeName}`)
            .sort();
        assert.deepEqual(after, before);
        const onWorker1 = c
            .list("pods")
            .filter((p) => p.spec.nodeName === "worker1")
            .map((p) => p.metadata.name)
            .sort();
        assert.deepEqual(onWorker1, ["kube-proxy-587jv", "weave-net-p964j"]);
    });
});
