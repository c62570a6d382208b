// Every provider goes through the SDK's own serialization and the REAL dynamic-provider host process, as in
// `pulumi up`: an unserializable provider, or one the host cannot load, fails here instead of hanging.
// (Full create/update/read against a cluster is in providers.test.ts and lifecycle.test.ts.)
import * as assert from "assert";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const requireFromString: (code: string) => any = require("require-from-string");
import { DynamicProviderHost, serializeProvider, UNKNOWN } from "../../local-engine";
import { nodeCordonProvider } from "../../components/node-cordon";
import { nodeDrainProvider } from "../../components/node-drain";
import { nodeReadyProvider } from "../../components/node-ready";
import { nodeUncordonProvider } from "../../components/node-uncordon";
import { makeStepProvider, STEPS_MODULE } from "../../components/provider-proxy";

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
    this.timeout(60_000);
    let host: DynamicProviderHost;
    const texts: Record<string, string> = {};

    before(async () => {
        for (const [type, provider] of Object.entries(PROVIDERS)) texts[type] = await serializeProvider(provider);
        host = await DynamicProviderHost.start();
    });

    after(async () => {
        await host?.stop();
        console.log(`      serialized provider sizes (bytes): ${Object.entries(serializedSizes).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    });

    for (const type of Object.keys(PROVIDERS) as (keyof typeof PROVIDERS)[]) {
        describe(type, () => {
            it("serializes small, capturing only the compiled-module path and its step name", async () => {
                const text = texts[type];
                serializedSizes[type] = text.length;
                assert.ok(text.length < 3000, `${type} provider text is ${text.length} bytes`);
                assert.ok(text.includes(JSON.stringify(STEPS_MODULE)), "the compiled steps module path is captured");
                assert.ok(text.includes(`step: "${type}"`));
                // No local module was copied in by value, and no client object.
                for (const leaked of ["checkCommon", "KubeConfig", "loadKubeConfig", "__awaiter", "require(\"@kubernetes"]) {
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
                assert.match(byProp.kubeconfig, /a kubeconfig is required/);

                const unknowns = await host.check(urn(type, "x"), {}, { nodeName: UNKNOWN, targetVersion: UNKNOWN, kubeconfig: UNKNOWN, __provider: texts[type] });
                assert.deepStrictEqual(unknowns.failures, []);

                const badConfig = await host.check(urn(type, "x"), {}, { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] });
                assert.strictEqual(badConfig.failures.length, 1);
                assert.match(badConfig.failures[0].reason, /the kubeconfig text is not valid YAML/);
                assert.ok(!badConfig.failures[0].reason.includes("SECRET-TOKEN"));
                assert.strictEqual(badConfig.inputs.__provider, texts[type]);
            });

            it("diff says 'changes' exactly when a trigger changes (never for other inputs or provider edits)", async () => {
                const olds = { ...base, kubeconfig: "a", timeout: "5m", message: "done", __provider: texts[type] };
                const same = await host.diff(urn(type, "x"), "worker1", olds, { ...base, kubeconfig: "rotated", timeout: "9m", __provider: texts[type] + "\n// edited" });
                assert.deepStrictEqual(same, { changes: "none", replaces: [], deleteBeforeReplace: false });
                for (const field of ["targetVersion", "commandHash", "revision"]) {
                    const d = await host.diff(urn(type, "x"), "worker1", olds, { ...base, [field]: "v9.9.9", __provider: texts[type] });
                    assert.deepStrictEqual(d, { changes: "some", replaces: [], deleteBeforeReplace: false }, field);
                }
                const unknown = await host.diff(urn(type, "x"), "worker1", olds, { ...base, targetVersion: UNKNOWN, __provider: texts[type] });
                assert.strictEqual(unknown.changes, "some");
                const renamed = await host.diff(urn(type, "x"), "worker1", olds, { ...base, nodeName: "worker2", __provider: texts[type] });
                assert.deepStrictEqual(renamed, { changes: "some", replaces: ["nodeName"], deleteBeforeReplace: false });
                // Outputs written by an older version without a revision field still compare equal.
                const { revision: _r, ...older } = olds;
                assert.strictEqual((await host.diff(urn(type, "x"), "worker1", older, { ...base, __provider: texts[type] })).changes, "none");
            });

            it("create fails with a message naming the step and node, without the kubeconfig", async () => {
                await assert.rejects(host.create(urn(type, "x"), { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] }), (err: Error) => {
                    assert.match(err.message, new RegExp(`^${type} worker1: the kubeconfig text is not valid YAML`));
                    assert.ok(!err.message.includes("SECRET-TOKEN"), err.message);
                    return true;
                });
            });

            it("delete is a no-op that says so, even for state written by a moved package", async () => {
                host.clearOutput();
                await host.delete(urn(type, "x"), "worker1", { ...base, kubeconfig: BAD_KUBECONFIG, __provider: texts[type] });
                const moved = await serializeProvider(makeStepProvider("/nonexistent/dist/components/steps/index.js", type));
                await host.delete(urn(type, "y"), "worker1", { ...base, __provider: moved });
                await waitFor(() => host.output().filter((l) => l.includes(`[${type} worker1] delete does nothing`)).length === 2);
            });
        });
    }

    it("a provider whose compiled code is missing fails with 'run npm run build'", async () => {
        const text = await serializeProvider(makeStepProvider("/nonexistent/dist/components/steps/index.js", "NodeCordon"));
        await assert.rejects(host.check(urn("NodeCordon", "x"), {}, { ...base, __provider: text }), /steps\/index\.js does not exist; run `npm run build`/);
    });

    it("the same provider object serializes to the same text every time (state does not churn)", async () => {
        for (const [type, provider] of Object.entries(PROVIDERS)) assert.strictEqual(await serializeProvider(provider), texts[type]);
    });
});

async function waitFor(pred: () => boolean, ms = 5000) {
    const until = Date.now() + ms;
    while (!pred()) {
        if (Date.now() > until) throw new Error("condition not met in time");
        await new Promise((r) => setTimeout(r, 20));
    }
}
