// Starting the simulated cluster for the Pulumi-layer tests, and reading what happened to it.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCluster, SimCluster } from "../../sim";
import { stackConfig } from "../../local-engine";

/** Simulated seconds per real second in these tests: fast enough for the suite, slow enough to sample. */
export const TIME_SCALE = 30;

export interface TestCluster {
    sim: SimCluster;
    kubeconfig: string;
    kubeconfigPath: string;
    dir: string;
    stop(): Promise<void>;
}

export async function startTestCluster(
    scenario: "seed" | "pdb",
    opts: { timeScale?: number; upgradeDownSeconds?: number } = {},
): Promise<TestCluster> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `node-upgrade-${scenario}-`));
    const kubeconfigPath = path.join(dir, "kubeconfig");
    const sim = await startCluster({
        scenario,
        timeScale: opts.timeScale ?? TIME_SCALE,
        kubeconfigPath,
        upgradeDownSeconds: opts.upgradeDownSeconds,
    });
    return {
        sim,
        kubeconfig: sim.kubeconfig,
        kubeconfigPath,
        dir,
        async stop() {
            await sim.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Requests that change something (anything but GET/LIST/WATCH), as "METHOD path". */
export function writeRequests(sim: SimCluster): string[] {
    return sim
        .requestLog()
        .filter((r) => r.method !== "GET" && r.method !== "HEAD")
        .map((r) => `${r.method} ${r.path}`);
}

export interface NodeState {
    unschedulable: boolean;
    ready: boolean;
    kubeletVersion: string;
    cordonedByUs: boolean;
}

export function nodeState(sim: SimCluster, name: string): NodeState {
    const n = sim.get("Node", undefined, name);
    return {
        unschedulable: !!n?.spec?.unschedulable,
        ready: (n?.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"),
        kubeletVersion: n?.status?.nodeInfo?.kubeletVersion ?? "",
        cordonedByUs: n?.metadata?.annotations?.["node-upgrade.pulumi.com/cordoned-by"] !== undefined,
    };
}

/** Ready pods of a Deployment (by app label prefix of the pod name). */
export function readyPods(sim: SimCluster, namespace: string, namePrefix: string): number {
    return sim
        .list("Pod", namespace)
        .filter((p) => p.metadata?.name?.startsWith(namePrefix) && !p.metadata?.deletionTimestamp)
        .filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True")).length;
}

/** Calls `sample` every `ms` until stopped; returns the stop function. */
export function sampleEvery(ms: number, sample: () => void): () => void {
    sample();
    const timer = setInterval(sample, ms);
    return () => {
        clearInterval(timer);
        sample();
    };
}

/** The simulated upgrade a roll runs on the test cluster's "nodes": every value comes from the environment. */
export const SIM_UPGRADE_COMMAND =
    'node dist/sim/cli.js upgrade-node --kubeconfig "$KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"';

/**
 * The root program's stack configuration for a roll of `cluster`: the simulated upgrade, drain flags for the seed's
 * DaemonSet and emptyDir pods, one-minute timeouts and quick Ready polls; `values` add to it or override it.
 */
export function simStackConfig(cluster: TestCluster, values: Record<string, unknown> = {}): ReturnType<typeof stackConfig> {
    return stackConfig({
        kubeconfig: cluster.kubeconfig,
        upgradeCommand: SIM_UPGRADE_COMMAND,
        upgradeEnvironment: [`KUBECONFIG=${cluster.kubeconfigPath}`],
        drainIgnoreDaemonSets: true,
        drainDeleteEmptyDirData: true,
        drainTimeout: "60s",
        readyTimeout: "60s",
        readyPollInterval: "100ms",
        ...values,
    });
}
