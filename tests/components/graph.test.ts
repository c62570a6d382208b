// The resource graph the components build, under pulumi.runtime.setMocks (no engine, no cluster): type
// tokens, parents, the dependency chain across nodes and batches, inputs, secrets, and preview unknowns.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { fakeCluster, isKnown, isSecret, recordingMocks, RegisteredResource, stepOutputs, urnOf, valueOf } from "../helpers/pulumi-mocks";
import { isSecretEnvelope } from "../../local-engine";

type Components = typeof import("../../components");
let c: Components;

const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n# secret-token-abcdefghijklmnop\n";

const cluster = () =>
    fakeCluster([
        { name: "master", controlPlane: true, internalIP: "10.0.0.1" },
        { name: "worker1", internalIP: "10.0.0.2", labels: { pool: "a" } },
        { name: "worker2", internalIP: "10.0.0.3", labels: { pool: "a" } },
        { name: "worker3", internalIP: "10.0.0.4", labels: { pool: "b" } },
        { name: "worker4", internalIP: "10.0.0.5", labels: { pool: "b" } },
    ]);

function rollArgs(overrides: Partial<import("../../components").RollingNodeUpgradeArgs> = {}) {
    return {
        kubeconfig: pulumi.secret(KUBECONFIG),
        nodes: ["worker2", "master", "worker1"],
        targetVersion: "v1.20.0",
        upgradeCommand: 'sudo apt-get install -y kubelet="$TARGET_SEMVER-00"',
        ssh: { user: "ubuntu", privateKey: "PRIVATE-KEY-TEXT" },
        drain: { ignoreDaemonSets: true, deleteEmptyDirData: true, timeout: "5m" },
        clusterReader: cluster(),
        ...overrides,
    };
}

/** Waits until every node's last step has registered. */
async function settle(roll: import("../../components").RollingNodeUpgrade) {
    const upgrades = await roll.upgrades;
    await Promise.all(upgrades.map((u) => urnOf(u.uncordon)));
    return upgrades;
}

const stepOf = (r: RegisteredResource) => r.name.split("-").pop()!;
const nodeOf = (r: RegisteredResource) => r.inputs.nodeName ?? r.name.split("-").slice(1, -1).join("-");

describe("components: resource graph (mocks)", function () {
    before(async () => {
        await pulumi.runtime.setMocks(recordingMocks().mocks, "node-upgrade", "test");
        c = await import("../../components");
    });

    it("uses the documented type tokens and parents every step to its node's component", async () => {
        const { mocks, registered } = recordingMocks({ outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs());
        const upgrades = await settle(roll);
        const types = new Set(registered.map((r) => r.type));
        for (const t of [
            "node-upgrade:index:RollingNodeUpgrade",
            "node-upgrade:index:NodeUpgrade",
            "pulumi-nodejs:dynamic/node-upgrade:NodeCordon",
            "pulumi-nodejs:dynamic/node-upgrade:NodeDrain",
            "pulumi-nodejs:dynamic/node-upgrade:NodeReady",
            "pulumi-nodejs:dynamic/node-upgrade:NodeUncordon",
            "command:remote:Command",
        ]) {
            assert.ok(types.has(t), `missing ${t}; got ${[...types].join(", ")}`);
        }
        assert.strictEqual(registered.filter((r) => r.type === "node-upgrade:index:NodeUpgrade").length, 3);
        // (The mock monitor puts only the immediate parent's type in a URN; the engine puts the whole chain.)
        const u = upgrades[0];
        const parent = "node-upgrade:index:NodeUpgrade$";
        assert.match(
            await urnOf(u.cordon),
            new RegExp(`::${escape(parent)}pulumi-nodejs:dynamic/node-upgrade:NodeCordon::roll-master-cordon$`),
        );
        assert.match(
            await urnOf(u.drain),
            new RegExp(`::${escape(parent)}pulumi-nodejs:dynamic/node-upgrade:NodeDrain::roll-master-drain$`),
        );
        assert.match(await urnOf(u.upgrade), new RegExp(`::${escape(parent)}command:remote:Command::roll-master-upgrade$`));
        assert.match(
            await urnOf(u.ready),
            new RegExp(`::${escape(parent)}pulumi-nodejs:dynamic/node-upgrade:NodeReady::roll-master-ready$`),
        );
        assert.match(
            await urnOf(u.uncordon),
            new RegExp(`::${escape(parent)}pulumi-nodejs:dynamic/node-upgrade:NodeUncordon::roll-master-uncordon$`),
        );
        assert.match(await urnOf(u), /::node-upgrade:index:RollingNodeUpgrade\$node-upgrade:index:NodeUpgrade::roll-master$/);
        assert.ok(u.drain instanceof c.NodeDrain && u.ready instanceof c.NodeReady && u.uncordon instanceof c.NodeUncordon);
    });

    it("rolls the control plane first, then one node at a time: each cordon starts after the previous uncordon", async () => {
        const { mocks, registered } = recordingMocks({ delayMs: 15, outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs());
        await settle(roll);
        assert.deepStrictEqual(await valueOf(roll.batches), [["master"], ["worker2"], ["worker1"]]);
        const custom = registered.filter((r) => r.custom).sort((a, b) => a.start - b.start);
        assert.deepStrictEqual(
            custom.map((r) => `${nodeOf(r)}:${stepOf(r)}`),
            ["master", "worker2", "worker1"].flatMap((n) => ["cordon", "drain", "upgrade", "ready", "uncordon"].map((s) => `${n}:${s}`)),
        );
        // Strictly sequential: each registration starts after the previous one finished.
        for (let i = 1; i < custom.length; i++)
            assert.ok(custom[i].start >= custom[i - 1].end, `${custom[i].name} started before ${custom[i - 1].name} ended`);
    });

    it("runs a batch of maxUnavailable workers together, and the next batch only after all their uncordons", async () => {
        const { mocks, registered } = recordingMocks({ delayMs: 15, outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs({ nodes: undefined, selector: "pool", maxUnavailable: 2 } as any));
        await settle(roll);
        // selector "pool" matches the four workers (fake: key present), sorted by name.
        assert.deepStrictEqual(await valueOf(roll.batches), [
            ["worker1", "worker2"],
            ["worker3", "worker4"],
        ]);
        const at = (node: string, step: string) => registered.find((r) => r.custom && nodeOf(r) === node && stepOf(r) === step)!;
        // Same batch: both cordons start before either uncordon.
        assert.ok(at("worker2", "cordon").start < at("worker1", "uncordon").start);
        // Next batch: after both uncordons of the previous one.
        for (const next of ["worker3", "worker4"]) {
            for (const prev of ["worker1", "worker2"])
                assert.ok(at(next, "cordon").start >= at(prev, "uncordon").end, `${next} cordon before ${prev} uncordon`);
        }
    });

    it("gives every step of a node the same trigger inputs, and the command its values only through a quoted env prefix", async () => {
        const { mocks, registered } = recordingMocks({ outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs({ revision: "r1", environment: { PACKAGE_SUFFIX: "-00 it's" } } as any));
        await settle(roll);
        const steps = registered.filter((r) => r.custom && r.type.startsWith("pulumi-nodejs:") && nodeOf(r) === "worker1");
        assert.strictEqual(steps.length, 4);
        const triggers = steps.map((s) =>
            JSON.stringify([s.inputs.nodeName, s.inputs.targetVersion, s.inputs.commandHash, s.inputs.revision]),
        );
        assert.strictEqual(new Set(triggers).size, 1, triggers.join("\n"));
        assert.match(steps[0].inputs.commandHash, /^[0-9a-f]{16}$/);
        assert.strictEqual(steps[0].inputs.revision, "r1");
        assert.strictEqual(typeof steps[0].inputs.__provider, "string");
        // One provider object per type: every resource of a type carries the same provider text.
        for (const type of ["NodeCordon", "NodeDrain", "NodeReady", "NodeUncordon"]) {
            const texts = new Set(registered.filter((r) => r.type.endsWith(`:${type}`)).map((r) => r.inputs.__provider));
            assert.strictEqual(texts.size, 1, type);
        }

        const drain = steps.find((s) => stepOf(s) === "drain")!;
        assert.strictEqual(drain.inputs.ignoreDaemonSets, true);
        assert.strictEqual(drain.inputs.deleteEmptyDirData, true);
        assert.strictEqual(drain.inputs.timeout, "5m");

        const upgrade = registered.find((r) => r.name === "roll-worker1-upgrade")!;
        const create: string = upgrade.inputs.create;
        assert.ok(
            create.startsWith(
                `env NODE_NAME='worker1' TARGET_VERSION='v1.20.0' TARGET_SEMVER='1.20.0' NODE_UPGRADE_REVISION='r1' PACKAGE_SUFFIX='-00 it'\\''s' sh -c `,
            ),
            create,
        );
        assert.ok(create.endsWith(`sh -c 'sudo apt-get install -y kubelet="$TARGET_SEMVER-00"'`), create);
        // The SSH connection defaults to the node's InternalIP from the cluster.
        const conn = isSecretEnvelope(upgrade.inputs.connection) ? (upgrade.inputs.connection as any).value : upgrade.inputs.connection;
        assert.strictEqual(conn.host, "10.0.0.2");
        assert.strictEqual(conn.user, "ubuntu");
    });

    it("keeps the kubeconfig and SSH secrets secret, and out of the report", async () => {
        const { mocks, registered } = recordingMocks({ outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs());
        await settle(roll);
        for (const r of registered.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/"))) {
            assert.ok(isSecretEnvelope(r.inputs.kubeconfig), `${r.name}: kubeconfig is not a secret`);
            assert.strictEqual((r.inputs.kubeconfig as any).value, KUBECONFIG);
        }
        for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
            assert.ok(isSecretEnvelope(r.inputs.connection), `${r.name}: connection is not a secret`);
            assert.ok(!JSON.stringify(r.inputs.create).includes("PRIVATE-KEY-TEXT"));
        }
        // Component inputs recorded in state hold no credentials.
        for (const r of registered.filter((x) => !x.custom)) {
            assert.ok(!JSON.stringify(r.inputs).includes("secret-token"), `${r.type} inputs hold the kubeconfig`);
            assert.ok(!JSON.stringify(r.inputs).includes("PRIVATE-KEY-TEXT"), `${r.type} inputs hold the SSH key`);
        }
        const report = await valueOf(roll.report);
        assert.ok(!(await isSecret(roll.report)), "the report should be readable");
        const text = JSON.stringify(report);
        assert.ok(!text.includes("secret-token") && !text.includes("PRIVATE-KEY-TEXT"), text);
        assert.deepStrictEqual(report.batches, [["master"], ["worker2"], ["worker1"]]);
        assert.deepStrictEqual(
            report.nodes.map((n) => [n.node, n.versionBefore, n.versionAfter, n.evictedCount]),
            [
                ["master", "v1.19.0", "v1.20.0", 1],
                ["worker2", "v1.19.0", "v1.20.0", 1],
                ["worker1", "v1.19.0", "v1.20.0", 1],
            ],
        );
        assert.strictEqual(report.nodes[0].totalSeconds, 60);
    });

    it("turns the upgrade into an echo when the drain found the node already at the target", async () => {
        const { mocks, registered } = recordingMocks({
            outputs: (a) => ({
                ...stepOutputs(a),
                ...(a.type.endsWith(":NodeDrain") && a.inputs.nodeName === "worker1" ? { alreadyAtTarget: true } : {}),
            }),
        });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        await settle(new c.RollingNodeUpgrade("roll", rollArgs({ reboot: true })));
        const create = (n: string) => registered.find((r) => r.name === `roll-${n}-upgrade`)!.inputs.create as string;
        assert.match(create("worker1"), /sh -c 'echo "node-upgrade: \$NODE_NAME already runs \$TARGET_VERSION; skipping the upgrade"'$/);
        assert.ok(!create("worker1").includes("apt-get") && !create("worker1").includes("reboot"));
        assert.match(create("worker2"), /apt-get.* && env .* sh -c 'sudo systemd-run --on-active=5 \/bin\/systemctl reboot'$/);
        const ready = (n: string) => registered.find((r) => r.name === `roll-${n}-ready`)!.inputs;
        assert.strictEqual(ready("worker1").expectNotReady, false);
        assert.strictEqual(ready("worker2").expectNotReady, true);
    });

    it("in preview leaves computed outputs unknown and logs the plan per node in roll order", async () => {
        const { mocks, registered } = recordingMocks({ preview: true });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test", true);
        const reader = cluster();
        const logged: string[] = [];
        const original = console.log;
        console.log = (...a: any[]) => logged.push(a.join(" "));
        try {
            const roll = new c.RollingNodeUpgrade("roll", rollArgs({ clusterReader: reader }));
            const upgrades = await settle(roll);
            assert.strictEqual(await isKnown(upgrades[0].drain.alreadyAtTarget), false);
            assert.strictEqual(await isKnown(upgrades[0].upgrade.create as pulumi.Output<string>), false);
            assert.strictEqual(await isKnown(upgrades[0].cordon.nodeName), true);
        } finally {
            console.log = original;
        }
        assert.strictEqual(registered.filter((r) => r.custom).length, 15);
        assert.deepStrictEqual(
            reader.planRequests.map((p) => p.nodes),
            [["master", "worker2", "worker1"]],
        );
        assert.strictEqual(reader.planRequests[0].drain.ignoreDaemonSets, true);
        const plans = logged.filter((l) => l.includes("PLAN "));
        assert.deepStrictEqual(
            plans.map((l) => /PLAN (\S+):/.exec(l)![1]),
            ["master", "worker2", "worker1"],
        );
    });

    it("refuses a roll over the blast-radius limit, before creating any node chain", async () => {
        const { mocks, registered } = recordingMocks();
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        const roll = new c.RollingNodeUpgrade("roll", rollArgs({ maxUnavailable: 3, maxNodesDownPercent: 40 }));
        await assert.rejects(
            roll.upgrades,
            /refusing to roll: maxUnavailable 3 would take down up to 3 nodes at once, but at most 2 may be down at once \(maxNodesDownPercent 40% of 5 nodes allows 2\)/,
        );
        assert.strictEqual(registered.filter((r) => r.custom).length, 0);
    });

    it("rejects bad arguments with clear messages", async () => {
        await pulumi.runtime.setMocks(recordingMocks().mocks, "node-upgrade", "test");
        assert.throws(
            () => new c.RollingNodeUpgrade("r1", rollArgs({ maxUnavailable: 0 })),
            /maxUnavailable must be a whole number of at least 1, got 0/,
        );
        assert.throws(
            () => new c.RollingNodeUpgrade("r2", rollArgs({ targetVersion: "1.20" })),
            /target version "1.20" is not a semantic version/,
        );
        assert.throws(
            () => new c.NodeUpgrade("n1", { nodeName: "Bad_Node", targetVersion: "v1.2.3", upgradeCommand: "true", kubeconfigPath: "x" }),
            /node name "Bad_Node" is not a valid DNS-1123 subdomain/,
        );
        assert.throws(
            () =>
                new c.NodeUpgrade("n2", {
                    nodeName: "ok",
                    targetVersion: "v1.2.3",
                    upgradeCommand: "true",
                    kubeconfigPath: "x",
                    environment: { NODE_NAME: "x" },
                }),
            /NODE_NAME is set by node-upgrade and cannot be overridden/,
        );
        const unknown = new c.RollingNodeUpgrade("r3", rollArgs({ nodes: ["master", "ghost"] }));
        await assert.rejects(unknown.upgrades, /node "ghost" not found in the cluster/);
        const both = new c.RollingNodeUpgrade("r4", rollArgs({ selector: "pool" } as any));
        await assert.rejects(both.upgrades, /give either nodes .* or selector .*, not both/);
        const none = new c.RollingNodeUpgrade("r5", rollArgs({ kubeconfig: undefined }));
        await assert.rejects(none.upgrades, /set kubeconfigConfigKey \(a stack config key\), kubeconfig .* or kubeconfigPath/);
    });

    it("lets users hang resources on the steps and run before-drain hooks between cordon and drain", async () => {
        const { mocks, registered } = recordingMocks({ delayMs: 10, outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, "node-upgrade", "test");
        let hookNode: string | undefined;
        const node = new c.NodeUpgrade("solo", {
            nodeName: "worker1",
            targetVersion: "v1.20.0",
            upgradeCommand: "true",
            kubeconfigPath: "/kubeconfig",
            ssh: { host: "192.0.2.10" },
            beforeDrainCommand: "sudo touch /var/run/maintenance",
            beforeDrain: (ctx) => {
                ctx.nodeName.apply((n) => (hookNode = n));
                return new TestResource("test:index:SilenceAlerts", "silence", ctx.opts);
            },
        });
        const after = new TestResource("test:index:SmokeTest", "smoke", { dependsOn: [node.uncordon] });
        await urnOf(after);
        const at = (name: string) => registered.find((r) => r.name === name)!;
        assert.ok(at("silence").start >= at("solo-cordon").end);
        assert.ok(at("solo-before-drain").start >= at("solo-cordon").end);
        assert.ok(at("solo-drain").start >= at("silence").end && at("solo-drain").start >= at("solo-before-drain").end);
        assert.ok(at("smoke").start >= at("solo-uncordon").end);
        assert.strictEqual(hookNode, "worker1");
        assert.match(at("solo-before-drain").inputs.create, /^env NODE_NAME='worker1' .* sh -c 'sudo touch \/var\/run\/maintenance'$/);
        assert.strictEqual(at("solo-cordon").inputs.kubeconfigPath, "/kubeconfig");
    });
});

class TestResource extends pulumi.CustomResource {
    constructor(type: string, name: string, opts?: pulumi.CustomResourceOptions) {
        super(type, name, {}, opts);
    }
}

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
