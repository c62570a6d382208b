// Shared pieces of the hardening suites: a small production-like simulated cluster with PodDisruptionBudgets on
// every replicated workload, an invariant checker that audits every pod disruption against the budgets at that
// very moment, and running the root program (rollFromConfig) through the local engine.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCluster, SimCluster, type PolicyRule } from "../../sim";
import { Prng } from "../../sim/random";
import { BuildContext, buildBaseCluster, buildDeployment, buildPdb, buildStatefulSet } from "../../sim/scenarios/builders";
import { DynamicProviderHost, LocalEngine, REPO_ROOT, RunResult, stackConfig } from "../../local-engine";
import type { RollingNodeUpgradeReport } from "../../components/rolling-node-upgrade";
import { nodeState, type NodeState } from "../helpers/pulumi-sim";
import { loadComponents } from "../helpers/components";
import { BudgetInvariants, type Disruption } from "../helpers/budget-invariants";
export { nodeState, type NodeState };

export const FROM_VERSION = "v1.28.5";
export const TARGET_VERSION = "v1.28.6";
export const WORKERS = ["w1", "w2", "w3", "w4"];
export const NAMESPACE = "shop";

/** The simulated upgrade, every value from the environment the component sets. */
export const UPGRADE_COMMAND =
    'node dist/sim/cli.js upgrade-node --kubeconfig "$SIM_ADMIN_KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"';

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
    const res = { cpu: "100m", memory: "64Mi" };
    const fast = { terminationGracePeriodSeconds: 2 };
    const { items, nodes: byName } = buildBaseCluster(
        ctx,
        [
            {
                name: "cp",
                internalIP: "10.0.0.10",
                podCIDR: "10.244.0.0/24",
                version: FROM_VERSION,
                labels: { "node-role.kubernetes.io/control-plane": "" },
                taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
            },
            ...WORKERS.map((name, i) => ({ name, internalIP: `10.0.0.${11 + i}`, podCIDR: `10.244.${i + 1}.0/24`, version: FROM_VERSION })),
        ],
        {
            namespaces: ["default", "kube-system", "kube-node-lease", NAMESPACE],
            kubeProxy: { image: "registry.k8s.io/kube-proxy:v1.28.5", ...fast },
        },
    );
    const deployment = (name: string, hash: string, placement: string[]) =>
        buildDeployment(
            ctx,
            {
                namespace: NAMESPACE,
                name,
                rsHash: hash,
                replicas: placement.length,
                template: { labels: { app: name }, containers: [{ name, image: `example/${name}:1.0`, ...res }], ...fast },
                pods: placement.map((node, i) => ({ name: `${name}-${hash}-${String.fromCharCode(97 + i)}${ctx.rng.hex(4)}`, node })),
            },
            byName,
        );
    items.push(...deployment("web", "6d8f7c9b5", ["w1", "w1", "w2", "w2", "w3", "w4"]));
    items.push(buildPdb(ctx, NAMESPACE, "web", { app: "web" }, { maxUnavailable: 1 }));
    items.push(...deployment("api", "5c7b9d8f6", ["w1", "w2", "w3", "w4"]));
    items.push(buildPdb(ctx, NAMESPACE, "api", { app: "api" }, { minAvailable: 3 }));
    items.push(...deployment("cache", "7f9d6b8c4", ["w1", "w2", "w3"]));
    items.push(buildPdb(ctx, NAMESPACE, "cache", { app: "cache" }, { minAvailable: "60%" }));
    items.push(...deployment("jobs", "4b6c8d7f9", ["w1", "w2"]));

    items.push(
        ...buildStatefulSet(
            ctx,
            {
                namespace: NAMESPACE,
                name: "db",
                ageMs: 864e5,
                podManagementPolicy: "Parallel",
                template: { labels: { app: "db" }, containers: [{ name: "db", image: "postgres:16", ...res }], ...fast },
                pods: ["w1", "w2", "w3"].map((node) => ({ node })),
            },
            byName,
        ),
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

export async function startHardeningCluster(opts: {
    seed: number;
    timeScale?: number;
    upgradeDownSeconds?: number;
    rbac?: { rules: PolicyRule[]; user: string };
}): Promise<HardeningCluster> {
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

/**
 * The exact budget audit (tests/helpers/budget-invariants.ts: every store change, every budget it can affect),
 * for the hardening cluster: replicas are counted in namespace "shop".
 */
export class Invariants extends BudgetInvariants {
    /** Replicas missing now: Σ over Deployments and StatefulSets of spec.replicas − Ready pods. */
    missingReplicas(namespace = NAMESPACE): { total: number; detail: string[] } {
        return super.missingReplicas(namespace);
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

export type { Disruption };

// ---- node state -------------------------------------------------------------------------------------------

export const upgraded = (sim: SimCluster, n: string) => {
    const s = nodeState(sim, n);
    return s.kubeletVersion === TARGET_VERSION && s.ready && !s.unschedulable && !s.cordonedByUs;
};

// ---- running the root program -----------------------------------------------------------------------------

export { loadComponents };

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

export async function runRoll(
    engine: LocalEngine,
    config: Record<string, string>,
    secretKeys = ["kubeconfig"],
): Promise<RunResult<RollingNodeUpgradeReport>> {
    const c = await loadComponents();
    return engine.run(() => c.rollFromConfig().report, { config, secretKeys });
}

export { DynamicProviderHost, LocalEngine, REPO_ROOT };
