// Issue 13, item 1: kubectl's typed clients send protobuf bodies (`kubectl create namespace|deployment|
// poddisruptionbudget`); the simulated server decodes them as kube-apiserver does, and `kubectl get` shows
// what a real cluster would have made of them.

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { baseCluster, list } from "./fixtures";

describe("sim: kubectl create with protobuf bodies (issue 13.1)", function () {
    let c: SimCluster;

    before(async function () {
        requireKubectl(this);
        c = await startCluster({ scenario: list(baseCluster()), timeScale: 50 });
    });
    after(async () => {
        await c?.stop();
    });

    const getJson = async (args: string[]) => {
        const r = await kubectl(c, ["get", ...args, "-o", "json"]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
    };

    it("kubectl create namespace sends protobuf and the namespace is Active", async () => {
        const r = await kubectl(c, ["create", "namespace", "team-a", "-v=8"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/, "kubectl sent protobuf");
        assert.match(r.stdout, /^namespace\/team-a created$/m);
        const ns = await getJson(["namespace", "team-a"]);
        assert.equal(ns.status.phase, "Active");
        assert.deepEqual(ns.spec.finalizers, ["kubernetes"]);
        assert.equal(ns.metadata.labels["kubernetes.io/metadata.name"], "team-a");
    });

    it("kubectl create deployment: replicas, selector, template and port arrive; pods run", async () => {
        const r = await kubectl(c, ["create", "deployment", "web", "--image=nginx", "--replicas=3", "--port=8080", "-n", "team-a"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^deployment\.apps\/web created$/m);
        const d = await getJson(["deployment", "web", "-n", "team-a"]);
        assert.equal(d.spec.replicas, 3);
        assert.deepEqual(d.spec.selector, { matchLabels: { app: "web" } });
        assert.deepEqual(d.spec.template.metadata.labels, { app: "web" });
        const ctr = d.spec.template.spec.containers[0];
        assert.equal(ctr.name, "nginx");
        assert.equal(ctr.image, "nginx");
        assert.deepEqual(ctr.ports, [{ containerPort: 8080, protocol: "TCP" }]);
        // server defaulting as for a JSON body: the empty strategy kubectl's protobuf carries becomes RollingUpdate 25%/25%
        assert.deepEqual(d.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
        assert.equal(d.spec.template.spec.terminationGracePeriodSeconds, 30);
        await whenStore(c, () => c.list("pods", "team-a").filter((p) => p.status?.phase === "Running").length === 3);
        const pods = await getJson(["pods", "-n", "team-a", "-l", "app=web"]);
        assert.equal(pods.items.length, 3);
    });

    it("kubectl create poddisruptionbudget: selector and minAvailable arrive; status follows the pods", async () => {
        const r = await kubectl(c, ["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1", "-n", "team-a"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^poddisruptionbudget\.policy\/web created$/m);
        const pdb = await getJson(["pdb", "web", "-n", "team-a"]);
        assert.deepEqual(pdb.spec, { minAvailable: 1, selector: { matchLabels: { app: "web" } } });
        await whenStore(c, () => c.get("poddisruptionbudgets", "team-a", "web")?.status?.disruptionsAllowed === 2);
        const t = await kubectl(c, ["get", "pdb", "web", "-n", "team-a"]);
        assert.match(t.stdout, /^web\s+1\s+N\/A\s+2\s+/m);
    });

    it("kubectl create with --max-unavailable as a percentage sends an IntOrString string", async () => {
        const r = await kubectl(c, ["create", "pdb", "half", "--selector=app=web", "--max-unavailable=50%", "-n", "team-a"]);
        assert.equal(r.code, 0, r.stderr);
        const pdb = await getJson(["pdb", "half", "-n", "team-a"]);
        assert.deepEqual(pdb.spec, { maxUnavailable: "50%", selector: { matchLabels: { app: "web" } } });
    });
});
