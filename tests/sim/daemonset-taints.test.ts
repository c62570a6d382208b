// Issue 13, item 5: `kubectl taint` and DaemonSet pods, as the real DaemonSet controller decides
// (NodeShouldRunDaemonPod): an untolerated NoSchedule taint keeps the running pod (no new one would be made);
// only an untolerated NoExecute taint removes it; a tolerated taint changes nothing.

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { baseCluster, list } from "./fixtures";

describe("sim: DaemonSet pods under kubectl taint (issue 13.5)", function () {
    let c: SimCluster;
    const proxyOn = (node: string) =>
        c.list("pods", "kube-system").filter((p) => p.spec.nodeName === node && p.metadata.labels?.["k8s-app"] === "kube-proxy");
    const dsStatus = () => c.get("daemonsets", "kube-system", "kube-proxy").status;

    before(async function () {
        requireKubectl(this);
        c = await startCluster({ scenario: list(baseCluster()), timeScale: 50 });
    });
    after(async () => {
        await c?.stop();
    });

    it("a NoSchedule taint: the DaemonSet pod keeps running (counted misscheduled), no pod is deleted", async () => {
        const before = proxyOn("w1");
        assert.equal(before.length, 1);
        const deleted: string[] = [];
        const stop = c.subscribe((e) => {
            if (
                e.resource === "pods" &&
                (e.type === "DELETED" || (e.object.metadata.deletionTimestamp && !e.old?.metadata.deletionTimestamp))
            )
                deleted.push(e.object.metadata.name);
        });
        try {
            const r = await kubectl(c, ["taint", "node", "w1", "dedicated=infra:NoSchedule"]);
            assert.equal(r.code, 0, r.stderr);
            // the controller's verdict on w1 shows in its status, written by the same sync that would delete
            await whenStore(c, () => dsStatus().numberMisscheduled === 1 && dsStatus().desiredNumberScheduled === 2);
        } finally {
            stop();
        }
        assert.deepEqual(deleted, []);
        const after = proxyOn("w1");
        assert.equal(after.length, 1);
        assert.equal(after[0].metadata.uid, before[0].metadata.uid);
        assert.equal(after[0].metadata.deletionTimestamp, undefined);
        const ds = await kubectl(c, ["get", "ds", "kube-proxy", "-n", "kube-system"]);
        assert.match(ds.stdout, /^kube-proxy\s+2\s+2\s+2\s+2\s+2\s+/m);
    });

    it("removing the taint makes the node desired again, with the same pod", async () => {
        const uid = proxyOn("w1")[0].metadata.uid;
        const r = await kubectl(c, ["taint", "node", "w1", "dedicated=infra:NoSchedule-"]);
        assert.equal(r.code, 0, r.stderr);
        await whenStore(c, () => dsStatus().numberMisscheduled === 0 && dsStatus().desiredNumberScheduled === 3);
        assert.equal(proxyOn("w1")[0].metadata.uid, uid);
    });

    it("cordon (the unschedulable taint) is tolerated: nothing changes", async () => {
        const uid = proxyOn("w2")[0].metadata.uid;
        assert.equal((await kubectl(c, ["cordon", "w2"])).code, 0);
        await whenStore(c, () =>
            (c.get("nodes", undefined, "w2").spec.taints ?? []).some((t: any) => t.key === "node.kubernetes.io/unschedulable"),
        );
        await c.settle(); // the DaemonSet controller has handled the taint
        assert.deepEqual([dsStatus().desiredNumberScheduled, dsStatus().numberMisscheduled], [3, 0]);
        assert.equal(proxyOn("w2")[0].metadata.uid, uid);
        assert.equal(proxyOn("w2")[0].metadata.deletionTimestamp, undefined);
        assert.equal((await kubectl(c, ["uncordon", "w2"])).code, 0);
    });

    it("a NoExecute taint the pods do not tolerate removes them", async () => {
        const r = await kubectl(c, ["taint", "node", "w3", "dedicated=infra:NoExecute"]);
        assert.equal(r.code, 0, r.stderr);
        await whenStore(c, () => proxyOn("w3").length === 0);
        await whenStore(c, () => dsStatus().desiredNumberScheduled === 2 && dsStatus().numberMisscheduled === 0);
    });
});
