// The root program: rollFromConfig reads exactly the keys Pulumi.yaml declares, maps them onto the
// components, keeps secrets secret; index.ts itself runs (in preview, against the simulated cluster).
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { declaredConfig, isSecretEnvelope, stackConfig } from "../../local-engine";
import { fakeCluster, recordingMocks, stepOutputs, valueOf } from "../helpers/pulumi-mocks";
import { startTestCluster, TestCluster } from "../helpers/pulumi-sim";
import { findPackageRoot } from "../../components/package-root";

type Components = typeof import("../../components");
let c: Components;

const PROJECT = "node-upgrade";

/** A pulumi.Config that records every key the program reads (all getters go through its getImpl). */
function recordingConfig(): { config: pulumi.Config; keys: Set<string> } {
    const config = new pulumi.Config(PROJECT);
    const keys = new Set<string>();
    const getImpl = (config as any).getImpl;
    (config as any).getImpl = function (key: string, ...rest: any[]) {
        keys.add(key);
        return getImpl.call(this, key, ...rest);
    };
    return { config, keys };
}

const cluster = () =>
    fakeCluster([
        { name: "master", controlPlane: true, internalIP: "10.0.0.1" },
        { name: "worker1", internalIP: "10.0.0.2" },
        { name: "worker2", internalIP: "10.0.0.3" },
    ]);

async function setConfig(
    values: Record<string, unknown>,
    secretKeys: string[] = ["kubeconfig", "sshPrivateKey", "sshPassword", "sshPrivateKeyPassword"],
) {
    const config = stackConfig(values);
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])),
        secretKeys.map((k) => `${PROJECT}:${k}`),
    );
}

const BASE = {
    kubeconfig: "apiVersion: v1\nkind: Config\n# token-abcdefghijklmnopqrstuvwxyz\n",
    targetVersion: "v1.20.0",
    upgradeCommand: 'sudo kubeadm upgrade node && sudo apt-get install -y kubelet="$TARGET_SEMVER-00"',
    nodes: ["worker1", "master", "worker2"],
};

describe("components: root program and stack configuration", function () {
    before(async () => {
        await pulumi.runtime.setMocks(recordingMocks().mocks, PROJECT, "test");
        c = await import("../../components");
    });

    it("Pulumi.yaml declares and documents every key the program reads, and nothing else", async () => {
        const declared = declaredConfig();
        for (const [k, d] of Object.entries(declared)) {
            assert.ok(d.description && d.description.length > 20, `${k} has no description`);
            assert.ok(["string", "integer", "boolean", "array"].includes(d.type), `${k} has an invalid type`);
        }
        // Keys without a default are required by Pulumi: only the two that truly are.
        assert.deepStrictEqual(
            Object.keys(declared)
                .filter((k) => declared[k].default === undefined)
                .sort(),
            ["targetVersion", "upgradeCommand"],
        );

        await pulumi.runtime.setMocks(recordingMocks({ outputs: stepOutputs }).mocks, PROJECT, "test");
        await setConfig({ ...BASE, sshPrivateKey: "KEY", sshPassword: "PW", sshPrivateKeyPassword: "PP" });
        const { config, keys } = recordingConfig();
        const { roll } = c.rollFromConfig(config, { clusterReader: cluster() });
        await roll.upgrades;
        assert.deepStrictEqual([...keys].sort(), Object.keys(declared).sort());
    });

    it("maps the configuration onto the roll, with secrets kept secret", async () => {
        const { mocks, registered } = recordingMocks({ outputs: stepOutputs });
        await pulumi.runtime.setMocks(mocks, PROJECT, "test");
        await setConfig({
            ...BASE,
            sshUser: "ubuntu",
            sshPort: 2222,
            sshPrivateKey: "-----BEGIN KEY----- SSH-KEY-TEXT",
            sshHosts: ["worker2=192.0.2.22"],
            upgradeEnvironment: ["PACKAGE_SUFFIX=-00"],
            drainIgnoreDaemonSets: true,
            drainTimeout: "2m",
            drainGracePeriod: 30,
            maxUnavailable: 2,
            soak: "30s",
            revision: "7",
        });
        const { roll, report } = c.rollFromConfig(undefined, { clusterReader: cluster() });
        await Promise.all((await roll.upgrades).map((u) => valueOf(u.uncordon.urn)));
        assert.deepStrictEqual(await valueOf(roll.batches), [["master"], ["worker1", "worker2"]]);

        const drain = registered.find((r) => r.name === "roll-worker1-drain")!.inputs;
        assert.deepStrictEqual(
            [drain.ignoreDaemonSets, drain.deleteEmptyDirData, drain.timeout, drain.gracePeriodSeconds, drain.force, drain.revision],
            [true, false, "2m", 30, false, "7"],
        );
        assert.strictEqual(drain.maxUnavailablePerWorkload, 1, "workload pacing is on by default (drainMaxUnavailablePerWorkload)");
        // The steps name the stack config key; the kubeconfig itself never enters their inputs (or the state).
        assert.strictEqual(drain.kubeconfigConfigKey, "node-upgrade:kubeconfig");
        assert.strictEqual(drain.kubeconfig, undefined);
        assert.strictEqual(registered.find((r) => r.name === "roll-worker1-ready")!.inputs.soak, "30s");

        const upgrade = (n: string) => registered.find((r) => r.name === `roll-${n}-upgrade`)!.inputs;
        const conn = (n: string) => (upgrade(n).connection as any).value;
        assert.ok(isSecretEnvelope(upgrade("worker1").connection));
        assert.deepStrictEqual([conn("worker1").host, conn("worker1").user, conn("worker1").port], ["10.0.0.2", "ubuntu", 2222]);
        assert.strictEqual(conn("worker2").host, "192.0.2.22");
        assert.match(conn("worker1").privateKey, /SSH-KEY-TEXT/);
        assert.match(
            upgrade("worker1").create,
            /^env NODE_NAME='worker1' TARGET_VERSION='v1.20.0' TARGET_SEMVER='1.20.0' NODE_UPGRADE_REVISION='7' PACKAGE_SUFFIX='-00' sh -c /,
        );

        const text = JSON.stringify(await valueOf(report));
        assert.ok(!text.includes("token-abc") && !text.includes("SSH-KEY-TEXT"), text);
    });

    it("warns when a credential is stored in plain text in the stack", async () => {
        await pulumi.runtime.setMocks(recordingMocks({ outputs: stepOutputs }).mocks, PROJECT, "test");
        await setConfig(BASE, []);
        const warned: string[] = [];
        const original = console.warn;
        console.warn = (...a: any[]) => warned.push(a.join(" "));
        try {
            await c.rollFromConfig(undefined, { clusterReader: cluster() }).roll.upgrades;
        } finally {
            console.warn = original;
        }
        assert.ok(
            warned.some(
                (w) => w.includes('config "kubeconfig" is stored in plain text') && w.includes("pulumi config set --secret kubeconfig"),
            ),
            warned.join("\n"),
        );
    });

    it("fails clearly for missing or contradictory settings", async () => {
        await pulumi.runtime.setMocks(recordingMocks().mocks, PROJECT, "test");
        pulumi.runtime.setAllConfig({ [`${PROJECT}:upgradeCommand`]: "true" });
        assert.throws(
            () => c.rollFromConfig(undefined, { clusterReader: cluster() }),
            /Missing required configuration variable 'node-upgrade:targetVersion'/,
        );

        await setConfig({ ...BASE, maxUnavailable: 2, maxNodesDownAtOnce: 1 });
        await assert.rejects(
            c.rollFromConfig(undefined, { clusterReader: cluster() }).roll.upgrades,
            /refusing to roll: maxUnavailable 2 .* at most 1 may be down at once \(maxNodesDownAtOnce is 1\)/,
        );

        await setConfig({ ...BASE, nodes: [], selector: "" });
        await assert.rejects(
            c.rollFromConfig(undefined, { clusterReader: cluster() }).roll.upgrades,
            /give either nodes .* or selector .*, not neither/,
        );

        await setConfig({ ...BASE, sshHosts: ["worker2"] });
        assert.throws(
            () => c.rollFromConfig(undefined, { clusterReader: cluster() }),
            /config "sshHosts": each entry must look like name=value/,
        );
    });

    describe("index.ts (the Pulumi program) in preview against the simulated cluster", () => {
        let sim: TestCluster;
        before(async () => (sim = await startTestCluster("seed")));
        after(async () => sim?.stop());

        it("reads the cluster at program time, plans the roll and exports the report", async () => {
            const { mocks, registered } = recordingMocks({ preview: true });
            await pulumi.runtime.setMocks(mocks, PROJECT, "test", true);
            await setConfig({
                ...BASE,
                kubeconfig: sim.kubeconfig,
                selector: "",
                nodes: ["worker2", "worker1", "master"],
                drainIgnoreDaemonSets: true,
                drainDeleteEmptyDirData: true,
            });
            const logged: string[] = [];
            const original = console.log;
            console.log = (...a: any[]) => logged.push(a.join(" "));
            let program: any;
            try {
                const entry = path.join(findPackageRoot(__dirname), "dist", "index.js");
                delete require.cache[entry];
                program = require(entry);
                assert.deepStrictEqual(await valueOf(program.rollBatches), [["master"], ["worker2"], ["worker1"]]);
                // The plan is logged once the planner has read the cluster: wait for those lines (not for a fixed time).
                const planLines = () => logged.filter((l) => l.startsWith("info: [runtime] [")).length;
                for (const until = Date.now() + 60_000; planLines() < 3 && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
            } finally {
                console.log = original;
            }
            assert.ok(pulumi.Output.isInstance(program.nodeUpgradeReport));
            // Host defaults to the node's InternalIP, read from the cluster.
            const conn = (registered.find((r) => r.name === "roll-worker1-upgrade")!.inputs.connection as any).value;
            assert.strictEqual(conn.host, "10.1.11.8");
            const plan = logged.filter((l) => l.startsWith("info: [runtime] ["));
            assert.deepStrictEqual(
                plan.map((l) => /\[(\d)\/3\] (\S+)/.exec(l)!.slice(1).join(" ")),
                ["1 master", "2 worker2", "3 worker1"],
                logged.join("\n"),
            );
        });

        it("index.ts type-checks and runs under the ts-node the Pulumi CLI falls back to (vendored 7.0.1)", async () => {
            // The CLI runs index.ts with the project's typescript and, without a ts-node dependency, its own
            // vendored ts-node. Do the same in a child process (ts-node hooks are process-wide).
            const script = `
                const tsn = require("@pulumi/pulumi/vendor/ts-node@7.0.1");
                tsn.register({ typeCheck: true, compiler: "typescript", project: "tsconfig.json", files: true });
                const pulumi = require("@pulumi/pulumi");
                (async () => {
                    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) }, "node-upgrade", "dev", true);
                    pulumi.runtime.setAllConfig(JSON.parse(process.env.CONFIG), ["node-upgrade:kubeconfig"]);
                    const program = require("./index.ts");
                    console.log("BATCHES " + JSON.stringify(await program.rollBatches.promise()));
                })().catch((e) => { console.error(e); process.exit(1); });`;
            const config = Object.fromEntries(
                Object.entries(stackConfig({ ...BASE, kubeconfig: sim.kubeconfig, drainIgnoreDaemonSets: true })).map(([k, v]) => [
                    `${PROJECT}:${k}`,
                    v,
                ]),
            );
            const stdout = await new Promise<string>((resolve, reject) =>
                execFile(
                    process.execPath,
                    ["-e", script],
                    { cwd: findPackageRoot(__dirname), env: { ...process.env, CONFIG: JSON.stringify(config) }, timeout: 110_000 },
                    (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
                ),
            );
            assert.match(stdout, /BATCHES \[\["master"\],\["worker1"\],\["worker2"\]\]/);
        });
    });
});
