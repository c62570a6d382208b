// REST semantics of the simulated API server: auth, discovery, tables, lists
// and paging, selectors, watch (incl. 410 Gone), patches, dry-run, deletes.

import assert from "node:assert/strict";
import { startCluster, SimCluster } from "../../sim";
import { api, watchEvents } from "../helpers/sim-kubectl";
import { whenStore } from "../helpers/sim-events";
import { addBarePod, addDeployment, baseCluster, list } from "./fixtures";

describe("sim: API server", function () {
    let c: SimCluster;

    before(async () => {
        const f = baseCluster();
        addDeployment(f, "web", [
            { name: "web-1", node: "w1" },
            { name: "web-2", node: "w2" },
            { name: "web-3", node: "w3" },
        ]);
        for (let i = 0; i < 7; i++)
            addBarePod(f, `bare-${i}`, i % 2 ? "w1" : "w2", { labels: { tier: i % 2 ? "back" : "front", idx: String(i) } });
        c = await startCluster({ scenario: list(f), timeScale: 50 });
    });
    after(async () => {
        await c?.stop();
    });

    describe("auth and discovery", () => {
        it("401 Status without or with a wrong token", async () => {
            const expected = JSON.stringify({
                kind: "Status",
                apiVersion: "v1",
                metadata: {},
                status: "Failure",
                message: "Unauthorized",
                reason: "Unauthorized",
                code: 401,
            });
            for (const token of [null, "wrong"]) {
                const r = await api(c, "GET", "/api/v1/nodes", { token });
                assert.equal(r.status, 401);
                assert.equal(r.headers["content-type"], "application/json");
                assert.equal(r.text, expected);
            }
            assert.equal((await api(c, "GET", "/version", { token: null })).status, 200);
        });

        it("serves /api/v1 with the exact pods/eviction entry", async () => {
            const r = await api(c, "GET", "/api/v1");
            const e = r.json.resources.find((x: any) => x.name === "pods/eviction");
            assert.deepEqual(e, {
                name: "pods/eviction",
                singularName: "",
                namespaced: true,
                group: "policy",
                version: "v1",
                kind: "Eviction",
                verbs: ["create"],
            });
            const apis = await api(c, "GET", "/apis");
            assert.deepEqual(
                apis.json.groups.map((g: any) => g.name),
                ["apps", "policy", "coordination.k8s.io", "rbac.authorization.k8s.io", "authorization.k8s.io", "authentication.k8s.io"],
            );
            for (const gv of ["apps/v1", "policy/v1", "coordination.k8s.io/v1"])
                assert.equal((await api(c, "GET", `/apis/${gv}`)).status, 200);
            assert.equal((await api(c, "GET", "/apis/batch/v1")).status, 404);
        });

        it("unknown paths and objects give NotFound Status bodies", async () => {
            let r = await api(c, "GET", "/api/v1/namespaces/default/pods/nope");
            assert.equal(
                r.text,
                JSON.stringify({
                    kind: "Status",
                    apiVersion: "v1",
                    metadata: {},
                    status: "Failure",
                    message: 'pods "nope" not found',
                    reason: "NotFound",
                    details: { name: "nope", kind: "pods" },
                    code: 404,
                }),
            );
            r = await api(c, "GET", "/apis/apps/v1/namespaces/default/daemonsets/x");
            assert.equal(r.json.message, 'daemonsets.apps "x" not found');
            r = await api(c, "GET", "/api/v1/nodes/zz");
            assert.equal(r.json.message, 'nodes "zz" not found');
        });
    });

    describe("tables", () => {
        const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
        it("node table: columns and Ready,SchedulingDisabled", async () => {
            await api(c, "PATCH", "/api/v1/nodes/w3", {
                body: { spec: { unschedulable: true } },
                contentType: "application/merge-patch+json",
            });
            const r = await api(c, "GET", "/api/v1/nodes", { accept: TABLE });
            assert.equal(r.json.kind, "Table");
            assert.deepEqual(
                r.json.columnDefinitions.filter((d: any) => d.priority === 0).map((d: any) => d.name),
                ["Name", "Status", "Roles", "Age", "Version"],
            );
            assert.deepEqual(
                r.json.rows.map((x: any) => x.cells[1]),
                ["Ready", "Ready", "Ready,SchedulingDisabled"],
            );
            assert.equal(r.json.rows[0].object.kind, "PartialObjectMetadata");
            await api(c, "PATCH", "/api/v1/nodes/w3", {
                body: { spec: { unschedulable: null } },
                contentType: "application/merge-patch+json",
            });
        });
        it("pod table: READY STATUS and wide columns", async () => {
            const r = await api(c, "GET", "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb-1", { accept: TABLE });
            assert.deepEqual(
                r.json.columnDefinitions.map((d: any) => d.name),
                ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"],
            );
            const cells = r.json.rows[0].cells;
            assert.deepEqual(
                [cells[0], cells[1], cells[2], cells[3], cells[6], cells[7], cells[8]],
                ["web-1", "1/1", "Running", 0, "w1", "<none>", "<none>"],
            );
        });
    });

    describe("lists, paging and selectors", () => {
        it("limit/continue pages through all pods", async () => {
            const all = (await api(c, "GET", "/api/v1/pods")).json.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`);
            const seen: string[] = [];
            let cont = "";
            let pages = 0;
            do {
                const r = await api(c, "GET", `/api/v1/pods?limit=4${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`);
                assert.equal(r.status, 200);
                assert.ok(r.json.items.length <= 4);
                seen.push(...r.json.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`));
                cont = r.json.metadata.continue ?? "";
                if (cont) assert.equal(r.json.metadata.remainingItemCount, all.length - seen.length);
                pages++;
            } while (cont);
            assert.deepEqual(seen, all);
            assert.equal(pages, Math.ceil(all.length / 4));
            assert.deepEqual([...all].sort(), all, "key order");
        });

        it("label selectors: =, ==, !=, in, notin, exists, !key", async () => {
            const names = async (sel: string) =>
                (await api(c, "GET", `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(sel)}`)).json.items
                    .map((p: any) => p.metadata.name)
                    .sort();
            assert.deepEqual(await names("tier=front"), ["bare-0", "bare-2", "bare-4", "bare-6"]);
            assert.deepEqual(await names("tier==back"), ["bare-1", "bare-3", "bare-5"]);
            assert.deepEqual(await names("tier!=front,idx"), ["bare-1", "bare-3", "bare-5"]);
            assert.deepEqual(await names("idx in (1, 2)"), ["bare-1", "bare-2"]);
            assert.deepEqual(await names("idx notin (1,2),tier"), ["bare-0", "bare-3", "bare-4", "bare-5", "bare-6"]);
            assert.deepEqual(await names("!tier"), ["web-1", "web-2", "web-3"]);
            assert.equal((await api(c, "GET", "/api/v1/pods?labelSelector=a%20in%20b")).status, 400);
        });

        it("field selectors: spec.nodeName, metadata.name, metadata.namespace, status.phase", async () => {
            const r = await api(c, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dw1,metadata.namespace%3Ddefault");
            assert.deepEqual(
                r.json.items.map((p: any) => p.metadata.name),
                ["bare-1", "bare-3", "bare-5", "web-1"],
            );
            const r2 = await api(c, "GET", "/api/v1/pods?fieldSelector=status.phase!%3DRunning");
            assert.deepEqual(r2.json.items, []);
            const r3 = await api(c, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3D1");
            assert.equal(r3.status, 400);
            assert.equal(r3.json.message, "field label not supported: spec.bogus");
        });
    });

    describe("watch", () => {
        it("streams ADDED/MODIFIED/DELETED from a resourceVersion", async () => {
            const rv = (await api(c, "GET", "/api/v1/namespaces/default/pods")).json.metadata.resourceVersion;
            let opened!: () => void;
            const open = new Promise<void>((resolve) => (opened = resolve));
            const w = watchEvents(
                c,
                `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}&labelSelector=app%3Dwatched`,
                (ev) => ev.some((e) => e.type === "DELETED"),
                10_000,
                () => opened(),
            );
            await open;
            await api(c, "POST", "/api/v1/namespaces/default/pods", {
                body: {
                    metadata: { name: "watched", labels: { app: "watched" } },
                    spec: { nodeName: "w1", containers: [{ name: "c", image: "x" }] },
                },
            });
            await whenStore(c, () => !!c.get("pods", "default", "watched")?.status?.phase); // the kubelet has written its status
            await api(c, "DELETE", "/api/v1/namespaces/default/pods/watched?gracePeriodSeconds=0");
            const r = await w;
            assert.equal(r.status, 200);
            const types = r.events.map((e) => e.type);
            assert.equal(types[0], "ADDED");
            assert.ok(types.includes("MODIFIED"), types.join());
            assert.equal(types[types.length - 1], "DELETED");
            assert.ok(r.events.every((e) => e.object.metadata.name === "watched"));
        });

        it("without resourceVersion it starts with the current state; timeoutSeconds ends it", async () => {
            const r = await watchEvents(c, "/api/v1/nodes?watch=1&timeoutSeconds=1", () => false, 5000);
            assert.equal(r.ended, true);
            assert.deepEqual(
                r.events.map((e) => `${e.type} ${e.object.metadata.name}`),
                ["ADDED w1", "ADDED w2", "ADDED w3"],
            );
        });

        it("a too-old resourceVersion gets an ERROR event with a 410 Expired Status", async () => {
            c.compactWatchHistory();
            const r = await watchEvents(c, "/api/v1/pods?watch=true&resourceVersion=1", () => false, 3000);
            assert.equal(r.status, 200);
            assert.equal(r.events.length, 1);
            assert.equal(r.events[0].type, "ERROR");
            assert.deepEqual(
                { ...r.events[0].object, message: undefined },
                { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: undefined, reason: "Expired", code: 410 },
            );
            assert.match(r.events[0].object.message, /^too old resource version: 1 \(\d+\)$/);
        });
    });

    describe("writes", () => {
        const node = () => api(c, "GET", "/api/v1/nodes/w2").then((r) => r.json);

        it("strategic merge, merge and JSON patch; resourceVersion bumps", async () => {
            const before = await node();
            let r = await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: { metadata: { labels: { a: "1" } } },
                contentType: "application/strategic-merge-patch+json",
            });
            assert.equal(r.status, 200);
            assert.equal(r.json.metadata.labels.a, "1");
            assert.equal(r.json.metadata.labels["kubernetes.io/hostname"], "w2");
            assert.ok(Number(r.json.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
            r = await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: { metadata: { labels: { a: null, b: "2" } } },
                contentType: "application/merge-patch+json",
            });
            assert.equal(r.json.metadata.labels.a, undefined);
            assert.equal(r.json.metadata.labels.b, "2");
            r = await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: [{ op: "add", path: "/spec/unschedulable", value: true }],
                contentType: "application/json-patch+json",
            });
            assert.equal(r.status, 200);
            assert.equal(r.json.spec.unschedulable, true);
            r = await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: [{ op: "remove", path: "/spec/unschedulable" }],
                contentType: "application/json-patch+json",
            });
            assert.equal(r.json.spec.unschedulable, undefined);
            // strategic merge of a keyed list (conditions merge by type)
            r = await api(c, "PATCH", "/api/v1/nodes/w2/status", {
                body: { status: { conditions: [{ type: "Custom", status: "True" }] } },
                contentType: "application/strategic-merge-patch+json",
            });
            assert.deepEqual(
                r.json.status.conditions.map((x: any) => x.type),
                ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready", "Custom"],
            );
        });

        it("JSON patch replace on a missing path → 422; wrong content type → 415", async () => {
            let r = await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: [{ op: "replace", path: "/spec/unschedulable", value: true }],
                contentType: "application/json-patch+json",
            });
            assert.equal(r.status, 422);
            assert.equal(r.json.reason, "Invalid");
            assert.equal(r.json.message, "the server rejected our request due to an error in our request");
            r = await api(c, "PATCH", "/api/v1/nodes/w2", { body: { spec: { unschedulable: true } }, contentType: "application/json" });
            assert.equal(r.status, 415);
            assert.equal(
                r.text,
                JSON.stringify({
                    kind: "Status",
                    apiVersion: "v1",
                    metadata: {},
                    status: "Failure",
                    message:
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
                    reason: "UnsupportedMediaType",
                    code: 415,
                }),
            );
            assert.equal((await node()).spec.unschedulable, undefined);
        });

        it("dryRun=All changes nothing", async () => {
            const before = await node();
            let r = await api(c, "PATCH", "/api/v1/nodes/w2?dryRun=All", {
                body: { spec: { unschedulable: true } },
                contentType: "application/strategic-merge-patch+json",
            });
            assert.equal(r.status, 200);
            assert.equal(r.json.spec.unschedulable, true);
            const after = await node();
            assert.equal(after.spec.unschedulable, undefined);
            assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
            r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-0?dryRun=All");
            assert.equal(r.status, 200);
            assert.equal(c.get("pods", "default", "bare-0").metadata.deletionTimestamp, undefined);
            r = await api(c, "POST", "/api/v1/namespaces/default/pods/bare-0/eviction", {
                body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "bare-0" }, deleteOptions: { dryRun: ["All"] } },
            });
            assert.equal(r.status, 201);
            assert.ok(c.get("pods", "default", "bare-0"));
            assert.equal(c.get("pods", "default", "bare-0").metadata.deletionTimestamp, undefined);
        });

        it("PUT with a stale resourceVersion → 409 Conflict", async () => {
            const n = await node();
            await api(c, "PATCH", "/api/v1/nodes/w2", {
                body: { metadata: { labels: { c: "3" } } },
                contentType: "application/merge-patch+json",
            });
            const r = await api(c, "PUT", "/api/v1/nodes/w2", { body: n });
            assert.equal(r.status, 409);
            assert.equal(
                r.json.message,
                'Operation cannot be fulfilled on nodes "w2": the object has been modified; please apply your changes to the latest version and try again',
            );
        });

        it("graceful DELETE with preconditions: 409 texts, deletionTimestamp in the future, kubelet removes it", async () => {
            let r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-2", {
                body: { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "wrong-uid" } },
            });
            assert.equal(r.status, 409);
            const uid = c.get("pods", "default", "bare-2").metadata.uid;
            assert.equal(
                r.json.message,
                `Operation cannot be fulfilled on Pod "bare-2": the UID in the precondition (wrong-uid) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
            );
            r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-2?preconditions.resourceVersion=1");
            assert.equal(r.status, 409);
            assert.match(r.json.message, /the ResourceVersion in the precondition \(1\) does not match the ResourceVersion in record/);
            const t0 = c.clock.now().getTime();
            r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-2?gracePeriodSeconds=20");
            assert.equal(r.status, 200);
            assert.equal(r.json.kind, "Pod");
            assert.equal(r.json.metadata.deletionGracePeriodSeconds, 20);
            assert.ok(Date.parse(r.json.metadata.deletionTimestamp) >= t0 + 18_000);
            // shortening moves deletionTimestamp earlier; a longer period is a no-op
            r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-2?gracePeriodSeconds=60");
            assert.equal(r.json.metadata.deletionGracePeriodSeconds, 20);
            await c.waitFor(() => !c.get("pods", "default", "bare-2"), 60);
        });

        it("protobuf DeleteOptions bodies (kubectl's typed clients) are decoded; kinds or fields not modelled get 415", async () => {
            const field = (n: number, b: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, b.length]), b]);
            const envelope = (kind: string, raw: Buffer) =>
                Buffer.concat([
                    Buffer.from("k8s\0", "binary"),
                    field(1, Buffer.concat([field(1, Buffer.from("v1")), field(2, Buffer.from(kind))])),
                    field(2, raw),
                ]);
            const t0 = c.clock.now().getTime();
            const r = await api(c, "DELETE", "/api/v1/namespaces/default/pods/bare-4", {
                body: envelope("DeleteOptions", Buffer.from([0x08, 0x07])).toString("binary"),
                contentType: "application/vnd.kubernetes.protobuf",
            });
            assert.equal(r.status, 200, r.text);
            assert.equal(r.json.metadata.deletionGracePeriodSeconds, 7);
            assert.ok(Date.parse(r.json.metadata.deletionTimestamp) >= t0 + 6000);
            const bad = await api(c, "POST", "/api/v1/nodes", {
                body: envelope("Node", Buffer.alloc(0)).toString("binary"),
                contentType: "application/vnd.kubernetes.protobuf",
            });
            assert.equal(bad.status, 415);
            assert.match(bad.json.message, /protobuf bodies of v1\/Node are not decoded by the simulator/);
            // a Pod whose spec (field 2) sets a PodSpec field the simulator does not model (14: securityContext.runAsUser)
            const securityContext = field(2, field(14, Buffer.from([0x10, 0x05])));
            const unmodelled = await api(c, "POST", "/api/v1/namespaces/default/pods", {
                body: envelope("Pod", securityContext).toString("binary"),
                contentType: "application/vnd.kubernetes.protobuf",
            });
            assert.equal(unmodelled.status, 415, unmodelled.text);
            assert.match(unmodelled.json.message, /Pod\.spec: protobuf field 14 is not decoded by the simulator/);
        });

        it("creating in a missing namespace → 404; duplicate → 409 AlreadyExists", async () => {
            const body = { metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i" }] } };
            let r = await api(c, "POST", "/api/v1/namespaces/nope/pods", { body });
            assert.equal(r.status, 404);
            assert.equal(r.json.message, 'namespaces "nope" not found');
            r = await api(c, "POST", "/api/v1/namespaces/default/pods", { body: { ...body, metadata: { name: "bare-1" } } });
            assert.equal(r.status, 409);
            assert.equal(r.json.reason, "AlreadyExists");
            assert.equal(r.json.message, 'pods "bare-1" already exists');
        });

        it("deployment scale: RS creates pods named <rs>-<5 chars>, scheduler spreads them", async () => {
            const r = await api(c, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", {
                body: { spec: { replicas: 6 } },
                contentType: "application/merge-patch+json",
            });
            assert.equal(r.status, 200);
            assert.equal(r.json.kind, "Scale");
            await c.waitFor(() => c.get("deployments", "default", "web").status.readyReplicas === 6, 120);
            const pods = c.list("pods", "default").filter((p) => p.metadata.labels?.app === "web");
            const fresh = pods.filter((p) => !/^web-\d$/.test(p.metadata.name));
            assert.equal(fresh.length, 3);
            for (const p of fresh) assert.match(p.metadata.name, /^web-[a-z0-9]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
            const perNode = new Map<string, number>();
            for (const p of pods) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
            assert.deepEqual([...perNode.values()], [2, 2, 2]);
        });
    });
});
