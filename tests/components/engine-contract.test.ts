// The Pulumi layer calls the drain engine through the DrainEngine contract (components/engine-contract.ts).
// This file does not compile if the real engine stops satisfying it.
import * as assert from "assert";
import * as engine from "../../drain";
import type { DrainEngine } from "../../components/engine-contract";
import { loadCompiled } from "../../components/package-root";

const typed: DrainEngine = engine;

describe("components: drain engine contract", () => {
    it("the compiled engine the providers load provides every function they call", () => {
        const compiled = loadCompiled<DrainEngine>("drain/index.js");
        for (const name of [
            "loadKubeConfig",
            "cordon",
            "uncordon",
            "drain",
            "waitForNode",
            "readNode",
            "listNodes",
            "formatProgress",
            "kubeletVersionMatches",
        ] as const) {
            assert.strictEqual(typeof compiled[name], "function", name);
            assert.strictEqual(typeof typed[name], "function", name);
        }
        assert.strictEqual(compiled.CORDONED_BY_ANNOTATION, "node-upgrade.pulumi.com/cordoned-by");
    });

    it("matches kubelet versions the way the steps need", () => {
        assert.ok(engine.kubeletVersionMatches("v1.20.0", "1.20.0"));
        assert.ok(engine.kubeletVersionMatches("v1.28.3+k3s1", "v1.28.3"));
        assert.ok(engine.kubeletVersionMatches("v1.27.4-eks-2d98532", "1.27.4"));
        assert.ok(!engine.kubeletVersionMatches("v1.20.1", "1.20.0"));
    });
});
