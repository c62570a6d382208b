// Least privilege: the simulated API server enforces the shipped ClusterRole (deploy/rbac.yaml) on a second
// token, as kube-apiserver's RBAC authorizer does, and answers 403 with kube-apiserver's message. With exactly
// that role, a whole roll of the seed cluster, the planner (`node-upgrade plan`) and `node-upgrade drain` work;
// every permission the role grants is used by one of them; and without any one of them, the one that needs it
// fails with a message naming the missing permission.
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clusterRoleRules, clusterRoleRulesFromFile, PolicyRule, RequestLogEntry, SimCluster, startCluster } from "../../sim";
import { forbidden, nonResourceAttributes, RequestAttributes, ruleAllows } from "../../sim/apiserver/rbac";
import { KUBECTL, requireKubectl } from "../helpers/sim-kubectl";
import { DynamicProviderHost, REPO_ROOT, stackConfig } from "../../local-engine";
import { Invariants, loadComponents, newEngine } from "./harness";

const USER = "system:serviceaccount:kube-system:node-upgrade";
const ROLE_FILE = path.join(REPO_ROOT, "deploy", "rbac.yaml");
const CLI = path.join(REPO_ROOT, "dist", "cli", "main.js");
const NODES = ["master", "worker1", "worker2"];
const TARGET = "v1.20.0";

/** One permission: "verb group/resource" ("patch /nodes", "create /pods/eviction", "list apps/deployments"). */
type Permission = string;
const permissionOf = (e: RequestLogEntry): Permission | undefined =>
    e.resource ? `${e.verb} ${e.apiGroup ?? ""}/${e.resource}` : undefined;

/** Every (verb, group, resource) a set of rules grants, spelled out. */
function granted(rules: PolicyRule[]): Permission[] {
    return rules.flatMap((r) =>
        (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))),
    );
}

/** The rules with one permission taken out (its rule split if it grants more). */
function without(rules: PolicyRule[], p: Permission): PolicyRule[] {
    const [verb, gr] = p.split(" ");
    const slash = gr.indexOf("/");
    const group = gr.slice(0, slash);
    const resource = gr.slice(slash + 1);
    const out: PolicyRule[] = [];
    for (const r of rules) {
        if (!(r.apiGroups ?? []).includes(group) || !(r.resources ?? []).includes(resource) || !r.verbs.includes(verb)) {
            out.push(r);
            continue;
        }
        const others = (r.resources ?? []).filter((x) => x !== resource);
        if (others.length) out.push({ ...r, resources: others });
        const verbs = r.verbs.filter((v) => v !== verb);
        if (verbs.length) out.push({ ...r, resources: [resource], verbs });
    }
    return out;
}

/** kube-apiserver's message for a missing permission. */
function forbiddenPattern(p: Permission): RegExp {
    const [verb, gr] = p.split(" ");
    const slash = gr.indexOf("/");
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    return new RegExp(
        `is forbidden: User "${esc(USER)}" cannot ${verb} resource "${esc(gr.slice(slash + 1))}" in API group "${esc(gr.slice(0, slash))}"`,
    );
}

interface Lp {
    sim: SimCluster;
    dir: string;
    admin: string;
    restricted: string;
    stop(): Promise<void>;
}

/**
 * The seed cluster (master, worker1, worker2 at v1.19.0), plus what a production cluster has and the role must
 * cover: a PodDisruptionBudget over http-go (evictions get refused and retried) and a StatefulSet without one
 * (paced by reading its controller).
 */
async function seedCluster(rules: PolicyRule[]): Promise<Lp> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-rbac-"));
    const admin = path.join(dir, "admin.kubeconfig");
    const restricted = path.join(dir, "restricted.kubeconfig");
    const sim = await startCluster({
        scenario: "seed",
        timeScale: 60,
        kubeconfigPath: admin,
        upgradeDownSeconds: 3,
        recordEvents: false,
        rbac: { rules, user: USER, kubeconfigPath: restricted },
    });
    sim.apply({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "http-go", namespace: "default" },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: "http-go" } } },
    });
    sim.apply({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "queue", namespace: "default" },
        spec: {
            replicas: 3,
            serviceName: "queue",
            podManagementPolicy: "Parallel",
            selector: { matchLabels: { app: "queue" } },
            template: {
                metadata: { labels: { app: "queue" } },
                spec: {
                    terminationGracePeriodSeconds: 1,
                    containers: [{ name: "q", image: "nats:2", resources: { requests: { cpu: "50m" } } }],
                },
            },
        },
    });
    await sim.waitFor(
        () => sim.list("Pod", "default").filter((p) => p.metadata.name.startsWith("queue-") && p.status?.phase === "Running").length === 3,
        60,
    );
    await sim.settle();
    sim.clearRequestLog();
    return {
        sim,
        dir,
        admin,
        restricted,
        async stop() {
            await sim.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

function rollConfig(c: Lp, nodes: string[], extra: Record<string, unknown> = {}) {
    return stackConfig({
        kubeconfig: c.sim.rbac!.kubeconfig,
        nodes,
        targetVersion: TARGET,
        // Down for 240 simulated seconds (4 real): the Ready step finds the node down and watches it, so the
        // roll uses "watch /nodes" whatever ran before in this file.
        upgradeCommand:
            'node dist/sim/cli.js upgrade-node --kubeconfig "$SIM_ADMIN" --node "$NODE_NAME" --version "$TARGET_VERSION" --down-seconds 240',
        upgradeEnvironment: [`SIM_ADMIN=${c.admin}`],
        drainIgnoreDaemonSets: true,
        drainDeleteEmptyDirData: true,
        drainTimeout: "30s",
        readyTimeout: "30s",
        readyPollInterval: "100ms",
        ...extra,
    });
}

function cli(args: string[]): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", (code) => resolve({ code: code ?? -1, out }));
    });
}

/** The things that talk to the cluster, each a function of a fresh cluster; resolves to an error text or "". */
type Consumer = "roll" | "preview plan" | "plan CLI" | "drain CLI" | "drain CLI --disable-eviction";

const restrictedRequests = (sim: SimCluster) => sim.requestLog().filter((e) => e.user === USER);

/**
 * What each permission of the role is for: which consumer needs it, and whether it cannot work without it
 * ("required": it must fail, naming the permission) or works in a degraded way by design ("degrades": it must
 * still complete without breaking a budget, and say what is forbidden so the operator can fix the role).
 */
const NEEDS: { permission: Permission; consumer: Consumer; kind: "required" | "degrades"; why?: string }[] = [
    { permission: "get /nodes", consumer: "roll", kind: "required" },
    { permission: "list /nodes", consumer: "roll", kind: "required" },
    { permission: "patch /nodes", consumer: "roll", kind: "required" },
    { permission: "watch /nodes", consumer: "roll", kind: "degrades", why: "the wait for Ready re-reads the node every 5 s" },
    { permission: "list /pods", consumer: "roll", kind: "required" },
    { permission: "watch /pods", consumer: "roll", kind: "degrades", why: "the drain re-lists the node's pods every 5 s" },
    { permission: "delete /pods", consumer: "drain CLI --disable-eviction", kind: "required" },
    { permission: "create /pods/eviction", consumer: "roll", kind: "required" },
    {
        permission: "list policy/poddisruptionbudgets",
        consumer: "roll",
        kind: "degrades",
        why: "the Eviction API still enforces every budget",
    },
    {
        permission: "watch policy/poddisruptionbudgets",
        consumer: "roll",
        kind: "degrades",
        why: "refused evictions are retried on a timer",
    },
    { permission: "get apps/daemonsets", consumer: "roll", kind: "required" },
    { permission: "get apps/replicasets", consumer: "roll", kind: "degrades", why: "workload pacing is off for those pods, as in kubectl" },
    {
        permission: "get apps/statefulsets",
        consumer: "roll",
        kind: "degrades",
        why: "workload pacing is off for those pods, as in kubectl",
    },
    // The roll lock (shared-cluster/): each node's cordon takes the Lease, its uncordon gives it back.
    { permission: "create coordination.k8s.io/leases", consumer: "roll", kind: "required" },
    { permission: "get coordination.k8s.io/leases", consumer: "roll", kind: "required" },
    { permission: "update coordination.k8s.io/leases", consumer: "roll", kind: "required" },
    { permission: "list apps/daemonsets", consumer: "plan CLI", kind: "required" },
    { permission: "list apps/replicasets", consumer: "plan CLI", kind: "required" },
    { permission: "list apps/statefulsets", consumer: "plan CLI", kind: "required" },
    { permission: "list apps/deployments", consumer: "plan CLI", kind: "required" },
    // The preview's plan (RollingNodeUpgrade logs it per node) is optional: the preview goes on without it.
    { permission: "list apps/deployments", consumer: "preview plan", kind: "degrades", why: "without the per-node plan" },
    { permission: "list policy/poddisruptionbudgets", consumer: "preview plan", kind: "degrades", why: "without the per-node plan" },
];

describe("hardening: least privilege (the shipped ClusterRole, enforced by the simulated API server)", function () {
    this.timeout(180_000);
    let host: DynamicProviderHost;
    const role = clusterRoleRulesFromFile(ROLE_FILE, "node-upgrade");
    // The roll lock's Role (leases in kube-system) is bound to the same ServiceAccount: every cluster here gets both.
    const full = [...role, ...clusterRoleRulesFromFile(ROLE_FILE, "node-upgrade-lease")];
    /** Which permissions each consumer used with the full role. */
    const used = new Map<Consumer, Set<Permission>>();

    /** Runs a consumer; `failure` is its error ("" when it succeeded), `output` what it printed. */
    async function run(
        consumer: Consumer,
        c: Lp,
        nodes = NODES,
        extra: Record<string, unknown> = {},
    ): Promise<{ failure: string; output: string }> {
        host.clearOutput();
        const r = await runConsumer(consumer, c, nodes, extra);
        return { failure: r.failure, output: [...host.output(), ...host.stderr(), r.output ?? ""].join("\n") };
    }

    async function runConsumer(
        consumer: Consumer,
        c: Lp,
        nodes: string[],
        extra: Record<string, unknown> = {},
    ): Promise<{ failure: string; output?: string }> {
        const c2 = await loadComponents();
        const outcome = (code: number, out: string) => ({ failure: code === 0 ? "" : out || `exit code ${code}`, output: out });
        switch (consumer) {
            case "roll": {
                const r = await newEngine(host).run(() => c2.rollFromConfig().report, {
                    config: rollConfig(c, nodes, extra),
                    secretKeys: ["kubeconfig"],
                });
                return { failure: r.ok ? "" : r.error!.message };
            }
            case "preview plan": {
                const logged: string[] = [];
                const original = { log: console.log, warn: console.warn, error: console.error };
                console.log = console.warn = console.error = (...a: any[]) => void logged.push(a.join(" "));
                try {
                    const r = await newEngine(host).run(() => c2.rollFromConfig().report, {
                        config: rollConfig(c, NODES),
                        secretKeys: ["kubeconfig"],
                        preview: true,
                    });
                    if (!r.ok) return { failure: r.error!.message, output: logged.join("\n") };
                } finally {
                    Object.assign(console, original);
                }
                // The preview itself goes on without the plan; a missing plan is a failure only with the full role.
                const shown = logged.some((l) => /\[1\/\d\] master/.test(l));
                return {
                    failure: shown || c.sim.rbac!.rules !== full ? "" : `no plan was logged:\n${logged.join("\n")}`,
                    output: logged.join("\n"),
                };
            }
            case "plan CLI": {
                const r = await cli([
                    "plan",
                    ...NODES,
                    "--target-version",
                    TARGET,
                    "--ignore-daemonsets",
                    "--delete-emptydir-data",
                    "--kubeconfig",
                    c.restricted,
                ]);
                return outcome(r.code, r.out);
            }
            case "drain CLI": {
                const r = await cli([
                    "drain",
                    "worker2",
                    "--ignore-daemonsets",
                    "--delete-emptydir-data",
                    "--timeout",
                    "30s",
                    "--kubeconfig",
                    c.restricted,
                ]);
                return outcome(r.code, r.out);
            }
            case "drain CLI --disable-eviction": {
                const r = await cli([
                    "drain",
                    "worker1",
                    "--ignore-daemonsets",
                    "--delete-emptydir-data",
                    "--disable-eviction",
                    "--timeout",
                    "30s",
                    "--kubeconfig",
                    c.restricted,
                ]);
                return outcome(r.code, r.out);
            }
        }
    }

    before(async () => {
        await loadComponents();
        host = await DynamicProviderHost.start();
    });
    after(async () => host?.stop());

    it("deploy/rbac.yaml's ClusterRole loads, grants no wildcard, nothing on Secrets and no write to workloads", () => {
        const perms = granted(role);
        assert.ok(perms.length > 0);
        assert.ok(!role.some((r) => [...(r.verbs ?? []), ...(r.resources ?? []), ...(r.apiGroups ?? [])].includes("*")), "no wildcards");
        assert.ok(!perms.some((p) => /\/secrets$|\/configmaps$/.test(p)), "no Secrets or ConfigMaps");
        const writes = perms.filter((p) => /^(create|update|patch|delete|deletecollection) /.test(p));
        assert.deepStrictEqual(writes.sort(), ["create /pods/eviction", "delete /pods", "patch /nodes"]);
    });

    for (const consumer of ["preview plan", "roll", "plan CLI", "drain CLI", "drain CLI --disable-eviction"] as Consumer[]) {
        it(`${consumer === "roll" ? "a whole roll of the seed cluster (preview, then up)" : consumer} works with exactly the shipped ClusterRole`, async () => {
            const c = await seedCluster(full);
            try {
                const { failure } = await run(consumer, c);
                assert.strictEqual(failure, "", failure);
                const requests = restrictedRequests(c.sim);
                const refused = requests.filter((e) => e.status === 403).map((e) => `${e.method} ${e.path}`);
                assert.deepStrictEqual(refused, [], "no request may be refused");
                used.set(consumer, new Set(requests.map(permissionOf).filter((p): p is Permission => !!p)));
                if (consumer === "roll") {
                    for (const n of NODES) {
                        const node = c.sim.get("Node", undefined, n);
                        assert.strictEqual(node.status.nodeInfo.kubeletVersion, TARGET, n);
                        assert.ok(!node.spec.unschedulable, `${n} left cordoned`);
                    }
                    assert.ok(
                        requests.some((e) => e.resource === "pods/eviction" && e.status === 429),
                        "the budget should have refused an eviction at least once",
                    );
                }
            } finally {
                await c.stop();
            }
        });
    }

    it("every permission the role grants is used by the roll, the planner or the CLI (nothing to spare), as the table below says", () => {
        const all = new Set([...used.values()].flatMap((s) => [...s]));
        // The simulated cluster serves no ReplicationControllers: pacing pods of one reads it (drain/workload-tracker.ts).
        const unused = granted(full).filter((p) => !all.has(p) && p !== "get /replicationcontrollers");
        assert.deepStrictEqual(unused, [], `granted but never used: ${unused.join(", ")}`);
        const ungranted = [...all].filter((p) => !granted(full).includes(p));
        assert.deepStrictEqual(ungranted, []);
        assert.deepStrictEqual(
            [...new Set(NEEDS.map((n) => n.permission))].sort(),
            [...new Set(granted(full))].filter((p) => p !== "get /replicationcontrollers").sort(),
        );
        for (const n of NEEDS) assert.ok(used.get(n.consumer)?.has(n.permission), `${n.consumer} did not use ${n.permission}`);
        console.log(`      permissions used: ${[...used].map(([c, s]) => `${c}: ${[...s].sort().join(", ")}`).join(" | ")}`);
    });

    for (const need of NEEDS) {
        const title =
            need.kind === "required"
                ? `without ${need.permission}, ${need.consumer} fails naming the missing permission`
                : `without ${need.permission}, ${need.consumer} still completes (${need.why}) without breaking a budget, and says what is forbidden`;
        it(title, async () => {
            const c = await seedCluster(without(full, need.permission));
            const audit = new Invariants(c.sim);
            try {
                // The Ready wait watches the node only while it is down: keep it down for 4 real seconds (240 simulated),
                // so a busy machine cannot start the wait after the node is already back.
                const slowReturn =
                    need.permission === "watch /nodes"
                        ? {
                              upgradeCommand:
                                  'node dist/sim/cli.js upgrade-node --kubeconfig "$SIM_ADMIN" --node "$NODE_NAME" --version "$TARGET_VERSION" --down-seconds 240',
                          }
                        : {};
                const { failure, output } = await run(need.consumer, c, need.consumer === "preview plan" ? NODES : ["master"], slowReturn);
                if (need.kind === "required") {
                    assert.ok(failure, `${need.consumer} succeeded without ${need.permission}`);
                    assert.match(
                        failure,
                        forbiddenPattern(need.permission),
                        `${need.consumer} failed, but its message does not name the missing permission:\n${failure}`,
                    );
                } else {
                    assert.strictEqual(failure, "", failure);
                    assert.deepStrictEqual(audit.violations, []);
                    assert.deepStrictEqual(audit.belowBudget, []);
                    assert.match(
                        output,
                        forbiddenPattern(need.permission),
                        `nothing in the output says that ${need.permission} is forbidden:\n${output.slice(-3000)}`,
                    );
                }
            } finally {
                audit.stop();
                await c.stop();
            }
        });
    }
});

describe("hardening: the simulated RBAC authorizer", function () {
    const attrs = (verb: string, resource: string, o: Partial<RequestAttributes> = {}): RequestAttributes => ({
        resourceRequest: true,
        verb,
        apiGroup: "",
        resource,
        subresource: "",
        namespace: "",
        name: "",
        path: "",
        ...o,
    });

    it("matches verbs, groups, resources, subresources and names as kube-apiserver's RBAC does", () => {
        const evict: PolicyRule = { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] };
        assert.ok(ruleAllows(evict, attrs("create", "pods", { subresource: "eviction", namespace: "default", name: "x" })));
        assert.ok(!ruleAllows(evict, attrs("create", "pods", { namespace: "default" })), "pods/eviction does not grant pods");
        assert.ok(
            !ruleAllows({ apiGroups: [""], resources: ["pods"], verbs: ["create"] }, attrs("create", "pods", { subresource: "eviction" })),
            "pods does not grant pods/eviction",
        );
        assert.ok(
            ruleAllows({ apiGroups: [""], resources: ["*/status"], verbs: ["patch"] }, attrs("patch", "nodes", { subresource: "status" })),
        );
        assert.ok(
            !ruleAllows({ apiGroups: [""], resources: ["nodes"], verbs: ["patch"] }, attrs("patch", "nodes", { subresource: "status" })),
            "nodes does not grant nodes/status",
        );
        assert.ok(ruleAllows({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, attrs("deletecollection", "pods", { apiGroup: "" })));
        assert.ok(!ruleAllows({ apiGroups: ["apps"], resources: ["pods"], verbs: ["get"] }, attrs("get", "pods")), "wrong group");
        assert.ok(
            ruleAllows(
                { apiGroups: [""], resources: ["nodes"], verbs: ["get"], resourceNames: ["w1"] },
                attrs("get", "nodes", { name: "w1" }),
            ),
        );
        assert.ok(!ruleAllows({ apiGroups: [""], resources: ["nodes"], verbs: ["list"], resourceNames: ["w1"] }, attrs("list", "nodes")));
        assert.ok(ruleAllows({ verbs: ["get"], nonResourceURLs: ["/healthz/*"] }, nonResourceAttributes("GET", "/healthz/etcd")));
    });

    it("answers with kube-apiserver's 403 messages", () => {
        const user = "system:serviceaccount:kube-system:node-upgrade";
        const msg = (a: RequestAttributes) => forbidden(user, a).status;
        assert.strictEqual(
            msg(attrs("create", "pods", { subresource: "eviction", namespace: "default", name: "x" })).message,
            'pods "x" is forbidden: User "system:serviceaccount:kube-system:node-upgrade" cannot create resource "pods/eviction" in API group "" in the namespace "default"',
        );
        assert.strictEqual(
            msg(attrs("list", "nodes")).message,
            'nodes is forbidden: User "system:serviceaccount:kube-system:node-upgrade" cannot list resource "nodes" in API group "" at the cluster scope',
        );
        const pdb = msg(attrs("watch", "poddisruptionbudgets", { apiGroup: "policy", namespace: "shop" }));
        assert.strictEqual(
            pdb.message,
            'poddisruptionbudgets.policy is forbidden: User "system:serviceaccount:kube-system:node-upgrade" cannot watch resource "poddisruptionbudgets" in API group "policy" in the namespace "shop"',
        );
        assert.deepStrictEqual([pdb.code, pdb.reason, pdb.details], [403, "Forbidden", { group: "policy", kind: "poddisruptionbudgets" }]);
        assert.strictEqual(
            msg(nonResourceAttributes("POST", "/sim/v1/faults")).message,
            'forbidden: User "system:serviceaccount:kube-system:node-upgrade" cannot post path "/sim/v1/faults"',
        );
    });

    it("loads a ClusterRole from YAML and refuses what is not one", () => {
        assert.deepStrictEqual(
            clusterRoleRules("kind: ClusterRole\nmetadata: {name: r}\nrules:\n- {apiGroups: [''], resources: [nodes], verbs: [get]}\n"),
            [{ apiGroups: [""], resources: ["nodes"], verbs: ["get"], resourceNames: undefined, nonResourceURLs: undefined }],
        );
        assert.throws(() => clusterRoleRules("kind: ServiceAccount\n"), /no ClusterRole or Role found/);
        assert.throws(
            () => clusterRoleRules("kind: ClusterRole\nrules:\n- {resources: [nodes], verbs: []}\n"),
            /rules\[0\]\.verbs must not be empty/,
        );
        assert.throws(
            () => clusterRoleRules("kind: ClusterRole\nmetadata: {name: a}\n---\nkind: ClusterRole\nmetadata: {name: b}\n"),
            /several roles found \(a, b\)/,
        );
    });

    it("the sim CLI's --rbac flag: real kubectl gets the shipped role's rights and kube-apiserver's refusals", async function () {
        requireKubectl(this);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-rbac-cli-"));
        const admin = path.join(dir, "admin");
        const restricted = path.join(dir, "restricted");
        const child = spawn(
            process.execPath,
            [
                path.join(REPO_ROOT, "dist", "sim", "cli.js"),
                "--scenario",
                "seed",
                "--kubeconfig",
                admin,
                "--rbac",
                ROLE_FILE,
                "--rbac-kubeconfig",
                restricted,
                // deploy/rbac.yaml also holds the Lease Role of the shared-cluster lock
                "--rbac-role",
                "node-upgrade",
            ],
            { stdio: ["ignore", "pipe", "pipe"] },
        );
        try {
            let out = "";
            // wait for the line that says the restricted user is set up (or for the process to end)
            await new Promise<void>((resolve) => {
                child.stdout.on("data", (d) => {
                    out += d;
                    if (/restricted user/.test(out)) resolve();
                });
                child.on("exit", () => resolve());
            });
            assert.match(out, /restricted user "system:serviceaccount:kube-system:node-upgrade" with \d+ RBAC rule\(s\)/);
            const k = (args: string[]) =>
                new Promise<{ code: number; out: string }>((resolve) => {
                    const p = spawn(KUBECTL, ["--kubeconfig", restricted, ...args]);
                    let o = "";
                    p.stdout.on("data", (d) => (o += d));
                    p.stderr.on("data", (d) => (o += d));
                    p.on("close", (code) => resolve({ code: code ?? -1, out: o }));
                });
            const nodes = await k(["get", "nodes", "-o", "name"]);
            assert.strictEqual(nodes.code, 0, nodes.out);
            assert.match(nodes.out, /node\/worker1/);
            const del = await k(["delete", "namespace", "blue", "--dry-run=server"]);
            assert.notStrictEqual(del.code, 0);
            assert.match(
                del.out,
                /Error from server \(Forbidden\): namespaces "blue" is forbidden: User "system:serviceaccount:kube-system:node-upgrade" cannot delete resource "namespaces" in API group "" at the cluster scope/,
            );
            const events = await k(["get", "events", "-n", "default"]);
            assert.match(
                events.out,
                /events is forbidden: User .* cannot list resource "events" in API group "" in the namespace "default"/,
            );
        } finally {
            child.kill("SIGTERM");
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
