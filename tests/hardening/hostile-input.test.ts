// Hostile and malformed input. Every bad value is refused at program time (the constructor or the component's
// initialize, so `pulumi preview` stops before anything registers) or by the providers' check, with a message
// that says what is wrong and how to fix it. Nothing user-supplied is ever pasted raw into a shell string: the
// remote command is always `env NAME='value'... sh -c '<script>'`, which is checked as a grammar over many
// seeded random hostile values, and run with a real sh to show the values arrive verbatim and run nothing.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Prng } from "../../sim/random";
import { DynamicProviderHost, serializeProvider, stackConfig } from "../../local-engine";
import type { ClusterReader } from "../../components/cluster-reader";
import type { NodeInfo } from "../../components/engine-contract";
import { loadComponents } from "./harness";

type Components = typeof import("../../components");
let c: Components;

const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n";
const canaryDir = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-hostile-"));
const CANARY = path.join(canaryDir, "pwned");

/** Values an attacker (or a typo) could put anywhere: each tries to run `touch CANARY`. */
const HOSTILE = [
    `$(touch ${CANARY})`,
    `\`touch ${CANARY}\``,
    `; touch ${CANARY}`,
    `&& touch ${CANARY}`,
    `| touch ${CANARY}`,
    `'; touch ${CANARY}; echo '`,
    `"; touch ${CANARY}; echo "`,
    `'\\''; touch ${CANARY} #`,
    `x\ntouch ${CANARY}\n`,
    `x\rtouch ${CANARY}`,
    `\${IFS}touch\${IFS}${CANARY}`,
    `$(printf '\\x74ouch ${CANARY}')`,
    `> ${CANARY}`,
    `w1 ; touch ${CANARY}`,
];

function cluster(names = ["cp", "w1", "w2"]): ClusterReader {
    const nodes: NodeInfo[] = names.map((name, i) => ({
        name,
        unschedulable: false,
        cordonedByUs: false,
        ready: true,
        kubeletVersion: "v1.28.5",
        internalIP: `10.0.0.${i + 1}`,
        controlPlane: name === "cp",
        labels: { pool: i % 2 ? "a" : "b" },
    }));
    return {
        listNodes: async (selector?: string) => (selector ? nodes.filter((n) => selector === `pool=${n.labels.pool}`) : nodes),
        readNode: async (name) => {
            const n = nodes.find((x) => x.name === name);
            if (!n) throw new Error(`node "${name}" not found`);
            return n;
        },
    };
}

/** Mocks recording every registration; step outputs as after a successful run, so the command text resolves. */
function mocks() {
    const registered: { type: string; name: string; inputs: any }[] = [];
    const m: pulumi.runtime.Mocks = {
        newResource(args) {
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            const outputs: Record<string, any> =
                args.type.endsWith(":NodeDrain") || args.type.endsWith(":NodeCordon") ? { alreadyAtTarget: false } : {};
            return { id: args.custom ? `${args.name}-id` : (undefined as any), state: { ...args.inputs, ...outputs } };
        },
        call: () => ({}),
    };
    return { m, registered };
}

function rollArgs(over: Record<string, unknown> = {}): any {
    return {
        kubeconfig: pulumi.secret(KUBECONFIG),
        nodes: ["w1"],
        targetVersion: "v1.28.6",
        upgradeCommand: 'sudo apt-get install -y kubelet="$TARGET_SEMVER-1.1"',
        clusterReader: cluster(),
        ...over,
    };
}

/** Constructs a roll; resolves to the error (synchronous or from initialize), or undefined when it was accepted. */
async function construct(args: any): Promise<{ error?: Error; registered: { type: string; name: string; inputs: any }[] }> {
    const { m, registered } = mocks();
    await pulumi.runtime.setMocks(m, "node-upgrade", "test");
    try {
        const roll = new c.RollingNodeUpgrade("roll", args);
        const upgrades = await roll.upgrades;
        await Promise.all(upgrades.map((u) => (u.uncordon.urn as any).promise()));
        return { registered };
    } catch (error: any) {
        return { error, registered };
    }
}

const custom = (r: { type: string }[]) => r.filter((x) => x.type.startsWith("pulumi-nodejs:") || x.type === "command:remote:Command");

/** Reads a POSIX shell word list made only of bare words and '…' strings ('\'' for a quote). */
function parseEnvCommand(line: string): { vars: [string, string][]; script: string } {
    const quoted = "'((?:[^']|'\\\\'')*)'";
    const bareQuoted = "'(?:[^']|'\\\\'')*'";
    const m = new RegExp(`^env((?: [A-Za-z_][A-Za-z0-9_]*=${bareQuoted})+) sh -c ${quoted}$`, "s").exec(line);
    assert.ok(m, `not of the form env NAME='value'... sh -c 'script': ${JSON.stringify(line.slice(0, 300))}`);
    const unquote = (s: string) => s.replace(/'\\''/g, "'");
    const vars: [string, string][] = [];
    const each = new RegExp(` ([A-Za-z_][A-Za-z0-9_]*)=${quoted}`, "gs");
    let v: RegExpExecArray | null;
    let consumed = 0;
    while ((v = each.exec(m[1]))) {
        assert.strictEqual(v.index, consumed, "assignments must follow each other");
        consumed = v.index + v[0].length;
        vars.push([v[1], unquote(v[2])]);
    }
    assert.strictEqual(consumed, m[1].length);
    return { vars, script: unquote(m[2]) };
}

describe("hardening: hostile and malformed input", function () {
    before(async () => {
        c = await loadComponents();
    });

    afterEach(() => {
        assert.ok(!fs.existsSync(CANARY), "a hostile value was executed");
    });

    after(() => fs.rmSync(canaryDir, { recursive: true, force: true }));

    describe("refused at program time, before anything registers", () => {
        it("node names with shell metacharacters, quotes, newlines or capitals", async () => {
            for (const bad of [...HOSTILE, "W1", "w1.", "-w1", "w_1", "a".repeat(254), ""]) {
                const { error, registered } = await construct(rollArgs({ nodes: ["w1", bad] }));
                assert.ok(error, `accepted node name ${JSON.stringify(bad)}`);
                assert.match(
                    error!.message,
                    bad === ""
                        ? /a node name is required/
                        : /node name .* (is not a valid DNS-1123 subdomain \(lowercase letters, digits, '-' and '\.', starting and ending with a letter or digit\)|is longer than 253 characters)/,
                );
                if (bad && bad.length < 200)
                    assert.ok(error!.message.includes(JSON.stringify(bad)), `the message should quote the bad name: ${error!.message}`);
                assert.deepStrictEqual(custom(registered), []);
            }
            // The same, one node through NodeUpgrade directly: the constructor throws.
            assert.throws(
                () => new c.NodeUpgrade("n", { ...rollArgs(), nodeName: HOSTILE[0] }),
                /NodeUpgrade n: node name "\$\(touch .*\)" is not a valid DNS-1123 subdomain/,
            );
        });

        it("target versions that are not semantic versions", async () => {
            for (const bad of [...HOSTILE, "1.28", "latest", "v1.28.6\n", "v1.28.6 ", "vv1.28.6", "stable-1.28"]) {
                const { error, registered } = await construct(rollArgs({ targetVersion: bad }));
                assert.ok(error, `accepted version ${JSON.stringify(bad)}`);
                assert.match(
                    error!.message,
                    /RollingNodeUpgrade roll: target version .* is not a semantic version like v1\.29\.3 \(major\.minor\.patch\)/,
                );
                assert.deepStrictEqual(custom(registered), []);
            }
        });

        it("label selectors that do not parse", async () => {
            for (const bad of [
                `pool=$(touch ${CANARY})`,
                `pool=a;touch ${CANARY}`,
                "`id`",
                "pool in (a,b",
                "pool=a\npool=b",
                "=a",
                "pool in ()x",
            ]) {
                const { error, registered } = await construct(rollArgs({ nodes: undefined, selector: bad }));
                assert.ok(error, `accepted selector ${JSON.stringify(bad)}`);
                assert.match(error!.message, /selector .* is not a valid label selector: .*; use kubectl's syntax/s);
                assert.deepStrictEqual(custom(registered), []);
            }
            assert.ok(!(await construct(rollArgs({ nodes: undefined, selector: "pool=a" }))).error);
        });

        it("nodes the cluster does not have", async () => {
            const { error, registered } = await construct(rollArgs({ nodes: ["w1", "ghost", "w9"] }));
            assert.match(
                error!.message,
                /RollingNodeUpgrade roll: nodes "ghost", "w9" not found in the cluster \(`kubectl get nodes` lists its nodes\)/,
            );
            assert.deepStrictEqual(custom(registered), []);
        });

        it("zero, negative or fractional batch sizes and limits", async () => {
            for (const [k, v, msg] of [
                ["maxUnavailable", 0, /maxUnavailable must be a whole number of at least 1, got 0/],
                ["maxUnavailable", -2, /maxUnavailable must be a whole number of at least 1, got -2/],
                ["maxUnavailable", 1.5, /maxUnavailable must be a whole number of at least 1, got 1.5/],
                ["maxUnavailable", NaN, /maxUnavailable must be a whole number of at least 1, got null/],
                ["maxNodesDownAtOnce", 0, /maxNodesDownAtOnce must be a whole number of at least 1, got 0/],
                ["maxNodesDownPercent", 0, /maxNodesDownPercent must be a percentage above 0 and at most 100, got 0/],
                ["maxNodesDownPercent", 150, /maxNodesDownPercent must be a percentage above 0 and at most 100, got 150/],
            ] as [string, number, RegExp][]) {
                const { error, registered } = await construct(rollArgs({ [k]: v }));
                assert.match(error?.message ?? "(accepted)", msg);
                assert.deepStrictEqual(custom(registered), []);
            }
        });

        it("durations that do not parse or are negative", async () => {
            for (const [k, v, msg] of [
                [
                    "readyTimeout",
                    "10 minutes",
                    /readyTimeout: invalid duration "10 minutes": missing unit; expected a Go duration such as 30s, 5m, 1h2m or 0/,
                ],
                ["readyTimeout", "-5s", /readyTimeout must not be negative, got "-5s"/],
                ["soak", "soon", /soak: invalid duration "soon"/],
                ["notReadyTimeout", "1 hour", /notReadyTimeout: invalid duration "1 hour"/],
                ["readyPollInterval", "0s", /readyPollInterval must be above zero/],
                ["drain", { timeout: "5m30" }, /drain\.timeout: invalid duration "5m30": missing unit/],
                ["drain", { timeout: `$(touch ${CANARY})` }, /drain\.timeout: invalid duration/],
            ] as [string, unknown, RegExp][]) {
                const { error, registered } = await construct(rollArgs({ [k]: v }));
                assert.match(error?.message ?? "(accepted)", msg);
                assert.deepStrictEqual(custom(registered), []);
            }
        });

        it("environment variables with bad names, reserved names or NUL bytes, and empty or NUL commands", async () => {
            for (const [over, msg] of [
                [
                    { environment: { "A B": "1" } },
                    /"A B" is not a valid environment variable name \(letters, digits and _, not starting with a digit\)/,
                ],
                [{ environment: { [`X;touch ${CANARY}`]: "1" } }, /is not a valid environment variable name/],
                [{ environment: { "1X": "1" } }, /"1X" is not a valid environment variable name/],
                [{ environment: { NODE_NAME: "x" } }, /environment variable NODE_NAME is set by node-upgrade and cannot be overridden/],
                [{ environment: { X: "a\0b" } }, /environment variable X contains a NUL byte, which no command can receive/],
                [{ upgradeCommand: "" }, /upgradeCommand must not be empty/],
                [{ upgradeCommand: "echo a\0b" }, /upgradeCommand contains a NUL byte/],
                [{ revision: "r\0" }, /revision contains a NUL byte/],
            ] as [Record<string, unknown>, RegExp][]) {
                const { error, registered } = await construct(rollArgs(over));
                assert.match(error?.message ?? "(accepted)", msg, JSON.stringify(over));
                assert.deepStrictEqual(custom(registered), []);
            }
        });

        it("a malformed kubeconfig: refused with what is wrong, never with its content", async () => {
            const secret = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
            for (const bad of [
                `not: [valid yaml\nusers:\n- user: {token: ${secret}}`,
                `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: ${secret}}\n`,
                "just text",
            ]) {
                const { error, registered } = await construct(rollArgs({ kubeconfig: pulumi.secret(bad), clusterReader: undefined }));
                assert.ok(error, "accepted");
                assert.match(error!.message, /RollingNodeUpgrade roll: cannot read the cluster's nodes: .*kubeconfig/i);
                assert.ok(!error!.message.includes(secret) && !error!.message.includes("valid yaml"), error!.message);
                assert.deepStrictEqual(custom(registered), []);
            }
        });

        it("through the stack configuration (the root program) as well", async () => {
            await pulumi.runtime.setMocks(mocks().m, "node-upgrade", "test");
            const base = { kubeconfig: KUBECONFIG, targetVersion: "v1.28.6", upgradeCommand: "true" };
            for (const [values, msg] of [
                [{ nodes: [`$(touch ${CANARY})`] }, /node name .* is not a valid DNS-1123 subdomain/],
                [{ nodes: ["w1"], maxUnavailable: 0 }, /maxUnavailable must be a whole number of at least 1, got 0/],
                [
                    { nodes: ["w1"], upgradeEnvironment: ["=x"] },
                    /config "upgradeEnvironment": each entry must look like name=value, got "=x"/,
                ],
                [{ nodes: ["w1"], drainTimeout: "ten" }, /drain\.timeout: invalid duration "ten"/],
            ] as [Record<string, unknown>, RegExp][]) {
                pulumi.runtime.setAllConfig(
                    Object.fromEntries(Object.entries(stackConfig({ ...base, ...values })).map(([k, v]) => [`node-upgrade:${k}`, v])),
                );
                let error: Error | undefined;
                try {
                    await c.rollFromConfig(undefined, { clusterReader: cluster() }).roll.upgrades;
                } catch (e: any) {
                    error = e;
                }
                assert.match(error?.message ?? "(accepted)", msg, JSON.stringify(values));
            }
        });
    });

    describe("refused by the providers' check (values only known when the engine runs)", () => {
        let host: DynamicProviderHost;
        const texts: Record<string, string> = {};
        before(async () => {
            host = await DynamicProviderHost.start();
            texts.NodeCordon = await serializeProvider(c.nodeCordonProvider);
            texts.NodeDrain = await serializeProvider(c.nodeDrainProvider);
            texts.NodeReady = await serializeProvider(c.nodeReadyProvider);
        });
        after(async () => host?.stop());

        const urn = (t: string) => `urn:pulumi:test::node-upgrade::pulumi-nodejs:dynamic/node-upgrade:${t}::x`;
        const check = (t: string, news: Record<string, unknown>) =>
            host.check(
                urn(t),
                {},
                { nodeName: "w1", targetVersion: "v1.28.6", kubeconfig: "apiVersion: v1\nkind: Config\n", ...news, __provider: texts[t] },
            );

        it("hostile node names and versions", async () => {
            for (const bad of HOSTILE) {
                const r = await check("NodeCordon", { nodeName: bad, targetVersion: bad });
                const props = r.failures.map((f) => f.property).sort();
                assert.deepStrictEqual(props, ["nodeName", "targetVersion"], JSON.stringify(r.failures));
                assert.match(
                    r.failures.find((f) => f.property === "nodeName")!.reason,
                    /NodeCordon: node name .* is not a valid DNS-1123 subdomain/,
                );
            }
        });

        it("bad durations, intervals, counts and pod selectors", async () => {
            const cases: [string, Record<string, unknown>, string, RegExp][] = [
                [
                    "NodeDrain",
                    { timeout: "10 minutes" },
                    "timeout",
                    /NodeDrain: timeout: invalid duration "10 minutes": missing unit; expected a Go duration such as 30s, 5m, 1h2m or 0/,
                ],
                ["NodeDrain", { timeout: -1 }, "timeout", /timeout must not be negative/],
                [
                    "NodeDrain",
                    { gracePeriodSeconds: -5 },
                    "gracePeriodSeconds",
                    /gracePeriodSeconds must be a whole number of seconds \(-1 = each pod's own grace period\), got -5/,
                ],
                ["NodeDrain", { podSelector: `app=$(touch ${CANARY})` }, "podSelector", /podSelector .* is not a valid label selector/],
                ["NodeDrain", { force: "yes" }, "force", /force must be true or false/],
                ["NodeReady", { pollInterval: "0s" }, "pollInterval", /pollInterval must be above zero/],
                ["NodeReady", { soak: "a while" }, "soak", /soak: invalid duration "a while"/],
                ["NodeReady", { timeout: "1 hour" }, "timeout", /timeout: invalid duration "1 hour"/],
            ];
            for (const [t, news, prop, msg] of cases) {
                const r = await check(t, news);
                const f = r.failures.find((x) => x.property === prop);
                assert.ok(f, `${t} ${JSON.stringify(news)}: no failure on ${prop}: ${JSON.stringify(r.failures)}`);
                assert.match(f!.reason, msg);
            }
        });

        it("a malformed kubeconfig: a failure about the kubeconfig that never contains it, on no property (the engine prints a property's value)", async () => {
            const secret = "tok-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
            for (const bad of [
                `not: [valid\ntoken: ${secret}`,
                `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: ${secret}}\n`,
            ]) {
                const r = await check("NodeCordon", { kubeconfig: bad });
                assert.ok(!r.failures.some((x) => x.property === "kubeconfig"), JSON.stringify(r.failures));
                const f = r.failures.find((x) => x.property === "" && /kubeconfig/.test(x.reason));
                assert.ok(f, JSON.stringify(r.failures));
                assert.ok(!f!.reason.includes(secret), f!.reason);
                assert.match(f!.reason, /kubeconfig/i);
            }
        });
    });

    describe("nothing user-supplied is pasted into a shell string", () => {
        const rng = new Prng(20240611);
        const ALPHABET = [
            "'",
            '"',
            "`",
            "$",
            "(",
            ")",
            "{",
            "}",
            ";",
            "&",
            "|",
            "<",
            ">",
            "\\",
            "\n",
            "\r",
            "\t",
            " ",
            "!",
            "*",
            "?",
            "#",
            "~",
            "=",
            "%",
            "a",
            "Z",
            "0",
            "-",
            "ü",
            "日",
        ];
        const randomHostile = () => {
            if (rng.next() < 0.3) return HOSTILE[Math.floor(rng.next() * HOSTILE.length)];
            let s = "";
            const n = Math.floor(rng.next() * 24);
            for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rng.next() * ALPHABET.length)];
            return s;
        };

        /** The remote command's `create` text the component generates for these inputs (under mocks). */
        async function createText(over: Record<string, unknown>): Promise<string> {
            const { error, registered } = await construct(rollArgs(over));
            assert.ifError(error);
            const cmd = registered.find((r) => r.type === "command:remote:Command");
            assert.ok(cmd, "no command registered");
            return cmd!.inputs.create;
        }

        it("property: over 200 seeded random hostile environment values and revisions, the command is only `env NAME='…'… sh -c '…'`, each value intact", async () => {
            for (let i = 0; i < 200; i++) {
                const environment = { HOSTILE: randomHostile(), SECOND: randomHostile() };
                const revision = randomHostile() || "r";
                const create = await createText({ environment, revision });
                const { vars, script } = parseEnvCommand(create);
                const env = Object.fromEntries(vars);
                assert.deepStrictEqual(Object.keys(env).sort(), [
                    "HOSTILE",
                    "NODE_NAME",
                    "NODE_UPGRADE_REVISION",
                    "SECOND",
                    "TARGET_SEMVER",
                    "TARGET_VERSION",
                ]);
                assert.strictEqual(env.HOSTILE, environment.HOSTILE);
                assert.strictEqual(env.SECOND, environment.SECOND);
                assert.strictEqual(env.NODE_UPGRADE_REVISION, revision);
                assert.strictEqual(env.NODE_NAME, "w1");
                assert.strictEqual(script, rollArgs().upgradeCommand);
            }
        });

        it("run with a real sh, hostile values arrive verbatim in the environment and run nothing", async () => {
            const dump = path.join(canaryDir, "dump");
            for (const value of [...HOSTILE, ...Array.from({ length: 40 }, randomHostile)]) {
                if (value.includes("\0")) continue;
                const create = await createText({
                    environment: { HOSTILE: value, DUMP: dump },
                    revision: value || "r",
                    upgradeCommand: 'printf %s "$HOSTILE" > "$DUMP"; printf %s "$NODE_UPGRADE_REVISION" > "$DUMP.rev"',
                });
                const r = spawnSync("sh", ["-c", create], { encoding: "utf8", cwd: canaryDir });
                assert.strictEqual(r.status, 0, r.stderr);
                assert.strictEqual(fs.readFileSync(dump, "utf8"), value, JSON.stringify(value));
                assert.strictEqual(fs.readFileSync(`${dump}.rev`, "utf8"), value || "r");
                assert.ok(!fs.existsSync(CANARY), `running the command for ${JSON.stringify(value)} executed it`);
            }
        });

        it("the upgrade command itself reaches `sh -c` as one verbatim argument, whatever it contains", async () => {
            // A fake `sh` first in PATH records the script it is given; the outer shell must not have run any of it.
            const bin = path.join(canaryDir, "bin");
            fs.mkdirSync(bin, { recursive: true });
            fs.writeFileSync(path.join(bin, "sh"), `#!/bin/sh\nprintf '%s' "$2" > "${path.join(canaryDir, "script")}"\n`, { mode: 0o755 });
            for (let i = 0; i < 40; i++) {
                const script = i < HOSTILE.length ? `echo start ${HOSTILE[i]} end` : `echo ${randomHostile()}${randomHostile()}`;
                const create = await createText({ upgradeCommand: script, environment: { HOSTILE: randomHostile() } });
                assert.strictEqual(parseEnvCommand(create).script, script);
                const r = spawnSync("/bin/sh", ["-c", create], {
                    encoding: "utf8",
                    cwd: canaryDir,
                    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
                });
                assert.strictEqual(r.status, 0, r.stderr);
                assert.strictEqual(fs.readFileSync(path.join(canaryDir, "script"), "utf8"), script);
                assert.ok(!fs.existsSync(CANARY));
            }
        });
    });
});
