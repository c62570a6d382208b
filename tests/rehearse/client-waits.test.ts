// ClientWaits: when the roll's clients are about to act on their own, so the clock driver must not jump. It is
// polled every few real milliseconds, so it must answer from state kept by events, not by reading the cluster.
import assert from "node:assert/strict";
import type { StoreEvent } from "../../sim";
import type { ProgressEvent } from "../../drain";
import { ClientWaits } from "../../rehearse/client-waits";

/** A cluster with just what ClientWaits uses: get (counted) and subscribe (the test writes the events). */
function fakeCluster(objects: Record<string, any>) {
    const listeners: ((e: StoreEvent) => void)[] = [];
    let gets = 0;
    return {
        get(kind: string, namespace: string | undefined, name: string) {
            gets++;
            return objects[`${kind}/${namespace ?? ""}/${name}`];
        },
        subscribe(listener: (e: StoreEvent) => void) {
            listeners.push(listener);
            return () => listeners.splice(listeners.indexOf(listener), 1);
        },
        write(resource: string, object: any) {
            for (const l of listeners) l({ type: "MODIFIED", resource, object, rv: 0 });
        },
        gets: () => gets,
    };
}

const pdb = (disruptionsAllowed: number) => ({
    metadata: { namespace: "default", name: "web-pdb", generation: 1 },
    status: { observedGeneration: 1, disruptionsAllowed, currentHealthy: 3, desiredHealthy: 3 - disruptionsAllowed, expectedPods: 3 },
});

const node = (ready: boolean, version: string) => ({
    metadata: { name: "worker1" },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }], nodeInfo: { kubeletVersion: version } },
});

describe("rehearse: ClientWaits", () => {
    it("a pod waiting on a budget: imminent once the budget allows a disruption, the budget read once", () => {
        const cluster = fakeCluster({ "poddisruptionbudgets/default/web-pdb": pdb(0) });
        const waits = new ClientWaits(cluster, new Map());
        waits.start();
        waits.drainStarted("worker1");
        waits.onProgress({
            type: "waiting-on-budget",
            node: "worker1",
            pod: "default/web-1",
            budget: { namespace: "default", name: "web-pdb", desiredHealthy: 3, currentHealthy: 3, expectedPods: 3, disruptionsAllowed: 0 },
            message: "refused",
        });
        for (let i = 0; i < 100; i++) assert.equal(waits.imminent(), false);
        assert.equal(cluster.gets(), 1, "read once, then kept from store events");
        cluster.write("poddisruptionbudgets", pdb(1));
        assert.equal(waits.imminent(), true);
        cluster.write("poddisruptionbudgets", pdb(0));
        assert.equal(waits.imminent(), false);
        assert.equal(cluster.gets(), 1);
        waits.stop();
    });

    it("a wait for a node: imminent once the node is Ready at the target, until the wait ends", () => {
        const cluster = fakeCluster({ "nodes//worker1": node(false, "v1.19.0") });
        const waits = new ClientWaits(cluster, new Map());
        waits.start();
        waits.nodeWaitStarted("worker1", "v1.20.0");
        assert.equal(waits.imminent(), false);
        cluster.write("nodes", node(true, "v1.19.0"));
        assert.equal(waits.imminent(), false, "Ready, but not at the target yet");
        cluster.write("nodes", node(true, "v1.20.0"));
        assert.equal(waits.imminent(), true);
        waits.nodeWaitEnded("worker1");
        assert.equal(waits.imminent(), false);
        waits.stop();
    });

    it("a drain whose pods are all gone but has not returned: imminent", () => {
        const waits = new ClientWaits(fakeCluster({}), new Map());
        waits.drainStarted("worker1");
        const events: ProgressEvent[] = [
            { type: "classified", node: "worker1", evict: 2, skip: 0, blocked: 0, warnings: [] },
            { type: "evicting", node: "worker1", pod: "default/a" },
            { type: "evicting", node: "worker1", pod: "default/b" },
        ];
        for (const e of events) waits.onProgress(e);
        waits.onPod("default/a", true);
        assert.equal(waits.imminent(), false, "default/b is still there");
        waits.onProgress({ type: "pod-gone", node: "worker1", pod: "default/b", how: "evicted", remaining: 0 });
        assert.equal(waits.imminent(), true);
        waits.drainEnded("worker1");
        assert.equal(waits.imminent(), false);
    });
});
