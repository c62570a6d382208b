// Issue 13, items 2 and 3: `kubectl apply -f deploy/rbac.yaml` works (OpenAPI, ServiceAccount and rbac/v1
// resources with discovery), the applied objects are what RBAC mode enforces, `kubectl auth can-i` answers
// from that same evaluation, and `kubectl create token` issues a token the server accepts as the
// ServiceAccount (subject to RBAC mode).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { startCluster, SimCluster } from "../../sim";
import { api, kubectl, requireKubectl } from "../helpers/sim-kubectl";
import { baseCluster, list } from "./fixtures";

const RBAC_FILE = path.join(__dirname, "..", "..", "..", "deploy", "rbac.yaml");
const SA_USER = "system:serviceaccount:kube-system:node-upgrade";

describe("sim: kubectl apply of RBAC objects, auth can-i, create token (issue 13.2/13.3)", function () {
    describe("RBAC mode on, the restricted user without rules of its own", () => {
        let c: SimCluster;
        let restricted: string;

        before(async function () {
            requireKubectl(this);
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-rbac-"));
            restricted = path.join(dir, "restricted.kubeconfig");
            c = await startCluster({
                scenario: list(baseCluster()),
                timeScale: 50,
                rbac: { rules: [], user: SA_USER, kubeconfigPath: restricted },
            });
        });
        after(async () => {
            await c?.stop();
        });

        it("before the apply, the ServiceAccount may only discover and ask", async () => {
            const r = await kubectl(restricted, ["get", "nodes"]);
            assert.notEqual(r.code, 0);
            assert.match(
                r.stderr,
                new RegExp(`nodes is forbidden: User "${SA_USER}" cannot list resource "nodes" in API group "" at the cluster scope`),
            );
            const can = await kubectl(restricted, ["auth", "can-i", "list", "nodes"]);
            assert.equal(can.code, 1);
            assert.equal(can.stdout.trim(), "no");
        });

        it("kubectl apply -f deploy/rbac.yaml creates its objects (validation on), and again they are unchanged", async () => {
            // what kubectl prints per object of the file: "serviceaccount/node-upgrade created", ...
            const docs = YAML.parseAllDocuments(fs.readFileSync(RBAC_FILE, "utf8"))
                .map((d) => d.toJS())
                .filter(Boolean);
            const printed = (verb: string) =>
                docs.map((o: any) => {
                    const group = o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : "";
                    return `${o.kind.toLowerCase()}${group}/${o.metadata.name} ${verb}`;
                });
            assert.ok(printed("").some((l) => l.startsWith("clusterrolebinding.rbac.authorization.k8s.io/node-upgrade")));
            let r = await kubectl(c, ["apply", "-f", RBAC_FILE]);
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(r.stdout.trim().split("\n"), printed("created"));
            r = await kubectl(c, ["apply", "-f", RBAC_FILE]);
            assert.equal(r.code, 0, r.stderr);
            assert.deepEqual(r.stdout.trim().split("\n"), printed("unchanged"));
            const crb = JSON.parse((await kubectl(c, ["get", "clusterrolebinding", "node-upgrade", "-o", "json"])).stdout);
            assert.deepEqual(crb.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "node-upgrade" });
            assert.deepEqual(crb.subjects, [{ kind: "ServiceAccount", name: "node-upgrade", namespace: "kube-system" }]);
            const sa = await kubectl(c, ["get", "sa", "-n", "kube-system"]);
            assert.match(sa.stdout, /^node-upgrade\s+/m);
        });

        it("the applied binding is enforced: the restricted user may now do what the ClusterRole grants, nothing more", async () => {
            let r = await kubectl(restricted, ["get", "nodes"]);
            assert.equal(r.code, 0, r.stderr);
            r = await kubectl(restricted, ["delete", "node", "w3"]);
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, new RegExp(`nodes "w3" is forbidden: User "${SA_USER}" cannot delete resource "nodes"`));
        });

        it("kubectl auth can-i answers what the server enforces, for the same requests", async () => {
            // [can-i args, a request that needs exactly that permission]
            const cases: [string[], string, string][] = [
                [["list", "nodes"], "GET", "/api/v1/nodes"],
                [["patch", "nodes"], "PATCH", "/api/v1/nodes/w1"],
                [["delete", "nodes"], "DELETE", "/api/v1/nodes/w1"],
                [["create", "pods", "--subresource=eviction", "-n", "default"], "POST", "/api/v1/namespaces/default/pods/x/eviction"],
                [["create", "pods", "-n", "default"], "POST", "/api/v1/namespaces/default/pods"],
                [["list", "deployments.apps", "-A"], "GET", "/apis/apps/v1/deployments"],
                [["get", "deployments.apps", "-n", "default"], "GET", "/apis/apps/v1/namespaces/default/deployments/x"],
                [["list", "poddisruptionbudgets.policy", "-A"], "GET", "/apis/policy/v1/poddisruptionbudgets"],
            ];
            const token = c.rbac!.token;
            for (const [args, method, url] of cases) {
                const can = await kubectl(restricted, ["auth", "can-i", ...args]);
                const req = await api({ ...c, token }, method, url, { body: method === "GET" || method === "DELETE" ? undefined : {} });
                const enforced = req.status !== 403;
                assert.equal(can.stdout.trim(), enforced ? "yes" : "no", `can-i ${args.join(" ")} vs ${method} ${url} → ${req.status}`);
                assert.equal(can.code, enforced ? 0 : 1);
            }
            // kubectl reads "pods/eviction" as TYPE/NAME (a pod named "eviction"): the subresource needs --subresource
            const named = await kubectl(restricted, ["auth", "can-i", "create", "pods/eviction", "-n", "default"]);
            assert.equal(named.stdout.trim(), "no");
            // the admin is in system:masters
            const admin = await kubectl(c, ["auth", "can-i", "delete", "nodes"]);
            assert.equal(admin.stdout.trim(), "yes");
        });

        it("kubectl auth can-i --list shows the bound rules", async () => {
            const r = await kubectl(restricted, ["auth", "can-i", "--list", "-n", "default"]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /^pods\/eviction\s+\[\]\s+\[\]\s+\[create\]$/m);
            assert.match(r.stdout, /^nodes\s+\[\]\s+\[\]\s+\[get list watch patch\]$/m);
        });

        it("kubectl create token: the token authenticates as the ServiceAccount and gets its RBAC permissions", async () => {
            const t = await kubectl(c, ["-n", "kube-system", "create", "token", "node-upgrade"]);
            assert.equal(t.code, 0, t.stderr);
            const token = t.stdout.trim();
            assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
            const who = await kubectl(c, ["auth", "whoami", `--token=${token}`, "-o", "json"]);
            assert.equal(who.code, 0, who.stderr);
            assert.equal(JSON.parse(who.stdout).status.userInfo.username, SA_USER);
            assert.equal((await kubectl(c, ["get", "nodes", `--token=${token}`])).code, 0);
            const del = await kubectl(c, ["delete", "node", "w3", `--token=${token}`]);
            assert.match(del.stderr, new RegExp(`nodes "w3" is forbidden: User "${SA_USER}" cannot delete resource "nodes"`));
            assert.ok(c.requestLog().some((e) => e.user === SA_USER && e.verb === "delete" && e.status === 403));
            const can = await kubectl(c, ["auth", "can-i", "delete", "nodes", `--token=${token}`]);
            assert.equal(can.stdout.trim(), "no");
        });

        it("a token stops working when it expires (simulated clock) and when its ServiceAccount is deleted", async () => {
            const issue = async (seconds: number) =>
                (await kubectl(c, ["-n", "kube-system", "create", "token", "node-upgrade", `--duration=${seconds}s`])).stdout.trim();
            const short = await issue(600);
            const long = await issue(7200);
            assert.equal((await api({ ...c, token: short }, "GET", "/api/v1/nodes")).status, 200);
            c.clock.advance(601);
            assert.equal((await api({ ...c, token: short }, "GET", "/api/v1/nodes")).status, 401);
            assert.equal((await api({ ...c, token: long }, "GET", "/api/v1/nodes")).status, 200);
            assert.equal((await kubectl(c, ["-n", "kube-system", "delete", "sa", "node-upgrade"])).code, 0);
            assert.equal((await api({ ...c, token: long }, "GET", "/api/v1/nodes")).status, 401);
            const missing = await kubectl(c, ["-n", "kube-system", "create", "token", "node-upgrade"]);
            assert.match(missing.stderr, /serviceaccounts "node-upgrade" not found/);
        });

        it("kubectl create serviceaccount/clusterrole/role/rolebinding (protobuf) grant namespaced permissions", async () => {
            for (const args of [
                ["create", "serviceaccount", "reader", "-n", "default"],
                ["create", "clusterrole", "pod-reader", "--verb=get,list", "--resource=pods"],
                ["create", "rolebinding", "read-pods", "--clusterrole=pod-reader", "--serviceaccount=default:reader", "-n", "default"],
            ]) {
                const r = await kubectl(c, args);
                assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
            }
            const role = JSON.parse((await kubectl(c, ["get", "clusterrole", "pod-reader", "-o", "json"])).stdout);
            assert.deepEqual(role.rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]);
            const token = (await kubectl(c, ["-n", "default", "create", "token", "reader"])).stdout.trim();
            const tok = { ...c, token };
            assert.equal((await api(tok, "GET", "/api/v1/namespaces/default/pods")).status, 200);
            assert.equal((await api(tok, "GET", "/api/v1/namespaces/kube-system/pods")).status, 403, "a RoleBinding grants one namespace");
            const can = await kubectl(c, ["auth", "can-i", "list", "pods", "-n", "kube-system", `--token=${token}`]);
            assert.equal(can.stdout.trim(), "no");
            // a Role limited by resourceNames
            for (const args of [
                [
                    "create",
                    "role",
                    "one-lease",
                    "--verb=get",
                    "--resource=leases.coordination.k8s.io",
                    "--resource-name=mine",
                    "-n",
                    "default",
                ],
                ["create", "rolebinding", "one-lease", "--role=one-lease", "--serviceaccount=default:reader", "-n", "default"],
            ]) {
                const r = await kubectl(c, args);
                assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
            }
            assert.equal((await api(tok, "GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/mine")).status, 404);
            assert.equal((await api(tok, "GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases/other")).status, 403);
            const mine = await kubectl(c, ["auth", "can-i", "get", "leases/mine", "-n", "default", `--token=${token}`]);
            assert.equal(mine.stdout.trim(), "yes");
        });
    });

    describe("RBAC mode off", () => {
        let c: SimCluster;

        before(async function () {
            requireKubectl(this);
            c = await startCluster({ scenario: list(baseCluster()), timeScale: 50 });
        });
        after(async () => {
            await c?.stop();
        });

        it("a ServiceAccount token may do everything, and can-i says so", async () => {
            assert.equal((await kubectl(c, ["apply", "-f", RBAC_FILE])).code, 0);
            const token = (await kubectl(c, ["-n", "kube-system", "create", "token", "node-upgrade"])).stdout.trim();
            const can = await kubectl(c, ["auth", "can-i", "delete", "nodes", `--token=${token}`]);
            assert.equal(can.stdout.trim(), "yes");
            assert.equal((await api({ ...c, token }, "DELETE", "/api/v1/nodes/w3")).status, 200);
            assert.ok(c.requestLog().some((e) => e.user === SA_USER && e.verb === "delete" && e.status === 200));
        });
    });
});
