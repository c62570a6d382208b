// Snapshot files for the rehearsal tests, written as `kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json`
// would print them: a simulated cluster of one of the simulator's scenarios, dumped through its list API.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCluster, type StartClusterOptions } from "../../sim";
import { snapshotListOf } from "../../rehearse";

export type SnapshotList = ReturnType<typeof snapshotListOf>;

/** The objects of a scenario once its controllers have settled. */
export async function scenarioSnapshot(
    scenario: StartClusterOptions["scenario"],
    o: Partial<StartClusterOptions> = {},
): Promise<SnapshotList> {
    const cluster = await startCluster({ scenario, recordEvents: false, ...o });
    try {
        await cluster.settle();
        return snapshotListOf(cluster);
    } finally {
        await cluster.stop();
    }
}

/** Every pod template and pod of the list gets this grace period. */
export function setGracePeriod(list: SnapshotList, seconds: number): void {
    for (const o of list.items) {
        if (o.kind === "Pod") o.spec.terminationGracePeriodSeconds = seconds;
        else if (o.spec?.template?.spec) o.spec.template.spec.terminationGracePeriodSeconds = seconds;
    }
}

/** A PodDisruptionBudget as `kubectl get pdb -o json` lists it (its status is the simulator's to compute). */
export function addPdb(list: SnapshotList, namespace: string, name: string, matchLabels: Record<string, string>, rule: object): void {
    list.items.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace, uid: `pdb-${namespace}-${name}`, generation: 1 },
        spec: { selector: { matchLabels }, ...rule },
    });
}

/** A readiness probe with this initial delay on the first container of a Deployment's template and its ReplicaSets'. */
export function addReadinessProbe(list: SnapshotList, namespace: string, deployment: string, initialDelaySeconds: number): void {
    for (const o of list.items) {
        const owned =
            (o.kind === "Deployment" && o.metadata.name === deployment) ||
            (o.kind === "ReplicaSet" &&
                (o.metadata.ownerReferences ?? []).some((r: any) => r.kind === "Deployment" && r.name === deployment));
        if (!owned || o.metadata.namespace !== namespace) continue;
        o.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: "/", port: 8080 }, initialDelaySeconds, periodSeconds: 10 };
    }
}

/** A temporary directory for snapshot files, removed by `cleanup`. */
export function snapshotDir(): { dir: string; file(name: string, list: SnapshotList): string; cleanup(): void } {
    const dir = mkdtempSync(join(tmpdir(), "rehearse-"));
    return {
        dir,
        file(name, list) {
            const path = join(dir, name);
            writeFileSync(path, JSON.stringify(list));
            return path;
        },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
}
