// Every provider goes through the SDK's own serialization and the REAL dynamic-provider host process, as in
// `pulumi up`: an unserializable provider, or one the host cannot load, fails here instead of hanging.
// (Full create/update/read against a cluster is in providers.test.ts and lifecycle.test.ts.)
import * as assert from "assert";

const requireFromString: (code: string) => any = require("require-from-string");
import { DynamicProviderHost, serializeProvider, UNKNOWN, REPO_ROOT } from "../../local-engine";
import { nodeCordonProvider } from "../../components/node-cordon";
import { nodeDrainProvider } from "../../components/node-drain";
import { nodeReadyProvider } from "../../components/node-ready";
import { nodeUncordonProvider } from "../../components/node-uncordon";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeInstalledProgram, requireInstalled } from "../../local-engine/installed-package";

const PROVIDERS = {
    NodeCordon: nodeCordonProvider,
    NodeDrain: nodeDrainProvider,
    NodeReady: nodeReadyProvider,
    NodeUncordon: nodeUncordonProvider,
};

/** Reported by the test run (see the report of this work): the bytes each resource stores twice in state. */
export const serializedSizes: Record<string, number> = {};

const urn = (type: string, name: string) => `urn:pulumi:test::node-upgrade::pulumi-nodejs:dynamic/node-upgrade:${type}::${name}`;

const BAD_KUBECONFIG = "apiVersion: v1\nclusters: [ {{ not yaml\ntoken: SECRET-TOKEN-0123456789abcdef\n";
const base = { nodeName: "worker1", targetVersion: "v1.20.0", commandHash: "abc123", revision: "" };

describe("components: providers through serialization and the real dynamic-provider host", function () {
    let host: DynamicProviderHost;
    const texts: Record<string, string> = {};

    before(async () => {
        for (const [type, provider] of Object.entries(PROVIDERS)) texts[type] = await serializeProvider(provider);
        host = await DynamicProviderHost.start();
    });

    after(async () => {
        await host?.stop();
        console.log(
            `      serialized provider sizes (bytes): ${Object.entries(serializedSizes)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ")}`,
        );
    });

    for (const type of Object.keys(PROVIDERS) as (keyof typeof PROVIDERS)[]) {
        describe(type, () => {
            it("serializes without any path of this machine, capturing only its step name", async () => {
                const text = texts[type];
                serializedSizes[type] = text.length;
                // From a checkout the provider is stored by value (a user who installs the package stores ~300 bytes: below).
                assert.ok(text.length < 4000, `${type} provider text is ${text.length} bytes`);
                assert.ok(text.includes(`"${type}"`), "the step name is captured");
                // State written here must work from another checkout or machine, and must not hold the user's home.
                for (const local of [REPO_ROOT, os.homedir(), os.tmpdir()])
                    assert.ok(!text.includes(local), `${type} provider text contains ${local}`);
                // No local module was copied in by value, and no client object.
                for (const leaked of ["checkCommon", "KubeConfig", "loadKubeConfig", "__awaiter", 'require("@kubernetes']) {
                    assert.ok(!text.includes(leaked), `${type} provider text contains ${leaked}`);
                }
                // Loads outside the SDK as well (what the host does).
                const provider = requireFromString(text).handler();
                const checked = await provider.check({}, { ...base, nodeName: "Bad_Name", kubeconfig: "x" });
                assert.ok(checked.failures.some((f: any) => f.property === "nodeName"));
            });

            it("check rejects bad input with clear failures, skipping unknown values", async () => {
                const news = { ...base, nodeName: "Worker_1", targetVersion: "1.20", kubeconfigPath: "", __provider: texts[type] };
                const r = await host.check(urn(type, "x"), {}, news);
                const byProp = Object.fromEntries(r.failures.map((f) => [f.property, f.reason]));
                assert.match(byProp.nodeName, new RegExp(`^${type}: node name "Worker_1" is not a valid DNS-1123 subdomain`));
                assert.match(byProp.targetVersion, /target version "1.20" is not a semantic version/);
                // A failure about the kubeconfig names no property: the engine would print the property's value.
                assert.match(byProp[""], new RegExp(`^${type}: kubeconfig: a kubeconfig is required`));
                assert.ok(!("kubeconfig" in byProp));

                const unknowns = await host.check(
                    urn(type, "x"),
                    {},
                    { nodeName: UNKNOWN, targetVersion: UNKNOWN, kubeconfig: UNKNOWN, __provider: texts[type] },
                );
                assert.deepStrictEqual(unknowns.failures, []);

                const badConfig = await host.check(urn(type, "x"), {}, { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] });
                assert.strictEqual(badConfig.failures.length, 1);
                assert.strictEqual(badConfig.failures[0].property, "");
                assert.match(badConfig.failures[0].reason, /kubeconfig: the kubeconfig text is not valid YAML/);
                assert.ok(!badConfig.failures[0].reason.includes("SECRET-TOKEN"));
                assert.strictEqual(badConfig.inputs.__provider, texts[type]);
            });

            it("diff: a trigger or a setting changes it, a provider edit never does; only a new node name replaces", async () => {
                const stored = { ...base, kubeconfig: "a", timeout: "5m" };
                const olds = { ...stored, inputKeys: Object.keys(stored).sort(), message: "done", __provider: texts[type] };
                const edit = host.diff(urn(type, "x"), "worker1", olds, { ...stored, __provider: texts[type] + "\n// edited" });
                if (type === "NodeCordon") {
                    // With the same inputs the cordon asks the node whether its chain finished (here: no cluster).
                    await assert.rejects(edit, /NodeCordon worker1: cannot tell whether the node finished its upgrade/);
                } else {
                    assert.deepStrictEqual(await edit, { changes: "none", replaces: [], deleteBeforeReplace: false });
                }
                for (const [field, value] of [
                    ["targetVersion", "v9.9.9"],
                    ["commandHash", "def"],
                    ["revision", "2"],
                    ["chainRunId", "r2"],
                    ["kubeconfig", "rotated"],
                    ["timeout", "9m"],
                ]) {
                    const d = await host.diff(urn(type, "x"), "worker1", olds, { ...stored, [field]: value, __provider: texts[type] });
                    assert.deepStrictEqual(d, { changes: "some", replaces: [], deleteBeforeReplace: false }, field);
                }
                const unknown = await host.diff(urn(type, "x"), "worker1", olds, {
                    ...stored,
                    targetVersion: UNKNOWN,
                    __provider: texts[type],
                });
                assert.strictEqual(unknown.changes, "some");
                const renamed = await host.diff(urn(type, "x"), "worker1", olds, {
                    ...stored,
                    nodeName: "worker2",
                    __provider: texts[type],
                });
                assert.deepStrictEqual(renamed, { changes: "some", replaces: ["nodeName"], deleteBeforeReplace: false });
                // Outputs written by an older version (no revision, no inputKeys) still compare equal.
                const { revision: _r, ...older } = { ...stored, message: "done", __provider: texts[type] };
                if (type !== "NodeCordon")
                    assert.strictEqual(
                        (await host.diff(urn(type, "x"), "worker1", older, { ...stored, __provider: texts[type] })).changes,
                        "none",
                    );
            });

            it("create fails with a message naming the step and node, without the kubeconfig", async () => {
                await assert.rejects(
                    host.create(urn(type, "x"), { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] }),
                    (err: Error) => {
                        assert.match(err.message, new RegExp(`^${type} worker1: the kubeconfig text is not valid YAML`));
                        assert.ok(!err.message.includes("SECRET-TOKEN"), err.message);
                        return true;
                    },
                );
            });

            it("delete runs no code at all: removing a step never touches the node", async () => {
                host.clearOutput();
                await host.delete(urn(type, "x"), "worker1", { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] });
                assert.deepStrictEqual(host.output(), []);
            });
        });
    }

    it("a program directory without the package fails with what to do, naming the directory", async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-package-"));
        const elsewhere = await DynamicProviderHost.start({ cwd: empty });
        try {
            await assert.rejects(elsewhere.check(urn("NodeCordon", "x"), {}, { ...base, __provider: texts.NodeCordon }), (err: Error) => {
                assert.match(err.message, /cannot find the pulumi-node-upgrade package from /);
                assert.ok(err.message.includes(empty), err.message);
                assert.match(err.message, /npm install/);
                return true;
            });
        } finally {
            await elsewhere.stop();
        }
    });

    it("installed from npm, each provider is stored as a require() by package name and loads from another directory", async () => {
        const laptop = makeInstalledProgram("laptop");
        const ci = makeInstalledProgram("ci");
        const installed = requireInstalled<typeof import("../../components")>(laptop, "components/index.js");
        const ciHost = await DynamicProviderHost.start({ cwd: ci });
        try {
            for (const [type, provider] of Object.entries({
                NodeCordon: installed.nodeCordonProvider,
                NodeDrain: installed.nodeDrainProvider,
                NodeReady: installed.nodeReadyProvider,
                NodeUncordon: installed.nodeUncordonProvider,
            })) {
                const text = await serializeProvider(provider);
                const file = { NodeCordon: "cordon", NodeDrain: "drain", NodeReady: "ready", NodeUncordon: "uncordon" }[type];
                assert.ok(text.includes(`require("pulumi-node-upgrade/dist/components/providers/${file}.js")`), text);
                assert.ok(text.length < 400, `${type}: ${text.length} bytes`);
                assert.ok(!text.includes(laptop) && !text.includes(REPO_ROOT), text);
                serializedSizes[`${type} (installed)`] = text.length;
                // The "CI" program directory resolves it by name to its own copy of the package.
                const r = await ciHost.check(urn(type, "x"), {}, { ...base, nodeName: "Bad_Name", kubeconfig: "x", __provider: text });
                assert.ok(
                    r.failures.some((f) => f.property === "nodeName"),
                    JSON.stringify(r.failures),
                );
            }
        } finally {
            await ciHost.stop();
        }
    });

    it("the same provider object serializes to the same text every time (state does not churn)", async () => {
        for (const [type, provider] of Object.entries(PROVIDERS)) assert.strictEqual(await serializeProvider(provider), texts[type]);
    });
});
