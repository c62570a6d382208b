// Shared pieces of the hardening suites: a small production-like simulated cluster with PodDisruptionBudgets on
// every replicated workload, an invariant checker that audits every pod disruption against the budgets at that
// very moment, and running the root program (rollFromConfig) through the local engine.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { startCluster, SimCluster, StoreEvent } from "../../sim";
import type { PolicyRule } from "../../sim";
import { Prng } from "../../sim/random";
import { BuildContext, buildDaemonSet, buildDeployment, buildNamespace, buildNode, buildPdb, buildPod, buildTemplate } from "../../sim/scenarios/builders";
import { DynamicProviderHost, LocalEngine, REPO_ROOT, RunResult, stackConfig } from "../../local-engine";
import type { RollingNodeUpgradeReport } from "../../components/rolling-node-upgrade";
import { nodeState, type NodeState } from "../helpers/pulumi-sim";
export { nodeState, type NodeState };

export const FROM_VERSION = "v1.28.5";
export const TARGET_VERSION = "v1.28.6";
export const WORKERS = ["w1", "w2", "w3", "w4"];
export const NAMESPACE = "shop";

/** The simulated upgrade, every value from the environment the component sets. */
export const UPGRADE_COMMAND = 'node dist/sim/cli.js upgrade-node --kubeconfig "$SIM_ADMIN_KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"';

/**
 * The cluster: a tainted control-plane node and four workers at v1.28.5, and in namespace "shop":
 *   web    Deployment ×6 (w1 w1 w2 w2 w3 w4)  PDB maxUnavailable 1
 *   api    Deployment ×4 (w1 w2 w3 w4)        PDB minAvailable 3
 *   cache  Deployment ×3 (w1 w2 w3)           PDB minAvailable "60%" (2 of 3)
 *   db     StatefulSet ×3 (db-0 w1, db-1 w2, db-2 w3)  PDB maxUnavailable 1
 *   jobs   Deployment ×2 (w1 w2)              no PDB (paced by workload-aware draining)
 * plus a kube-proxy DaemonSet on every node. Pods stop within 2 s and are Ready 2 s after they start.
 */
export function hardeningScenario(seed: number, nowMs = Date.now()): { kind: "List"; items: any[] } {
    const ctx: BuildContext = { rng: new Prng(seed * 7919 + 11), nowMs };
    const nodes = [
        buildNode(ctx, {
            name: "cp", internalIP: "10.0.0.10", podCIDR: "10.244.0.0/24", version: FROM_VERSION,
            labels: { "node-role.kubernetes.io/control-plane": "" }, taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
        }),
        ...WORKERS.map((name, i) => buildNode(ctx, { name, internalIP: `10.0.0.${11 + i}`, podCIDR: `10.244.${i + 1}.0/24`, version: FROM_VERSION })),
    ];
    const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
    const items: any[] = [...["default", "kube-system", "kube-node-lease", NAMESPACE].map((n) => buildNamespace(ctx, n)), ...nodes];
    const res = { cpu: "100m", memory: "64Mi" };
    const fast = { terminationGracePeriodSeconds: 2 };
    items.push(
        ...buildDaemonSet(ctx, {
            namespace: "kube-system", name: "kube-proxy",
            template: { labels: { "k8s-app": "kube-proxy" }, hostNetwork: true, containers: [{ name: "kube-proxy", image: "registry.k8s.io/kube-proxy:v1.28.5" }], ...fast },
            pods: ["cp", ...WORKERS].map((n) => ({ name: `kube-proxy-${n}`, node: n })),
        }, byName),
    );
    const deployment = (name: string, hash: string, placement: string[]) =>
        buildDeployment(ctx, {
            namespace: NAMESPACE, name, rsHash: hash, replicas: placement.length,
            template: { labels: { app: name }, containers: [{ name, image: `example/${name}:1.0`, ...res }], ...fast },
            pods: placement.map((node, i) => ({ name: `${name}-${hash}-${String.fromCharCode(97 + i)}${ctx.rng.hex(4)}`, node })),
        }, byName);
    items.push(...deployment("web", "6d8f7c9b5", ["w1", "w1", "w2", "w2", "w3", "w4"]));
    items.push(buildPdb(ctx, NAMESPACE, "web", { app: "web" }, { maxUnavailable: 1 }));
    items.push(...deployment("api", "5c7b9d8f6", ["w1", "w2", "w3", "w4"]));
    items.push(buildPdb(ctx, NAMESPACE, "api", { app: "api" }, { minAvailable: 3 }));
    items.push(...deployment("cache", "7f9d6b8c4", ["w1", "w2", "w3"]));
    items.push(buildPdb(ctx, NAMESPACE, "cache", { app: "cache" }, { minAvailable: "60%" }));
    items.push(...deployment("jobs", "4b6c8d7f9", ["w1", "w2"]));

    const dbTemplate = buildTemplate({ labels: { app: "db" }, containers: [{ name: "db", image: "postgres:16", ...res }], ...fast });
    const sts = {
        apiVersion: "apps/v1", kind: "StatefulSet",
        metadata: { name: "db", namespace: NAMESPACE, uid: ctx.rng.uuid(), creationTimestamp: new Date(nowMs - 864e5).toISOString().replace(/\.\d{3}Z$/, "Z"), generation: 1, labels: { app: "db" } },
        spec: { replicas: 3, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: dbTemplate, podManagementPolicy: "Parallel", updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } } },
        status: { replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 1 },
    };
    items.push(sts);
    ["w1", "w2", "w3"].forEach((node, i) =>
        items.push(buildPod(ctx, NAMESPACE, dbTemplate, sts, { name: `db-${i}`, node }, byName.get(node), { "statefulset.kubernetes.io/pod-name": `db-${i}`, "apps.kubernetes.io/pod-index": String(i) })),
    );
    items.push(buildPdb(ctx, NAMESPACE, "db", { app: "db" }, { maxUnavailable: 1 }));
    return { kind: "List", items };
}

export interface HardeningCluster {
    sim: SimCluster;
    dir: string;
    /** The admin kubeconfig (for the simulated upgrade command and the test's own reads). */
    adminKubeconfigPath: string;
    /** What the roll uses: the admin kubeconfig, or the restricted one when rbac was given. */
    kubeconfig: string;
    kubeconfigPath: string;
    invariants: Invariants;
    stop(): Promise<void>;
}

export async function startHardeningCluster(
    opts: { seed: number; timeScale?: number; upgradeDownSeconds?: number; rbac?: { rules: PolicyRule[]; user: string } },
): Promise<HardeningCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-hardening-"));
    const adminKubeconfigPath = path.join(dir, "admin.kubeconfig");
    const sim = await startCluster({
        scenario: hardeningScenario(opts.seed),
        seed: opts.seed,
        timeScale: opts.timeScale ?? 60,
        kubeconfigPath: adminKubeconfigPath,
        upgradeDownSeconds: opts.upgradeDownSeconds ?? 5,
        recordEvents: false,
        rbac: opts.rbac ? { ...opts.rbac, kubeconfigPath: path.join(dir, "restricted.kubeconfig") } : undefined,
    });
    await sim.settle();
    const invariants = new Invariants(sim);
    return {
        sim,
        dir,
        adminKubeconfigPath,
        kubeconfig: sim.rbac?.kubeconfig ?? sim.kubeconfig,
        kubeconfigPath: sim.rbac?.kubeconfigPath ?? adminKubeconfigPath,
        invariants,
        async stop() {
            invariants.stop();
            await sim.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

// ---- invariants -------------------------------------------------------------------------------------------

const isReady = (p: any) => (p?.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
const alive = (p: any) => !!p && !p.metadata?.deletionTimestamp;

function selectorMatches(selector: any, labels: Record<string, string> | undefined): boolean {
    if (!selector) return false; // a null selector matches nothing (policy/v1)
    const l = labels ?? {};
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = e.key in l;
        if (e.operator === "In" && !(has && e.values.includes(l[e.key]))) return false;
        if (e.operator === "NotIn" && has && e.values.includes(l[e.key])) return false;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
    }
    return true;
}

/** An independent reading of a budget (drain-spec §6.1): how many matching pods must stay healthy. */
function desiredHealthy(pdb: any, expected: number, matching: number): number {
    const scaled = (v: number | string, base: number, up: boolean) => {
        if (typeof v === "number") return v;
        const pct = Number(String(v).replace(/%$/, ""));
        return up ? Math.ceil((pct * base) / 100) : Math.floor((pct * base) / 100);
    };
    const s = pdb.spec ?? {};
    if (s.minAvailable !== undefined) return typeof s.minAvailable === "number" ? s.minAvailable : scaled(s.minAvailable, expected, true);
    if (s.maxUnavailable !== undefined) return Math.max(0, expected - (typeof s.maxUnavailable === "number" ? s.maxUnavailable : Math.ceil((Number(String(s.maxUnavailable).replace(/%$/, "")) * expected) / 100)));
    return matching; // neither set: nothing may be disrupted
}

export interface Disruption {
    pod: string;
    node: string;
    /** Budget verdicts at that moment: "ns/pdb healthy=N desired=M". */
    budgets: string[];
}

/**
 * Watches the simulated cluster's store synchronously (every write, as it happens):
 *  - every healthy pod that starts terminating (an accepted eviction) is checked against each budget that
 *    selects it: the healthy pods left must still satisfy the budget at that moment;
 *  - every pod bound to a node is checked: the node must be schedulable (a replacement never lands on the
 *    node being drained).
 */
export class Invariants {
    readonly disruptions: Disruption[] = [];
    readonly violations: string[] = [];
    readonly badBindings: string[] = [];
    private readonly unsubscribe: () => void;

    constructor(private readonly sim: SimCluster) {
        this.unsubscribe = sim.subscribe((e) => this.onEvent(e));
    }

    stop(): void {
        this.unsubscribe();
    }

    private onEvent(e: StoreEvent): void {
        if (e.resource !== "pods" || !e.old) return;
        const before = e.old;
        const now = e.type === "DELETED" ? undefined : e.object;
        if (alive(before) && !alive(now)) this.onDisruption(before);
        if (now && !before.spec?.nodeName && now.spec?.nodeName) {
            const node = this.sim.get("Node", undefined, now.spec.nodeName);
            if (node?.spec?.unschedulable && !isDaemonSetPod(now)) this.badBindings.push(`${now.metadata.namespace}/${now.metadata.name} bound to cordoned node ${now.spec.nodeName}`);
        }
    }

    private onDisruption(pod: any): void {
        const ns = pod.metadata.namespace;
        const d: Disruption = { pod: `${ns}/${pod.metadata.name}`, node: pod.spec?.nodeName ?? "", budgets: [] };
        this.disruptions.push(d);
        if (!isReady(pod)) return; // an unhealthy pod does not count against a budget
        const pods = this.sim.list("Pod", ns);
        const workloads = [...this.sim.list("Deployment", ns), ...this.sim.list("StatefulSet", ns)];
        for (const pdb of this.sim.list("PodDisruptionBudget", ns)) {
            if (!selectorMatches(pdb.spec?.selector, pod.metadata.labels)) continue;
            const matching = pods.filter((p) => selectorMatches(pdb.spec.selector, p.metadata.labels));
            const healthy = matching.filter((p) => alive(p) && isReady(p)).length;
            const expected = workloads
                .filter((w) => selectorMatches(pdb.spec.selector, w.spec?.template?.metadata?.labels))
                .reduce((n, w) => n + (w.spec?.replicas ?? 1), 0);
            const desired = desiredHealthy(pdb, expected, matching.length);
            d.budgets.push(`${ns}/${pdb.metadata.name} healthy=${healthy} desired=${desired}`);
            if (healthy < desired) {
                this.violations.push(`${d.pod} on ${d.node} went away leaving ${healthy} healthy pods of budget ${ns}/${pdb.metadata.name}, which needs ${desired}`);
            }
        }
    }

    /** Replicas missing now: Σ over Deployments and StatefulSets of spec.replicas − Ready pods. */
    missingReplicas(): { total: number; detail: string[] } {
        const detail: string[] = [];
        let total = 0;
        const pods = this.sim.list("Pod", NAMESPACE).filter((p) => alive(p) && isReady(p));
        for (const w of [...this.sim.list("Deployment", NAMESPACE), ...this.sim.list("StatefulSet", NAMESPACE)]) {
            const ready = pods.filter((p) => selectorMatches(w.spec.selector, p.metadata.labels)).length;
            const want = w.spec.replicas ?? 1;
            if (ready < want) {
                total += want - ready;
                detail.push(`${w.kind} ${w.metadata.name}: ${ready}/${want} Ready`);
            }
        }
        return { total, detail };
    }

    /** Waits (simulated time) until every workload has all its replicas Ready; returns how many are missing. */
    async replicasLost(simSeconds = 60): Promise<{ total: number; detail: string[] }> {
        try {
            await this.sim.waitFor(() => this.missingReplicas().total === 0, simSeconds);
        } catch {
            /* report below */
        }
        return this.missingReplicas();
    }
}

const isDaemonSetPod = (p: any) => (p.metadata?.ownerReferences ?? []).some((o: any) => o.kind === "DaemonSet");

// ---- node state -------------------------------------------------------------------------------------------


export const upgraded = (sim: SimCluster, n: string) => {
    const s = nodeState(sim, n);
    return s.kubeletVersion === TARGET_VERSION && s.ready && !s.unschedulable && !s.cordonedByUs;
};

// ---- running the root program -----------------------------------------------------------------------------

type Components = typeof import("../../components");
let components: Components | undefined;

/** Loads the components under mocks (once per process), as the root program would be loaded. */
export async function loadComponents(): Promise<Components> {
    if (!components) {
        await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, "node-upgrade", "test");
        components = await import("../../components");
    }
    return components;
}

/** Stack configuration for a roll of `nodes` against the cluster (values override the defaults here). */
export function rollConfig(cluster: HardeningCluster, values: Record<string, unknown> = {}): Record<string, string> {
    return stackConfig({
        kubeconfig: cluster.kubeconfig,
        nodes: ["w1", "w2"],
        targetVersion: TARGET_VERSION,
        upgradeCommand: UPGRADE_COMMAND,
        upgradeEnvironment: [`SIM_ADMIN_KUBECONFIG=${cluster.adminKubeconfigPath}`],
        drainIgnoreDaemonSets: true,
        drainDeleteEmptyDirData: true,
        drainTimeout: "40s",
        readyTimeout: "30s",
        readyPollInterval: "100ms",
        ...values,
    });
}

export function newEngine(host: DynamicProviderHost): LocalEngine {
    return new LocalEngine(host, { cwd: REPO_ROOT });
}

export async function runRoll(engine: LocalEngine, config: Record<string, string>, secretKeys = ["kubeconfig"]): Promise<RunResult<RollingNodeUpgradeReport>> {
    const c = await loadComponents();
    return engine.run(() => c.rollFromConfig().report, { config, secretKeys });
}

export { DynamicProviderHost, LocalEngine, REPO_ROOT };
