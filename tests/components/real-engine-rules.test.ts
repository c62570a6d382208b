// What a user of the real `pulumi up` / `pulumi refresh` gets, through the local engine's model of the engine
// (pulumi/pulumi v3.248) and of @pulumi/command 1.2.1, over a real sshd where SSH matters (issue 10):
// connection changes run nothing; refresh removes a step only for a node the API says is gone; state and
// credentials are not tied to one checkout or one token; a failed step starts nothing new; the upgrade's time
// limit is real; a terminated run stops evicting; check failures never print a secret.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { DynamicProviderHost, LocalEngine, OpRecord, REPO_ROOT, serializeProvider, stackConfig } from "../../local-engine";
import { nodeState, simStackConfig, startTestCluster, TestCluster, writeRequests } from "../helpers/pulumi-sim";
import { startSshd, Sshd } from "../helpers/sshd";
import { loadComponents, stepsOf, type Components } from "../helpers/components";

let c: Components;

const NODES = ["master", "worker1", "worker2"];
const roll = () => c.rollFromConfig().report;
const custom = (ops: OpRecord[]) => stepsOf(ops);
const notSame = (ops: OpRecord[]) =>
    custom(ops)
        .filter((o) => o.op !== "same")
        .map((o) => `${o.op} ${o.name}`);

/**
 * The simulated upgrade, as a node would run it: every value from the environment; each run appends the node's
 * name to $MARKER, so the test counts what really ran on the "node".
 */
const UPGRADE =
    'cd "$REPO" && "$NODE_BIN" dist/sim/cli.js upgrade-node --kubeconfig "$KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION" && echo "$NODE_NAME" >> "$MARKER"';

function baseConfig(cluster: TestCluster, marker: string, values: Record<string, unknown> = {}) {
    return simStackConfig(cluster, {
        nodes: NODES,
        targetVersion: "v1.20.0",
        upgradeCommand: UPGRADE,
        upgradeEnvironment: [
            `KUBECONFIG=${cluster.kubeconfigPath}`,
            `REPO=${REPO_ROOT}`,
            `NODE_BIN=${process.execPath}`,
            `MARKER=${marker}`,
        ],
        ...values,
    });
}

const runs = (marker: string) => (fs.existsSync(marker) ? fs.readFileSync(marker, "utf8").split("\n").filter(Boolean) : []);
const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "engine-rules-")), name);

describe("components: the real engine's rules (issue 10)", function () {
    this.timeout(120_000);
    let host: DynamicProviderHost;

    before(async () => {
        c = await loadComponents();
        host = await DynamicProviderHost.start();
    });
    after(async () => host?.stop());

    describe("SSH settings change: nothing runs on any node (real sshd)", () => {
        let sshd: Sshd | undefined;
        let skipReason = "";
        let cluster: TestCluster;
        let engine: LocalEngine;
        const marker = tmpFile("runs");
        const ssh = (values: Record<string, unknown>) => ({
            sshUser: sshd!.user,
            sshPort: sshd!.port,
            sshHosts: NODES.map((n) => `${n}=127.0.0.1`),
            sshPrivateKey: sshd!.privateKey,
            sshHostKey: sshd!.hostKeyLine,
            ...values,
        });
        const secrets = ["kubeconfig", "sshPrivateKey", "sshPrivateKeyPassword"];

        before(async function () {
            const started = await startSshd();
            if ("skipped" in started) {
                skipReason = started.skipped;
                return;
            }
            sshd = started;
            cluster = await startTestCluster("seed");
            engine = new LocalEngine(host, { cwd: REPO_ROOT, commandTransport: "ssh" });
        });
        after(async () => {
            await sshd?.stop();
            await cluster?.stop();
        });
        beforeEach(function () {
            if (!sshd) {
                console.log(`      skipped: ${skipReason}`);
                this.skip();
            }
        });

        it("rolls the seed cluster, each upgrade run over SSH with the pinned host key", async () => {
            const result = await engine.run(roll, { config: baseConfig(cluster, marker, ssh({})), secretKeys: secrets });
            assert.ok(result.ok, result.error?.message);
            assert.deepStrictEqual(runs(marker), NODES);
            for (const n of NODES) assert.strictEqual(nodeState(cluster.sim, n).kubeletVersion, "v1.20.0");
            assert.match(sshd!.log(), /Accepted publickey for /);
        });

        it("a rotated key, a new address and a new host key run nothing and write nothing", async () => {
            cluster.sim.clearRequestLog();
            for (const change of [
                { sshPrivateKey: sshd!.encryptedKey, sshPrivateKeyPassword: sshd!.passphrase },
                {
                    sshPrivateKey: sshd!.encryptedKey,
                    sshPrivateKeyPassword: sshd!.passphrase,
                    sshHosts: NODES.map((n) => `${n}=localhost`),
                },
                { sshPrivateKey: sshd!.encryptedKey, sshPrivateKeyPassword: sshd!.passphrase, sshHostKey: sshd!.otherHostKeyLine },
            ]) {
                const result = await engine.run(roll, { config: baseConfig(cluster, marker, ssh(change)), secretKeys: secrets });
                assert.ok(result.ok, result.error?.message);
                assert.deepStrictEqual(notSame(result.ops), [], JSON.stringify(Object.keys(change)));
            }
            assert.deepStrictEqual(runs(marker), NODES, "an upgrade ran again");
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
        });

        it("the next real roll runs each upgrade once, after its drain, with the NEW key", async () => {
            const config = baseConfig(
                cluster,
                marker,
                ssh({ sshPrivateKey: sshd!.encryptedKey, sshPrivateKeyPassword: sshd!.passphrase, targetVersion: "v1.21.0" }),
            );
            const result = await engine.run(roll, { config, secretKeys: secrets });
            assert.ok(result.ok, result.error?.message);
            assert.deepStrictEqual(runs(marker), [...NODES, ...NODES]);
            for (const n of NODES) {
                const ops = custom(result.ops).filter((o) => o.name.startsWith(`roll-${n}-`) && o.op !== "delete");
                const drain = ops.find((o) => o.name.endsWith("-drain"))!;
                const upgrade = ops.find((o) => o.name.endsWith("-upgrade"))!;
                assert.strictEqual(upgrade.op, "replace");
                assert.ok(upgrade.start >= drain.end, `${n}: the upgrade started before its drain ended`);
                assert.strictEqual(nodeState(cluster.sim, n).kubeletVersion, "v1.21.0");
            }
        });

        it("a wrong host key fails the node's upgrade with the SSH error, leaving it cordoned and the rest untouched", async () => {
            const config = baseConfig(
                cluster,
                marker,
                ssh({ sshHostKey: sshd!.otherHostKeyLine, sshDialErrorLimit: 1, targetVersion: "v1.22.0" }),
            );
            const result = await engine.run(roll, { config, secretKeys: secrets });
            assert.ok(!result.ok);
            assert.match(result.error!.message, /roll-master-upgrade: .*ssh: handshake failed: ssh: host key mismatch/s);
            assert.deepStrictEqual(nodeState(cluster.sim, "master"), {
                unschedulable: true,
                ready: true,
                kubeletVersion: "v1.21.0",
                cordonedByUs: true,
            });
            assert.strictEqual(nodeState(cluster.sim, "worker1").unschedulable, false);
            assert.ok(!result.registered.some((r) => r.includes("roll-worker1-")));
        });
    });

    describe("refresh and credentials", () => {
        let cluster: TestCluster;
        let engine: LocalEngine;
        let marker: string;
        beforeEach(async () => {
            cluster = await startTestCluster("seed");
            engine = new LocalEngine(host, { cwd: REPO_ROOT });
            marker = tmpFile("runs");
        });
        afterEach(async () => cluster?.stop());

        it("with the kubeconfig in stack config, the state holds no kubeconfig, and a rotated token is used at once", async () => {
            const first = await engine.run(roll, { config: baseConfig(cluster, marker), secretKeys: ["kubeconfig"] });
            assert.ok(first.ok, first.error?.message);
            const state = JSON.stringify([...engine.state.values()]);
            assert.ok(
                !state.includes(cluster.sim.token) && !state.includes("certificate-authority-data"),
                "the kubeconfig was copied into the state",
            );
            assert.ok(state.includes('"kubeconfigConfigKey":"node-upgrade:kubeconfig"'));

            const oldConfig = baseConfig(cluster, marker);
            const newKubeconfig = cluster.sim.rotateToken();
            // The old token is refused now: refresh with the old stack config fails, says why, and removes nothing.
            const stale = await engine.refresh({ config: oldConfig, secretKeys: ["kubeconfig"] });
            assert.ok(!stale.ok);
            assert.match(stale.errors[0].message, /refresh could not read the node, so the stack was left as it is/);
            assert.match(stale.errors[0].message, /stack configuration key "node-upgrade:kubeconfig"/);
            assert.deepStrictEqual(stale.removed, []);
            // `pulumi config set --secret kubeconfig` with the new one: refresh and up just work, nothing runs.
            const config = baseConfig(cluster, marker, { kubeconfig: newKubeconfig });
            const fresh = await engine.refresh({ config, secretKeys: ["kubeconfig"] });
            assert.ok(fresh.ok, fresh.errors.map((e) => e.message).join("\n"));
            cluster.sim.clearRequestLog();
            const again = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(again.ok, again.error?.message);
            assert.deepStrictEqual(notSame(again.ops), []);
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            assert.deepStrictEqual(runs(marker), NODES);
        });

        it("refresh fails, changing nothing, when the kubeconfig file is missing; only a node the API says is gone is removed", async () => {
            const first = await engine.run(roll, { config: baseConfig(cluster, marker), secretKeys: ["kubeconfig"] });
            assert.ok(first.ok, first.error?.message);
            const config = baseConfig(cluster, marker, { kubeconfig: "", kubeconfigPath: cluster.kubeconfigPath });
            cluster.sim.clearRequestLog();
            const moved = await engine.run(roll, { config });
            assert.ok(moved.ok, moved.error?.message);
            // Moving from the config key to a path is a settings update: stored, nothing run, nothing written.
            assert.ok(
                custom(moved.ops).every((o) => o.op === "same" || o.op === "update"),
                notSame(moved.ops).join("\n"),
            );
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            assert.deepStrictEqual(runs(marker), NODES);
            const before = engine.state.size;

            fs.renameSync(cluster.kubeconfigPath, `${cluster.kubeconfigPath}.away`);
            const missing = await engine.refresh({ config });
            fs.renameSync(`${cluster.kubeconfigPath}.away`, cluster.kubeconfigPath);
            assert.ok(!missing.ok);
            assert.match(missing.errors[0].message, /refresh could not read the node, so the stack was left as it is: .*file not found/s);
            assert.match(
                missing.errors[0].message,
                new RegExp(`the file "${cluster.kubeconfigPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" on the machine that runs refresh`),
            );
            assert.deepStrictEqual(missing.removed, []);
            assert.strictEqual(engine.state.size, before);

            cluster.sim.delete("Node", undefined, "worker2");
            const deleted = await engine.refresh({ config });
            assert.ok(deleted.ok, deleted.errors.map((e) => e.message).join("\n"));
            assert.deepStrictEqual(deleted.removed.sort(), [
                "roll-worker2-cordon",
                "roll-worker2-drain",
                "roll-worker2-ready",
                "roll-worker2-uncordon",
            ]);
            assert.strictEqual(engine.state.size, before - 4);
        });
    });

    describe("a kubeconfig passed as a value (NodeUpgrade)", () => {
        let cluster: TestCluster;
        let engine: LocalEngine;
        const marker = tmpFile("runs");
        let kubeconfig = "";
        const program = () =>
            new c.NodeUpgrade("w1", {
                nodeName: "worker1",
                targetVersion: "v1.20.0",
                kubeconfig: pulumi.secret(kubeconfig),
                upgradeCommand: UPGRADE,
                environment: { KUBECONFIG: cluster.kubeconfigPath, REPO: REPO_ROOT, NODE_BIN: process.execPath, MARKER: marker },
                ssh: { host: "127.0.0.1" },
                drain: { ignoreDaemonSets: true, deleteEmptyDirData: true },
                readyPollInterval: "100ms",
            }).report;
        before(async () => {
            cluster = await startTestCluster("seed");
            kubeconfig = cluster.kubeconfig;
            engine = new LocalEngine(host, { cwd: REPO_ROOT });
        });
        after(async () => cluster?.stop());

        it("a rotated kubeconfig: refresh says to run up first; up stores it without touching the node; then refresh works", async () => {
            const first = await engine.run(program);
            assert.ok(first.ok, first.error?.message);
            kubeconfig = cluster.sim.rotateToken();
            const stale = await engine.refresh();
            assert.ok(!stale.ok);
            assert.match(stale.errors[0].message, /run `pulumi up` first: a new kubeconfig is stored without touching any node/);
            assert.ok(!stale.errors[0].message.includes(cluster.sim.token));

            cluster.sim.clearRequestLog();
            host.clearOutput();
            const up = await engine.run(program);
            assert.ok(up.ok, up.error?.message);
            assert.deepStrictEqual(notSame(up.ops).sort(), [
                "update w1-cordon",
                "update w1-drain",
                "update w1-ready",
                "update w1-uncordon",
            ]);
            assert.deepStrictEqual(writeRequests(cluster.sim), []);
            assert.deepStrictEqual(runs(marker), ["worker1"]);
            assert.ok(
                host
                    .output()
                    .some((l) => /\[NodeDrain worker1\] settings changed \(kubeconfig\): stored; nothing was run on the node/.test(l)),
                host.output().join("\n"),
            );
            const fresh = await engine.refresh();
            assert.ok(fresh.ok, fresh.errors.map((e) => e.message).join("\n"));
        });

        it("a check failure about the kubeconfig never prints it (the engine prints a failing property's value)", async () => {
            const secretText = "apiVersion: v1\nclusters: [ {{ not yaml\ntoken: SECRET-TOKEN-0123456789abcdef\n";
            const bad = new LocalEngine(host, { cwd: REPO_ROOT });
            const result = await bad.run(
                () =>
                    new c.NodeCordon("x", { nodeName: "worker1", targetVersion: "v1.20.0", kubeconfig: pulumi.secret(secretText) })
                        .nodeName,
            );
            assert.ok(!result.ok);
            assert.match(
                result.error!.message,
                /NodeCordon resource 'x' has a problem: NodeCordon: kubeconfig: the kubeconfig text is not valid YAML/,
            );
            assert.ok(!result.error!.message.includes("SECRET-TOKEN"), result.error!.message);
        });
    });

    describe("a failed step, a time limit, a terminated run", () => {
        let cluster: TestCluster;
        beforeEach(async () => {
            cluster = await startTestCluster("seed");
        });
        afterEach(async () => cluster?.stop());

        it("after a failed step nothing new starts: the other node of the batch finishes its step in flight, then stops", async () => {
            const marker = tmpFile("runs");
            const gate = tmpFile("gate");
            // worker1's upgrade fails at once; worker2's waits until the failure has been seen (an event, not a sleep).
            const command = `if [ "$NODE_NAME" = worker1 ]; then echo "broken" >&2; exit 1; fi; if [ "$NODE_NAME" = worker2 ]; then while [ ! -f "$GATE" ]; do sleep 0.05; done; fi; ${UPGRADE}`;
            const engine = new LocalEngine(host, {
                cwd: REPO_ROOT,
                hooks: { stepFailed: (e) => void (e.name === "roll-worker1-upgrade" && fs.writeFileSync(gate, "")) },
            });
            const config = baseConfig(cluster, marker, {
                maxUnavailable: 2,
                upgradeCommand: command,
                upgradeEnvironment: [
                    `KUBECONFIG=${cluster.kubeconfigPath}`,
                    `REPO=${REPO_ROOT}`,
                    `NODE_BIN=${process.execPath}`,
                    `MARKER=${marker}`,
                    `GATE=${gate}`,
                ],
            });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(!result.ok);
            assert.match(result.error!.message, /roll-worker1-upgrade: Process exited with status 1: running ".*":\nbroken/s);
            const ran = custom(result.ops).map((o) => o.name);
            for (const step of ["roll-worker2-ready", "roll-worker2-uncordon", "roll-worker1-ready"])
                assert.ok(!ran.includes(step), `${step} ran after the failure`);
            for (const n of ["worker1", "worker2"])
                assert.strictEqual(nodeState(cluster.sim, n).cordonedByUs, true, `${n} must stay cordoned`);
        });

        it("upgradeTimeout stops a script that never ends; the node stays cordoned", async () => {
            const engine = new LocalEngine(host, { cwd: REPO_ROOT });
            const config = baseConfig(cluster, tmpFile("runs"), {
                nodes: ["master"],
                targetVersion: "v1.21.0",
                upgradeCommand: "while :; do sleep 1; done",
                upgradeTimeout: "2s",
            });
            const result = await engine.run(roll, { config, secretKeys: ["kubeconfig"] });
            assert.ok(!result.ok);
            assert.match(
                result.error!.message,
                /roll-master-upgrade: Process exited with status 124: running ".*":\nnode-upgrade: the command ran longer than upgradeTimeout \(2s\) and was stopped/s,
            );
            assert.strictEqual(nodeState(cluster.sim, "master").cordonedByUs, true);
        });

        it("terminating the run (a second Ctrl-C) kills the provider process: evictions stop, the node stays cordoned", async () => {
            const pdb = await startTestCluster("pdb");
            try {
                const engine = new LocalEngine(host, { cwd: REPO_ROOT });
                const config = stackConfig({
                    kubeconfig: pdb.kubeconfig,
                    nodes: ["worker1"],
                    targetVersion: "v1.28.6",
                    upgradeCommand: "true",
                    drainIgnoreDaemonSets: true,
                    drainDeleteEmptyDirData: true,
                    drainTimeout: "10m",
                });
                host.clearOutput();
                const running = engine.run(roll, { config, secretKeys: ["kubeconfig"] });
                // Wait for the event: the drain reports that a budget holds it.
                for (;;) {
                    if (host.output().some((l) => /\[NodeDrain worker1\].*PodDisruptionBudget default\/critical-pdb/.test(l))) break;
                    await new Promise((r) => setTimeout(r, 20));
                }
                await engine.terminate();
                const result = await running;
                assert.ok(!result.ok);
                assert.strictEqual(host.isRunning(), false, "the provider process must be gone");
                pdb.sim.clearRequestLog();
                assert.deepStrictEqual(nodeState(pdb.sim, "worker1").cordonedByUs, true);
                assert.strictEqual(
                    pdb.sim.list("Pod", "default").filter((p) => p.metadata.name.startsWith("critical-") && p.spec.nodeName === "worker1")
                        .length,
                    1,
                );
            } finally {
                await pdb.stop();
            }
        });
    });

    it("provider calls carry no gRPC deadline, as the engine's (a 30-minute drain is one Create call)", async () => {
        const client = (host as any).client;
        const seen: unknown[][] = [];
        const original = client.check;
        client.check = function (...args: unknown[]) {
            seen.push(args);
            return original.apply(this, args);
        };
        try {
            await host.check(
                "urn:pulumi:test::node-upgrade::pulumi-nodejs:dynamic/node-upgrade:NodeCordon::x",
                {},
                { __provider: await serializeProvider(c.nodeCordonProvider) },
            );
        } catch {
            // the check's answer does not matter here
        } finally {
            client.check = original;
        }
        assert.strictEqual(seen.length, 1);
        assert.ok(!seen[0].some((a) => a && typeof a === "object" && "deadline" in (a as object)), "a call had a deadline");
    });
});
