// Issue 13, item 7: pod admission defaults (spec.serviceAccountName, spec.priority) and LIST resourceVersion
// semantics (resourceVersionMatch=Exact lists the state at that version; too old → 410; bad combinations → 422).

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { api, kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { addBarePod, addDeployment, baseCluster, list } from "./fixtures";

const pod = (name: string, spec: any = {}) => ({
    metadata: { name, labels: { app: "v" } },
    spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});

describe("sim: pod defaults and list resourceVersions (issue 13.7)", function () {
    let c: SimCluster;

    before(async () => {
        const f = baseCluster();
        addDeployment(f, "web", [{ name: "web-1", node: "w1" }]);
        addBarePod(f, "gone", "w2", { labels: { app: "v" } });
        addBarePod(f, "kept", "w3", { labels: { app: "v" } });
        c = await startCluster({ scenario: list(f), timeScale: 50 });
    });
    after(async () => {
        await c?.stop();
    });

    describe("pod defaults", () => {
        it("a new pod gets serviceAccountName/serviceAccount default, priority 0, preemptionPolicy", async () => {
            const r = await api(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("plain") });
            assert.equal(r.status, 201, r.text);
            const s = r.json.spec;
            assert.deepEqual(
                [s.serviceAccountName, s.serviceAccount, s.priority, s.preemptionPolicy],
                ["default", "default", 0, "PreemptLowerPriority"],
            );
        });

        it("priorityClassName system-node-critical / system-cluster-critical resolve to their priorities", async () => {
            for (const [cls, prio] of [
                ["system-node-critical", 2000001000],
                ["system-cluster-critical", 2000000000],
            ] as const) {
                const r = await api(c, "POST", "/api/v1/namespaces/default/pods", { body: pod(cls, { priorityClassName: cls }) });
                assert.equal(r.status, 201, r.text);
                assert.equal(r.json.spec.priority, prio);
            }
            const sa = await api(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("sa", { serviceAccountName: "builder" }) });
            assert.deepEqual([sa.json.spec.serviceAccountName, sa.json.spec.serviceAccount], ["builder", "builder"]);
        });

        it("kubectl run and controller-made pods are defaulted too", async function () {
            requireKubectl(this);
            assert.equal((await kubectl(c, ["run", "by-kubectl", "--image=nginx"])).code, 0);
            const got = await kubectl(c, ["get", "pod", "by-kubectl", "-o", "jsonpath={.spec.serviceAccountName} {.spec.priority}"]);
            assert.equal(got.stdout, "default 0");
            assert.equal((await kubectl(c, ["scale", "deployment", "web", "--replicas=2"])).code, 0);
            await whenStore(c, () => c.list("pods", "default").filter((p) => p.metadata.name.startsWith("web-")).length === 2);
            const made = c.list("pods", "default").find((p) => p.metadata.name.startsWith("web-") && p.metadata.name !== "web-1")!;
            assert.deepEqual([made.spec.serviceAccountName, made.spec.priority], ["default", 0]);
        });
    });

    describe("resourceVersion and resourceVersionMatch on a list", () => {
        const names = (r: any) => r.json.items.map((p: any) => p.metadata.name).sort();
        let rv0: string;

        it("resourceVersionMatch=Exact lists the pods as they were at that resourceVersion", async () => {
            const before = await api(c, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dv");
            rv0 = before.json.metadata.resourceVersion;
            const keptThen = before.json.items.find((p: any) => p.metadata.name === "kept");
            await api(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("late") });
            await api(c, "DELETE", "/api/v1/namespaces/default/pods/gone?gracePeriodSeconds=0");
            await api(c, "PATCH", "/api/v1/namespaces/default/pods/kept", {
                body: { metadata: { labels: { extra: "1" } } },
                contentType: "application/merge-patch+json",
            });
            const now = await api(c, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dv");
            assert.ok(names(now).includes("late") && !names(now).includes("gone"));
            const then = await api(
                c,
                "GET",
                `/api/v1/namespaces/default/pods?labelSelector=app%3Dv&resourceVersion=${rv0}&resourceVersionMatch=Exact`,
            );
            assert.equal(then.status, 200, then.text);
            assert.equal(then.json.metadata.resourceVersion, rv0);
            assert.deepEqual(names(then), names(before));
            const keptAt = then.json.items.find((p: any) => p.metadata.name === "kept");
            assert.deepEqual(keptAt, keptThen, "the object as it was, with its resourceVersion then");
        });

        it("paging an Exact list keeps to that resourceVersion", async () => {
            const seen: string[] = [];
            let cont = "";
            for (let i = 0; i < 10; i++) {
                const q = cont
                    ? `continue=${encodeURIComponent(cont)}`
                    : `resourceVersion=${rv0}&resourceVersionMatch=Exact&labelSelector=app%3Dv`;
                const r = await api(c, "GET", `/api/v1/namespaces/default/pods?limit=1&${q}${cont ? "&labelSelector=app%3Dv" : ""}`);
                assert.equal(r.status, 200, r.text);
                assert.equal(r.json.metadata.resourceVersion, rv0);
                seen.push(...names(r));
                cont = r.json.metadata.continue ?? "";
                if (!cont) break;
            }
            assert.ok(seen.includes("gone") && !seen.includes("late"), seen.join());
        });

        it("NotOlderThan (or no match) with an old resourceVersion lists the current state", async () => {
            for (const q of [`resourceVersion=${rv0}&resourceVersionMatch=NotOlderThan`, `resourceVersion=${rv0}`, "resourceVersion=0"]) {
                const r = await api(c, "GET", `/api/v1/namespaces/default/pods?labelSelector=app%3Dv&${q}`);
                assert.equal(r.status, 200, r.text);
                assert.ok(names(r).includes("late") && !names(r).includes("gone"), q);
            }
        });

        it("a resourceVersion from the future → 504 Too large resource version", async () => {
            const cur = Number((await api(c, "GET", "/api/v1/nodes")).json.metadata.resourceVersion);
            const r = await api(c, "GET", `/api/v1/nodes?resourceVersion=${cur + 1000}&resourceVersionMatch=Exact`);
            assert.equal(r.status, 504, r.text);
            assert.equal(r.json.reason, "Timeout");
            assert.match(r.json.message, new RegExp(`^Timeout: Too large resource version: ${cur + 1000}, current: \\d+$`));
            assert.deepEqual(r.json.details.causes, [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }]);
        });

        it("resourceVersionMatch without resourceVersion, or with 0, or unknown → 422 Invalid ListOptions", async () => {
            const cases: [string, string][] = [
                [
                    "resourceVersionMatch=Exact",
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ],
                [
                    "resourceVersionMatch=NotOlderThan",
                    "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ],
                [
                    "resourceVersionMatch=Exact&resourceVersion=0",
                    'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                ],
                [
                    "resourceVersionMatch=Latest&resourceVersion=5",
                    'resourceVersionMatch: Unsupported value: "Latest": supported values: "Exact", "NotOlderThan", ""',
                ],
                ["sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"],
            ];
            for (const [q, msg] of cases) {
                const r = await api(c, "GET", `/api/v1/namespaces/default/pods?${q}`);
                assert.equal(r.status, 422, `${q}: ${r.text}`);
                assert.equal(r.json.reason, "Invalid");
                assert.equal(r.json.message, `ListOptions.meta.k8s.io "" is invalid: ${msg}`);
                assert.deepEqual([r.json.details.group, r.json.details.kind], ["meta.k8s.io", "ListOptions"]);
            }
        });

        it("an Exact resourceVersion older than the watch history → 410 Expired", async () => {
            c.compactWatchHistory();
            const r = await api(c, "GET", `/api/v1/namespaces/default/pods?resourceVersion=${rv0}&resourceVersionMatch=Exact`);
            assert.equal(r.status, 410, r.text);
            assert.equal(r.json.reason, "Expired");
            assert.equal(r.json.message, "The resourceVersion for the provided list is too old.");
            assert.ok(c.requestLog().some((e) => e.expired && e.status === 410 && /resourceVersionMatch=Exact/.test(e.query)));
        });
    });
});
