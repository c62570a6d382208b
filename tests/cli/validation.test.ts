// Issue 11: the CLI checks target versions with kube-rules' rule before any request, and `wait` on a node the
// cluster does not have fails at once instead of waiting out its timeout. Processes against the simulator.
import assert from "node:assert/strict";
import type { SimCluster } from "../../sim";
import { nodeUpgrade, startSim } from "../drain/fixtures";

type Sim = SimCluster & { kubeconfigPath: string };

/** "GET /api/v1/nodes/ghost 404" for every request the simulator answered since the last clear. */
function requests(c: Sim): string[] {
    return c.requestLog().map((e) => `${e.method} ${e.path} ${e.status}`);
}

describe("cli: argument validation (issue 11)", function () {
    this.timeout(120_000);
    let c: Sim;
    before(async () => {
        c = await startSim("seed", { timeScale: 10 });
    });
    after(async () => {
        await c?.stop();
    });
    beforeEach(() => c.clearRequestLog());

    for (const [command, flag] of [
        [["plan", "--all"], "--target-version"],
        [["wait", "worker1", "--timeout", "5s"], "--version"],
    ] as const) {
        describe(`${command[0]} ${flag}`, () => {
            it("rejects v1.2O.0 (letter O) before any request, suggesting the zero", async () => {
                const r = await nodeUpgrade(c.kubeconfigPath, [...command, flag, "v1.2O.0"]);
                assert.equal(r.code, 1, r.stderr);
                assert.deepEqual(requests(c), []);
                assert.match(
                    r.stderr,
                    /^error: .*target version "v1\.2O\.0" is not a semantic version like v1\.29\.3 \(major\.minor\.patch\)/m,
                );
                assert.match(r.stderr, new RegExp(`did you mean ${flag} v1\\.20\\.0\\?`));
                assert.equal(r.stdout, "");
            });
            it("rejects banana before any request, showing the expected form", async () => {
                const r = await nodeUpgrade(c.kubeconfigPath, [...command, flag, "banana"]);
                assert.equal(r.code, 1, r.stderr);
                assert.deepEqual(requests(c), []);
                assert.match(r.stderr, /^error: .*target version "banana" is not a semantic version like v1\.29\.3/m);
                assert.match(r.stderr, new RegExp(`e\\.g\\. ${flag} v1\\.29\\.3`));
                assert.equal(r.stdout, "");
            });
        });
    }

    it("wait on a node the cluster does not have: one GET, exit 1, the node named", async () => {
        // On the old code this waited out the 20s timeout, watching and polling the node.
        const r = await nodeUpgrade(c.kubeconfigPath, ["wait", "ghost", "--timeout", "20s"]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, 'error: node "ghost" not found\n');
        assert.deepEqual(requests(c), ["GET /api/v1/nodes/ghost 404"]);
    });

    it("wait on a real node and a missing one fails before waiting for either", async () => {
        // worker1 is at v1.19.0: waiting for v1.20.0 would last until the timeout.
        const r = await nodeUpgrade(c.kubeconfigPath, ["wait", "worker1", "ghost", "--version", "v1.20.0", "--timeout", "20s"]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, 'error: node "ghost" not found\n');
        assert.deepEqual(requests(c), ["GET /api/v1/nodes/worker1 200", "GET /api/v1/nodes/ghost 404"]);
    });

    it("drain and cordon on a missing node fail the same way (one GET, nothing changed)", async () => {
        for (const verb of ["drain", "cordon"]) {
            c.clearRequestLog();
            const r = await nodeUpgrade(c.kubeconfigPath, [verb, "ghost"]);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stderr, 'error: node "ghost" not found\n');
            assert.deepEqual(requests(c), ["GET /api/v1/nodes/ghost 404"]);
        }
    });

    it("valid versions still work: plan --target-version v1.20.0 / 1.20.0, wait --version v1.19.0", async () => {
        for (const v of ["v1.20.0", "1.20.0"]) {
            const r = await nodeUpgrade(c.kubeconfigPath, [
                "plan",
                "--all",
                "--target-version",
                v,
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--json",
            ]);
            assert.notEqual(r.code, 1, r.stderr); // 0 or 2 (the roll would stop): a plan, not an error
            assert.equal(JSON.parse(r.stdout).targetVersion, "v1.20.0");
        }
        const r = await nodeUpgrade(c.kubeconfigPath, ["wait", "worker1", "--version", "v1.19.0", "--timeout", "20s"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "node/worker1 Ready at v1.19.0\n");
    });

    it("other errors on wait's first GET keep the old behaviour: the wait goes on", async () => {
        // A 500, and a 404 that names no node (as a proxy sends), are not "the node does not exist".
        for (const status of [500, 404]) {
            c.faults.clear();
            c.faults.add({ verb: "get", resource: "nodes", name: "worker1", status, count: 1 });
            c.clearRequestLog();
            const r = await nodeUpgrade(c.kubeconfigPath, ["wait", "worker1", "--timeout", "20s"]);
            assert.equal(r.code, 0, `${status}: ${r.stderr}`);
            assert.equal(r.stdout, "node/worker1 Ready at v1.19.0\n");
            assert.equal(requests(c)[0], `GET /api/v1/nodes/worker1 ${status}`);
        }
        c.faults.clear();
    });
});
