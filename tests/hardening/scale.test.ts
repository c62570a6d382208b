// The scale work (bench/scale.ts) changed how the components build their resources; these pin down that the
// meaning did not change: applyAll is pulumi.all(...).apply(...) (unknowns, secrets, dependencies), secretOnce is
// pulumi.secret, the stack-trace switch restores itself, and the bounded look-ahead of RollingNodeUpgrade still
// registers every node in order while holding only a few nodes' registrations at a time.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { loadComponents } from "./harness";

type Construction = typeof import("../../components/construction");
let k: Construction;
type Components = typeof import("../../components");
let c: Components;

const value = <T>(o: pulumi.Output<T>): Promise<T> => (o as any).promise();
const known = (o: pulumi.Output<unknown>): Promise<boolean> => (o as any).isKnown;
const secret = (o: pulumi.Output<unknown>): Promise<boolean> => (o as any).isSecret;
const resources = async (o: pulumi.Output<unknown>) => [...(await (o as any).allResources())];

class R extends pulumi.CustomResource {
    constructor(name: string, props: Record<string, unknown>) {
        super("test:index:R", name, props);
    }
}

describe("hardening: scale optimizations keep the components' behaviour", function () {
    before(async () => {
        c = await loadComponents();
        k = await import("../../components/construction");
    });

    it("applyAll means pulumi.all(values).apply(fn): values, plain inputs, nested Outputs", async () => {
        const r = k.applyAll([pulumi.output("a"), "b", 3, undefined, { x: pulumi.output(1) }, Promise.resolve("p")], (v) =>
            JSON.stringify(v),
        );
        assert.strictEqual(await value(r), JSON.stringify(["a", "b", 3, null, { x: 1 }, "p"]));
        assert.strictEqual(await value(k.applyAll(["only", 1], ([a, b]) => `${a}${b}`)), "only1");
    });

    it("applyAll: secret if any value is secret, and depends on every value's resources", async () => {
        await pulumi.runtime.setMocks(
            { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) },
            "node-upgrade",
            "test",
        );
        const r1 = new R("r1", { v: "one" });
        const r2 = new R("r2", { v: "two" });
        const one = (r1 as any).v as pulumi.Output<string>;
        const two = pulumi.secret((r2 as any).v as pulumi.Output<string>);
        const combined = k.applyAll([one, "x", two], ([a, b, s]) => `${a}${b}${s}`);
        const reference = pulumi.all([one, "x", two]).apply(([a, b, s]) => `${a}${b}${s}`);
        assert.strictEqual(await value(combined), "onextwo");
        assert.strictEqual(await secret(combined), true);
        assert.strictEqual(await secret(combined), await secret(reference));
        const urns = async (o: pulumi.Output<unknown>) => (await Promise.all((await resources(o)).map((r: any) => value(r.urn)))).sort();
        assert.deepStrictEqual(await urns(combined), await urns(reference));
        assert.strictEqual((await urns(combined)).length, 2);
        assert.strictEqual(await secret(k.applyAll([one, "x"], ([a]) => a)), false);
    });

    it("applyAll: unknown (callback not run) in preview when any value is unknown", async () => {
        await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "node-upgrade", "test", true);
        const r = new R("r3", { out: undefined });
        let ran = false;
        const combined = k.applyAll(["a", (r as any).out as pulumi.Output<string>], () => {
            ran = true;
            return "x";
        });
        assert.strictEqual(await known(combined), false);
        assert.strictEqual(ran, false);
        assert.strictEqual(await known(pulumi.all(["a", (r as any).out]).apply(() => "x")), false);
        await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "node-upgrade", "test", false);
    });

    it("secretOnce is pulumi.secret, made once per value object", async () => {
        const input = pulumi.output("kubeconfig text");
        const a = k.secretOnce(input)!;
        assert.strictEqual(k.secretOnce(input), a);
        assert.strictEqual(k.secretOnce(a), a, "a secret made here is its own secret");
        assert.strictEqual(await secret(a), true);
        assert.strictEqual(await value(a), "kubeconfig text");
        assert.strictEqual(await secret(k.secretOnce("plain string")!), true);
        assert.strictEqual(k.secretOnce(undefined), undefined);
    });

    it("withoutPromiseStackTraces restores the stack-trace limit, also when construction throws", () => {
        const before = Error.stackTraceLimit;
        assert.strictEqual(
            k.withoutPromiseStackTraces(() => Error.stackTraceLimit),
            0,
        );
        assert.throws(
            () =>
                k.withoutPromiseStackTraces(() => {
                    throw new Error("boom");
                }),
            /boom/,
        );
        assert.strictEqual(Error.stackTraceLimit, before);
    });

    it("a roll of 40 nodes registers every node's chain in roll order, constructing only a few nodes ahead", async () => {
        const order: string[] = [];
        const done = new Set<string>();
        await pulumi.runtime.setMocks(
            {
                async newResource(a) {
                    await new Promise((r) => setTimeout(r, 1));
                    if (a.custom) order.push(a.name);
                    if (a.name.endsWith("-uncordon")) done.add(a.name);
                    const outputs = a.type.endsWith(":NodeDrain") || a.type.endsWith(":NodeCordon") ? { alreadyAtTarget: false } : {};
                    return { id: a.custom ? `${a.name}-id` : (undefined as any), state: { ...a.inputs, ...outputs } };
                },
                call: () => ({}),
            },
            "node-upgrade",
            "test",
        );
        // Count NodeUpgrade constructions (RollingNodeUpgrade looks the class up on its module at each use).
        const module = require("../../components/node-upgrade");
        const Original = module.NodeUpgrade;
        let constructed = 0;
        let maxAhead = 0;
        module.NodeUpgrade = class extends Original {
            constructor(...args: any[]) {
                super(...(args as [any, any, any]));
                constructed++;
                maxAhead = Math.max(maxAhead, constructed - done.size);
            }
        };
        try {
            const names = Array.from({ length: 40 }, (_, i) => `n${String(i).padStart(2, "0")}`);
            const reader = {
                listNodes: async () =>
                    names.map((name) => ({
                        name,
                        unschedulable: false,
                        cordonedByUs: false,
                        ready: true,
                        kubeletVersion: "v1.28.5",
                        internalIP: "10.0.0.1",
                        controlPlane: false,
                        labels: {},
                    })),
                readNode: async () => ({}) as any,
            };
            const roll = new c.RollingNodeUpgrade("roll", {
                kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
                nodes: names,
                targetVersion: "v1.28.6",
                upgradeCommand: "true",
                clusterReader: reader,
            });
            const batches = await value(roll.batches);
            assert.strictEqual(batches.length, 40, "batches are known before the chains are built");
            assert.ok(constructed < 40, "every chain was constructed before the roll started");
            const upgrades = await roll.upgrades;
            await Promise.all(upgrades.map((u) => value(u.uncordon.urn)));
            assert.strictEqual(upgrades.length, 40);
            const cordons = order.filter((n) => n.endsWith("-cordon")).map((n) => n.replace(/^roll-|-cordon$/g, ""));
            assert.deepStrictEqual(cordons, names, "every node, in roll order");
            for (let i = 1; i < names.length; i++) {
                assert.ok(
                    order.indexOf(`roll-${names[i]}-cordon`) > order.indexOf(`roll-${names[i - 1]}-uncordon`),
                    `${names[i]} started before ${names[i - 1]} finished`,
                );
            }
            const { LOOKAHEAD_NODES } = require("../../components/rolling-node-upgrade");
            assert.ok(maxAhead <= LOOKAHEAD_NODES + 1, `constructed ${maxAhead} nodes ahead of the roll`);
            const report = await value(roll.report);
            assert.deepStrictEqual(
                report.nodes.map((n) => n.node),
                names,
            );
        } finally {
            module.NodeUpgrade = Original;
        }
    });
});
