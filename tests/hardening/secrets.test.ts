// Secrets: a whole roll of the seed cluster (root program, local engine, real provider host) with a kubeconfig
// holding a distinctive token and an SSH private key, key passphrase and password in the stack configuration
// (as secrets). Everything the engine would store or show is captured: every resource's inputs as they reach
// the monitor and its outputs as the engine returns them (`__provider` included), the engine's state written
// out the way the engine stores it, the stack outputs, and every log (provider host stdout/stderr, the program's
// console with pulumi.log, the commands' output). None may contain a secret in plain text, except inside values
// marked secret (the SDK's envelope 4dabf18193072939515e22adb298388d).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { startCluster, SimCluster } from "../../sim";
import { DynamicProviderHost, isSecretEnvelope, LocalEngine, REPO_ROOT, SECRET_SIG, SECRET_VALUE, stackConfig } from "../../local-engine";
import { loadComponents } from "./harness";

const TOKEN = "tok-SECRET-7e1f0c2a9b8d4e6f5a4b3c2d";
const KEY_BODY = "KEY-SECRET-3c5d7e9f1a2b4c6d8e0f";
const PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n`;
const PASSPHRASE = "PP-SECRET-1f2e3d4c5b6a7988";
const PASSWORD = "PW-SECRET-9a8b7c6d5e4f3021";
const ENV_SECRET = "ENV-SECRET-5b6c7d8e9f0a1b2c";
const SECRETS = [TOKEN, KEY_BODY, PASSPHRASE, PASSWORD];

/** Every way a secret could be spelled in a capture: as is, base64, and JSON-escaped. */
function forms(secret: string): string[] {
    return [secret, Buffer.from(secret).toString("base64").replace(/=+$/, ""), JSON.stringify(secret).slice(1, -1)];
}

/** The value with every secret envelope's content replaced (what may legitimately hold a secret). */
function outsideSecrets(v: any): any {
    if (isSecretEnvelope(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(outsideSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, outsideSecrets(x)]));
    return v;
}

function leaks(what: string, value: unknown, secrets = SECRETS): string[] {
    const text = typeof value === "string" ? value : JSON.stringify(outsideSecrets(value));
    return secrets.flatMap((s) =>
        forms(s)
            .filter((f) => text.includes(f))
            .map((f) => `${what} contains ${f === s ? s : `a form of ${s}`}`),
    );
}

const wrap = (v: unknown) => ({ [SECRET_SIG]: SECRET_VALUE, value: v });

interface Registration {
    type: string;
    name: string;
    /** Inputs as they reached the monitor (secret envelopes as the SDK sent them). */
    inputs: Record<string, any>;
    /** What the engine answered (outputs, secret ones wrapped). */
    state: Record<string, any>;
}

describe("hardening: secrets never appear in plain text in state, outputs or logs", function () {
    this.timeout(120_000);
    let host: DynamicProviderHost;
    let sim: SimCluster;
    let dir: string;
    const hostLines: string[] = [];
    const consoleLines: string[] = [];
    const registrations: Registration[] = [];
    let engine: LocalEngine;
    let stackOutputs: unknown;

    /** Runs the root program with console output captured. */
    async function run(values: Record<string, unknown>, preview = false) {
        const c = await loadComponents();
        const original = { log: console.log, info: console.info, warn: console.warn, error: console.error };
        const capture = (...a: any[]) => void consoleLines.push(a.map(String).join(" "));
        Object.assign(console, { log: capture, info: capture, warn: capture, error: capture });
        try {
            return await engine.run(() => c.rollFromConfig().report, {
                config: stackConfig(values),
                secretKeys: ["kubeconfig", "sshPrivateKey", "sshPrivateKeyPassword", "sshPassword"],
                preview,
            });
        } finally {
            Object.assign(console, original);
        }
    }

    before(async () => {
        await loadComponents();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-secrets-"));
        sim = await startCluster({
            scenario: "seed",
            timeScale: 60,
            token: TOKEN,
            kubeconfigPath: path.join(dir, "kubeconfig"),
            upgradeDownSeconds: 3,
            recordEvents: false,
        });
        host = await DynamicProviderHost.start({ onOutput: (line) => hostLines.push(line) });
        engine = new LocalEngine(host, { cwd: REPO_ROOT });
        // Record what reaches the monitor and what the engine answers, for every resource.
        const register = (engine as any).register.bind(engine);
        (engine as any).register = async (args: pulumi.runtime.MockResourceArgs, ...rest: unknown[]) => {
            const result = await register(args, ...rest);
            registrations.push({ type: args.type, name: args.name, inputs: args.inputs, state: result.state });
            return result;
        };
        const values = {
            kubeconfig: sim.kubeconfig,
            nodes: ["master", "worker1", "worker2"],
            targetVersion: "v1.20.0",
            upgradeCommand:
                'node dist/sim/cli.js upgrade-node --kubeconfig "$SIM_KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"',
            upgradeEnvironment: [`SIM_KUBECONFIG=${path.join(dir, "kubeconfig")}`],
            sshUser: "ops",
            sshPrivateKey: PRIVATE_KEY,
            sshPrivateKeyPassword: PASSPHRASE,
            sshPassword: PASSWORD,
            drainIgnoreDaemonSets: true,
            drainDeleteEmptyDirData: true,
            drainTimeout: "60s",
            readyTimeout: "60s",
            readyPollInterval: "100ms",
        };
        const preview = await run(values, true);
        assert.ok(preview.ok, preview.error?.message);
        const up = await run(values);
        assert.ok(up.ok, up.error?.message);
        stackOutputs = up.value;
    });

    after(async () => {
        await host?.stop();
        await sim?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the roll really ran with the secrets: every node upgraded, the kubeconfig's token used by the providers", () => {
        for (const n of ["master", "worker1", "worker2"])
            assert.strictEqual(sim.get("Node", undefined, n).status.nodeInfo.kubeletVersion, "v1.20.0");
        assert.ok(
            sim.requestLog().some((r) => r.verb === "patch" && r.resource === "nodes"),
            "the providers never reached the cluster",
        );
        assert.ok(registrations.length >= 2 * 16, `only ${registrations.length} registrations captured`);
    });

    it("the kubeconfig never reaches the monitor (the steps name its stack config key); the SSH connection (key, passphrase, password) is secret-wrapped", () => {
        const dynamic = registrations.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
        assert.strictEqual(dynamic.length, 2 * 12);
        for (const r of dynamic) {
            assert.strictEqual(r.inputs.kubeconfig, undefined, `${r.name}: the kubeconfig was passed as an input`);
            assert.strictEqual(r.inputs.kubeconfigConfigKey, "node-upgrade:kubeconfig");
            assert.ok(!JSON.stringify(r.inputs).includes(TOKEN), `${r.name}: the token is in its inputs`);
            assert.ok(typeof r.inputs.__provider === "string" && r.inputs.__provider.length > 0);
        }
        const commands = registrations.filter((r) => r.type === "command:remote:Command");
        assert.strictEqual(commands.length, 2 * 3);
        for (const r of commands) {
            assert.ok(isSecretEnvelope(r.inputs.connection), `${r.name}: connection input is not secret`);
            const conn = (r.inputs.connection as { value: any }).value;
            const plain = (v: any) => (isSecretEnvelope(v) ? v.value : v);
            assert.strictEqual(plain(conn.privateKey), PRIVATE_KEY);
            assert.strictEqual(plain(conn.privateKeyPassword), PASSPHRASE);
            assert.strictEqual(plain(conn.password), PASSWORD);
            assert.ok(isSecretEnvelope(r.state.connection), `${r.name}: the connection output is not kept secret`);
        }
        // Outputs echoing the kubeconfig come back secret as well.
        for (const r of dynamic.filter((x) => x.state.kubeconfig !== undefined))
            assert.ok(isSecretEnvelope(r.state.kubeconfig), `${r.name}: kubeconfig output`);
    });

    it("no secret in plain text in any resource's inputs or outputs at the monitor (with __provider)", () => {
        const found = registrations.flatMap((r) => [...leaks(`${r.name} inputs`, r.inputs), ...leaks(`${r.name} outputs`, r.state)]);
        assert.deepStrictEqual(found, []);
    });

    it("no secret in plain text in the state as the engine stores it (checked inputs and outputs, secrets wrapped)", () => {
        const secretInputs = new Map(
            registrations.map((r) => [`${r.type}::${r.name}`, Object.keys(r.inputs).filter((k) => isSecretEnvelope(r.inputs[k]))]),
        );
        const stored = [...engine.state.values()].map((e) => {
            const secretIn = secretInputs.get(`${e.type}::${e.name}`) ?? [];
            const inputs = Object.fromEntries(Object.entries(e.inputs).map(([k, v]) => [k, secretIn.includes(k) ? wrap(v) : v]));
            const outputs = Object.fromEntries(
                Object.entries(e.outputs).map(([k, v]) => [k, e.secretOutputs.includes(k) || secretIn.includes(k) ? wrap(v) : v]),
            );
            return { type: e.type, name: e.name, id: e.id, inputs, outputs };
        });
        assert.strictEqual(stored.length, 15);
        assert.ok(stored.every((s) => s.type === "command:remote:Command" || typeof s.outputs.__provider === "string"));
        assert.deepStrictEqual(leaks("state", stored), []);
        // The kubeconfig is not in the state at all, not even encrypted: the providers read it from the stack config.
        assert.ok(!JSON.stringify(stored).includes(TOKEN));
        // The SSH key is (encrypted by the engine): a replacement command needs it.
        assert.ok(JSON.stringify(stored).includes(JSON.stringify(PRIVATE_KEY).slice(1, -1)));
    });

    it("no secret in the stack outputs", () => {
        assert.ok(stackOutputs && (stackOutputs as any).nodes?.length === 3);
        assert.deepStrictEqual(leaks("stack outputs", stackOutputs), []);
        assert.ok(!JSON.stringify(stackOutputs).includes(SECRET_SIG), "the report should not even hold secrets");
    });

    it("no secret in any log: the provider host's stdout and stderr, the program's console (pulumi.log), the commands' output", () => {
        assert.ok(
            hostLines.some((l) => l.includes("[NodeDrain worker1]")),
            "host output was not captured",
        );
        assert.deepStrictEqual(leaks("provider host output", hostLines.join("\n")), []);
        assert.deepStrictEqual(leaks("provider host stderr", host.stderr().join("\n")), []);
        assert.deepStrictEqual(leaks("program console", consoleLines.join("\n")), []);
        assert.deepStrictEqual(leaks("command output", [...engine.commandOutput.values()].join("\n")), []);
    });

    it("a failing step's error names the cause without the kubeconfig's token", async () => {
        // A kubeconfig whose token the cluster refuses: the cordon fails, and says why without echoing it.
        const wrong = sim.kubeconfig.replace(TOKEN, "tok-SECRET-wrongwrongwrongwrong");
        const failing = new LocalEngine(host, { cwd: REPO_ROOT });
        const c = await loadComponents();
        const r = await failing.run(() => c.rollFromConfig().report, {
            config: stackConfig({
                kubeconfig: wrong,
                nodes: ["worker1"],
                targetVersion: "v1.21.0",
                upgradeCommand: "true",
                drainTimeout: "5s",
            }),
            secretKeys: ["kubeconfig"],
        });
        assert.ok(!r.ok);
        assert.match(r.error!.message, /Unauthorized|401/);
        assert.deepStrictEqual(leaks("error", r.error!.message, [...SECRETS, "tok-SECRET-wrongwrongwrongwrong"]), []);
    });

    it("a secret in `environment` keeps the whole command secret (its text holds the value)", async () => {
        const c = await loadComponents();
        const seen: Record<string, any> = {};
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    seen[args.name] = args.inputs;
                    return {
                        id: `${args.name}-id`,
                        state: { ...args.inputs, ...(args.type.endsWith(":NodeDrain") ? { alreadyAtTarget: false } : {}) },
                    };
                },
                call: () => ({}),
            },
            "node-upgrade",
            "test",
        );
        const u = new c.NodeUpgrade("n", {
            nodeName: "worker1",
            targetVersion: "v1.20.0",
            kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
            upgradeCommand: 'login --password-stdin <<< "$REGISTRY_PASSWORD"',
            environment: { REGISTRY_PASSWORD: pulumi.secret(ENV_SECRET) },
            ssh: { host: "10.0.0.1" },
            clusterReader: { listNodes: async () => [], readNode: async () => ({}) as any },
        });
        await (u.uncordon.urn as any).promise();
        assert.ok(isSecretEnvelope(seen["n-upgrade"].create), "the command text holds a secret value, so it must be secret");
        assert.ok(seen["n-upgrade"].create.value.includes(ENV_SECRET));
        for (const [name, inputs] of Object.entries(seen)) assert.deepStrictEqual(leaks(name, inputs, [ENV_SECRET]), []);
        assert.ok((await (u.report as any).isSecret) === false, "the report holds no secret and should not be marked secret");
    });
});
