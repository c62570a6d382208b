// Preview = up, for the order of the roll: over 200 generated clusters (control planes labelled the old or the
// new way, nodes already at the target, nodes left cordoned by an unfinished run, cordoned and NotReady nodes,
// node lists and selectors, batch sizes 1-3, with and without controlPlaneFirst), the batches the planner shows
// (`node-upgrade plan`, the preview's per-node plan) equal the batches RollingNodeUpgrade chains for `pulumi
// up`, and the nodes the plan skips are exactly those up leaves in no batch. Both start from the same V1Node
// objects: up through the drain engine's summarizeNode (what its cluster reader returns), the plan from the
// snapshot, so a rule derived differently on either side (control-plane labels, versions, our cordon's
// annotation) shows here.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import type { V1Node } from "@kubernetes/client-node";
import { summarizeNode } from "../../drain/node-info";
import { planRoll, emptySnapshot } from "../../planner";
import { recordingMocks } from "../helpers/pulumi-mocks";
import type { ClusterReader } from "../../components/cluster-reader";
import { CORDONED_BY_ANNOTATION, compileSelectorText } from "../../kube-rules";

type Components = typeof import("../../components");

/** mulberry32: a small seeded generator, so a failure names the cluster that shows it. */
function prng(seed: number) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        next,
        int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
        pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)],
    };
}

const TARGET = "v1.30.2";

interface Generated {
    seed: number;
    nodes: V1Node[];
    spec: { nodes?: string[]; selector?: string; batchSize: number; controlPlaneFirst: boolean };
}

function generate(seed: number): Generated {
    const r = prng(seed);
    const nodes: V1Node[] = [];
    const cps = r.int(0, 3);
    const workers = r.int(1, 8);
    for (let i = 0; i < cps + workers; i++) {
        const controlPlane = i < cps;
        const name = controlPlane ? `cp-${i}` : `w-${r.int(0, 9)}${i}`;
        const labels: Record<string, string> = { "kubernetes.io/hostname": name, pool: r.pick(["a", "b"]) };
        if (controlPlane) labels[r.pick(["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"])] = "";
        const version = r.pick(["v1.29.7", "v1.29.7", "v1.30.2", "v1.30.2+k3s1", "v1.30.2-rc.1", "1.29.7"]);
        const annotations: Record<string, string> = r.next() < 0.15 ? { [CORDONED_BY_ANNOTATION]: "node-upgrade" } : {};
        nodes.push({
            metadata: { name, labels, annotations },
            spec: { unschedulable: r.next() < 0.1 || CORDONED_BY_ANNOTATION in annotations },
            status: {
                nodeInfo: { kubeletVersion: version } as any,
                conditions: [{ type: "Ready", status: r.next() < 0.9 ? "True" : "False" }],
                addresses: [{ type: "InternalIP", address: `10.0.0.${i + 1}` }],
                allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
            },
        });
    }
    const bySelector = r.next() < 0.4;
    const names = nodes.map((n) => n.metadata!.name!);
    const shuffled = [...names].sort(() => r.next() - 0.5);
    return {
        seed,
        nodes,
        spec: {
            ...(bySelector
                ? {
                      selector: r.pick([
                          "pool in (a,b)",
                          "!node-role.kubernetes.io/control-plane,!node-role.kubernetes.io/master",
                          "pool=a",
                      ]),
                  }
                : { nodes: shuffled }),
            batchSize: r.int(1, 3),
            controlPlaneFirst: r.next() < 0.8,
        },
    };
}

/** The batches `pulumi up` chains: RollingNodeUpgrade under mocks, reading the cluster through summarizeNode. */
async function upBatches(c: Components, g: Generated): Promise<string[][] | { error: string }> {
    const infos = g.nodes.map(summarizeNode);
    // The server filters nodes by selector for the real reader; here the drain engine's own matcher does.
    const matches = (selector: string, labels: Record<string, string>) => compileSelectorText(selector).matches(labels);
    const reader: ClusterReader = {
        listNodes: async (selector) => (selector ? infos.filter((n) => matches(selector, n.labels)) : infos),
        readNode: async (name) => infos.find((n) => n.name === name)!,
    };
    const roll = new c.RollingNodeUpgrade(`roll-${g.seed}`, {
        kubeconfig: "apiVersion: v1",
        ...(g.spec.nodes ? { nodes: g.spec.nodes } : { selector: g.spec.selector }),
        targetVersion: TARGET,
        upgradeCommand: "true",
        maxUnavailable: g.spec.batchSize,
        controlPlaneFirst: g.spec.controlPlaneFirst,
        logPlan: false,
        clusterReader: reader,
    });
    try {
        return await (roll.batches as any).promise();
    } catch (err: any) {
        return { error: String(err?.message ?? err) };
    }
}

/** The batches the plan shows, grouped from its per-node batch numbers. */
function planBatches(g: Generated): string[][] | { error: string } {
    const snapshot = emptySnapshot();
    snapshot.nodes = g.nodes;
    try {
        const plan = planRoll(snapshot, {
            ...(g.spec.nodes ? { nodes: g.spec.nodes } : { selector: g.spec.selector }),
            batchSize: g.spec.batchSize,
            controlPlaneFirst: g.spec.controlPlaneFirst,
            targetVersion: TARGET,
            drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, force: true },
        } as any);
        const byBatch = new Map<number, string[]>();
        for (const n of plan.nodes) if (n.batch > 0) byBatch.set(n.batch, [...(byBatch.get(n.batch) ?? []), n.node]);
        return [...byBatch.entries()].sort((a, b) => a[0] - b[0]).map(([, names]) => names);
    } catch (err: any) {
        return { error: String(err?.message ?? err) };
    }
}

describe("kube-rules: preview batches equal up batches over 200 generated clusters", function () {
    this.timeout(120_000);
    let c: Components;

    before(async () => {
        const { mocks } = recordingMocks({ preview: true });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test", true);
        c = await import("../../components");
    });

    it("same batches (or both refuse the spec), for every cluster", async () => {
        const mismatches: string[] = [];
        let rolled = 0;
        let skippedSomewhere = 0;
        for (let seed = 1; seed <= 200; seed++) {
            const g = generate(seed);
            const up = await upBatches(c, g);
            const plan = planBatches(g);
            const upOk = Array.isArray(up);
            const planOk = Array.isArray(plan);
            if (upOk !== planOk) {
                mismatches.push(`seed ${seed}: up ${JSON.stringify(up)} vs plan ${JSON.stringify(plan)}`);
                continue;
            }
            if (!upOk) continue; // both refuse (e.g. a selector matching nothing)
            rolled++;
            if ((up as string[][]).flat().length < g.nodes.length) skippedSomewhere++;
            if (JSON.stringify(up) !== JSON.stringify(plan))
                mismatches.push(`seed ${seed} ${JSON.stringify(g.spec)}: up ${JSON.stringify(up)} vs plan ${JSON.stringify(plan)}`);
        }
        assert.deepStrictEqual(mismatches, []);
        // The generator really exercised the interesting cases.
        assert.ok(rolled >= 150, `only ${rolled} clusters rolled`);
        assert.ok(skippedSomewhere >= 30, `only ${skippedSomewhere} clusters had nodes to skip`);
    });
});
