// How good is the prediction? The rehearsal (its clock fast-forwarded over waits) against the same roll done
// the plain way: a simulated cluster from the same snapshot at time scale 2, rolled step by step with the drain
// engine (cordon, drain, the upgrade, waitForNode, uncordon), timed by the wall clock. The snapshot is the seed
// cluster with a PodDisruptionBudget on http-go and 5 s grace periods, so that drains wait on the budget, on
// pacing and on pods going away, and the reference roll stays short (about 35 s of real time).
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { startCluster } from "../../sim";
import { cordon, drain, loadKubeConfig, uncordon, waitForNode } from "../../drain";
import { rehearse, type RehearsalReport } from "../../rehearse";
import { addPdb, scenarioSnapshot, setGracePeriod, snapshotDir } from "./snapshots";

const TARGET = "v1.20.0";
// The upgrade command returns at once (as the demo's `sim upgrade-node` does); the kubelet restarts for 10 s.
const UPGRADE_SECONDS = 0;
const RESTART_SECONDS = 10;
const REFERENCE_TIME_SCALE = 2;
const DRAIN = { ignoreDaemonSets: true, deleteEmptyDirData: true };

/** The roll done the plain way; returns its duration and each drain's, in simulated (= predicted real) seconds. */
async function referenceRoll(file: string, batches: string[][]): Promise<{ total: number; drains: Map<string, number> }> {
    const cluster = await startCluster({ scenario: file, timeScale: REFERENCE_TIME_SCALE, recordEvents: false });
    const kc = loadKubeConfig({ kubeconfig: cluster.kubeconfig });
    const simSeconds = (realMs: number) => (realMs / 1000) * REFERENCE_TIME_SCALE;
    const drains = new Map<string, number>();
    try {
        await cluster.settle();
        const start = performance.now();
        for (const batch of batches) {
            await Promise.all(
                batch.map(async (node) => {
                    await cordon(kc, node);
                    const drainStart = performance.now();
                    // The components' drain settings: pacing 1, a 10 m limit.
                    await drain(kc, node, { ...DRAIN, maxUnavailablePerWorkload: 1, timeoutSeconds: 600 / REFERENCE_TIME_SCALE });
                    drains.set(node, simSeconds(performance.now() - drainStart));
                    // The upgrade: the kubelet restarts at the target.
                    await cluster.upgradeNode(node, TARGET, { downSeconds: RESTART_SECONDS });
                    await waitForNode(kc, node, { kubeletVersion: TARGET });
                    await uncordon(kc, node, { onlyIfCordonedByUs: true });
                }),
            );
        }
        return { total: simSeconds(performance.now() - start), drains };
    } finally {
        await cluster.stop();
    }
}

describe("rehearse: prediction against a roll at time scale 2", function () {
    this.timeout(180_000);
    const files = snapshotDir();
    after(() => files.cleanup());

    it("predicts the roll's total time within 10%, and each drain within 15%", async () => {
        const list = await scenarioSnapshot("seed");
        setGracePeriod(list, 5);
        addPdb(list, "default", "http-go-pdb", { app: "http-go" }, { minAvailable: 9 });
        const file = files.file("seed-pdb.json", list);

        const realStart = performance.now();
        const predicted: RehearsalReport = await rehearse({
            snapshot: file,
            targetVersion: TARGET,
            all: true,
            drain: DRAIN,
            upgradeSeconds: UPGRADE_SECONDS,
            restartSeconds: RESTART_SECONDS,
        });
        const rehearsalReal = (performance.now() - realStart) / 1000;
        assert.equal(predicted.completed, true);

        const reference = await referenceRoll(file, predicted.batches);
        const error = (predicted.totalSeconds - reference.total) / reference.total;
        const lines = [
            `predicted ${predicted.totalSeconds.toFixed(1)}s (rehearsed in ${rehearsalReal.toFixed(1)}s real), ` +
                `reference roll ${reference.total.toFixed(1)}s (time scale ${REFERENCE_TIME_SCALE}): error ${(error * 100).toFixed(1)}%`,
            ...predicted.nodes.map(
                (n) => `  ${n.node}: drain predicted ${n.drainSeconds}s, reference ${reference.drains.get(n.node)?.toFixed(1)}s`,
            ),
        ];
        console.log(lines.join("\n"));
        assert.ok(Math.abs(error) <= 0.1, lines.join("\n"));
        for (const n of predicted.nodes) {
            const ref = reference.drains.get(n.node)!;
            assert.ok(Math.abs(n.drainSeconds! - ref) <= Math.max(0.15 * ref, 1.5), lines.join("\n"));
        }
        // The budget paced worker1's drain in both.
        assert.ok(
            predicted.nodes.find((n) => n.node === "worker1")!.waitedOn.some((w) => w.name === "PodDisruptionBudget default/http-go-pdb"),
        );
    });
});
