// Issue 13, item 6: the Events real components record (kubelet Killing / NodeReady / NodeSchedulable /
// NodeNotSchedulable, node-controller NodeNotReady, replicaset/daemonset-controller SuccessfulCreate,
// deployment-controller ScalingReplicaSet), and their ages in `kubectl describe` when the simulated clock runs
// ahead of kubectl's wall clock: sensible, never "<invalid>".

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { addDeployment, baseCluster, list } from "./fixtures";

/** Seconds of a kubectl age ("45s", "3m12s", "2h5m", "4d"). */
function ageSeconds(age: string): number {
    const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(age);
    assert.ok(m && age, `not an age: ${age}`);
    return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0);
}

/** The pod's Ready condition is True (the test's own reading of the status the simulator writes). */
const ready = (p: any): boolean => (p.status?.conditions ?? []).some((x: any) => x.type === "Ready" && x.status === "True");

/** The Events table of `kubectl describe`: [type, reason, age, from, message]. */
function describedEvents(out: string): string[][] {
    const at = out.indexOf("\nEvents:\n");
    assert.ok(at >= 0, out);
    return out
        .slice(at + 9)
        .split("\n")
        .slice(2)
        .filter((l) => l.trim())
        .map((l) => l.trim().split(/\s{2,}/));
}

describe("sim: events real controllers record (issue 13.6)", function () {
    let c: SimCluster;
    const events = (reason: string, name?: string) =>
        c.list("events").filter((e) => e.reason === reason && (name === undefined || e.involvedObject.name === name));

    before(async function () {
        requireKubectl(this);
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-1", node: "w1" },
            { name: "web-2", node: "w2" },
        ]);
        c = await startCluster({ scenario: list(f), timeScale: 30 });
    });
    after(async () => {
        await c?.stop();
    });

    it("kubectl cordon/uncordon: the kubelet records NodeNotSchedulable, then NodeSchedulable", async () => {
        assert.equal((await kubectl(c, ["cordon", "w1"])).code, 0);
        await whenStore(c, () => events("NodeNotSchedulable", "w1").length === 1);
        assert.equal((await kubectl(c, ["uncordon", "w1"])).code, 0);
        await whenStore(c, () => events("NodeSchedulable", "w1").length === 1);
        const e = events("NodeNotSchedulable", "w1")[0];
        assert.equal(e.message, "Node w1 status is now: NodeNotSchedulable");
        assert.deepEqual(e.source, { component: "kubelet", host: "w1" });
        // kubelet events name the node by name as UID (kubectl describe node searches for both)
        assert.deepEqual([e.involvedObject.kind, e.involvedObject.uid, e.metadata.namespace], ["Node", "w1", "default"]);
    });

    it("kubectl scale: ScalingReplicaSet, SuccessfulCreate; a deleted pod's containers get Killing", async () => {
        const rs = c.list("replicasets", "default").find((x) => x.metadata.ownerReferences?.[0]?.name === "web")!;
        assert.equal((await kubectl(c, ["scale", "deployment", "web", "--replicas=3"])).code, 0);
        await whenStore(c, () => events("SuccessfulCreate", rs.metadata.name).length === 1);
        const up = events("ScalingReplicaSet", "web");
        assert.deepEqual(
            up.map((e) => [e.message, e.source.component]),
            [[`Scaled up replica set ${rs.metadata.name} from 2 to 3`, "deployment-controller"]],
        );
        assert.match(events("SuccessfulCreate", rs.metadata.name)[0].message, new RegExp(`^Created pod: ${rs.metadata.name}-\\w{5}$`));
        // The kubelet records Killing only for containers it started: scaling down before the new pod runs
        // would delete that pending pod (the ReplicaSet removes not-ready pods first) and record no Killing.
        const ownPods = () => c.list("pods", "default").filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid);
        await whenStore(c, () => ownPods().filter((p) => ready(p) && !p.metadata.deletionTimestamp).length === 3);
        assert.equal((await kubectl(c, ["scale", "deployment", "web", "--replicas=2"])).code, 0);
        await whenStore(c, () => events("Killing").length === 1);
        const killing = events("Killing")[0];
        assert.equal(killing.message, "Stopping container app");
        assert.equal(killing.source.component, "kubelet");
        assert.ok(events("ScalingReplicaSet", "web").some((e) => e.message === `Scaled down replica set ${rs.metadata.name} from 3 to 2`));
        assert.ok(events("SuccessfulDelete", rs.metadata.name).length === 1);
    });

    it("a DaemonSet records SuccessfulCreate for the pod it makes", async () => {
        const old = c.list("pods", "kube-system").find((p) => p.spec.nodeName === "w3")!;
        assert.equal((await kubectl(c, ["delete", "pod", "-n", "kube-system", old.metadata.name, "--wait=false"])).code, 0);
        await whenStore(c, () => events("SuccessfulCreate", "kube-proxy").length === 1);
        assert.match(events("SuccessfulCreate", "kube-proxy")[0].message, /^Created pod: kube-proxy-\w{5}$/);
        assert.equal(events("SuccessfulCreate", "kube-proxy")[0].source.component, "daemonset-controller");
    });

    it("a node upgrade: NodeNotReady, then the kubelet's NodeReady", async () => {
        await c.upgradeNode("w2", "v1.29.0", { downSeconds: 5 });
        await whenStore(c, () => events("NodeReady", "w2").length === 1);
        assert.equal(events("NodeNotReady", "w2").length, 1);
        assert.equal(events("NodeReady", "w2")[0].message, "Node w2 status is now: NodeReady");
    });

    it("kubectl describe node shows ages in simulated time, never <invalid>, with the clock far ahead of kubectl's", async () => {
        c.clock.advance(600); // the simulated clock is now 10 minutes (and more) ahead of the wall clock
        assert.equal((await kubectl(c, ["cordon", "w3"])).code, 0);
        await whenStore(c, () => events("NodeNotSchedulable", "w3").length === 1);
        const r = await kubectl(c, ["describe", "node", "w1"]);
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /<invalid>/);
        const w1 = describedEvents(r.stdout);
        const notSched = w1.find((e) => e[1] === "NodeNotSchedulable")!;
        // recorded before the 10-minute jump: its age is at least that (and not hours)
        assert.ok(ageSeconds(notSched[2]) >= 600 && ageSeconds(notSched[2]) < 3600, notSched[2]);
        assert.equal(notSched[3], "kubelet");
        const w3 = describedEvents((await kubectl(c, ["describe", "node", "w3"])).stdout);
        const fresh = w3.find((e) => e[1] === "NodeNotSchedulable")!;
        assert.ok(ageSeconds(fresh[2]) < 120, `an event just recorded is young: ${fresh[2]}`);
        // the same age as the server-side table of `kubectl get events` and kubectl's own `kubectl events`
        for (const args of [["get", "events"], ["events"]]) {
            const t = await kubectl(c, args);
            assert.equal(t.code, 0, t.stderr);
            assert.doesNotMatch(t.stdout, /<invalid>/);
            const row = t.stdout.split("\n").find((l) => /NodeNotSchedulable/.test(l) && /w1/.test(l))!;
            assert.ok(Math.abs(ageSeconds(row.split(/\s+/)[0]) - ageSeconds(notSched[2])) < 120, `${args.join(" ")}: ${row}`);
        }
    });
});
