// npm run bench:rehearse — how long `node-upgrade rehearse` takes, in real time, for a 100-node, 3,000-pod
// cluster (the simulator's "large" scenario: a kube-proxy DaemonSet pod and 29 pods of 10-replica Deployments on
// every node, every 4th Deployment with a maxUnavailable-1 budget, every 10th with an emptyDir), written out as
// `kubectl get … -o json` would. Target: ≤ 60 s real (issue 13). What favours us: the rehearsal skips the
// simulated clock over every wait (nothing in flight, every controller idle), so the figure is CPU time of the
// drain engine and the simulated controllers, not the predicted roll's length.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { rehearse, snapshotListOf } from "../rehearse";
import { startCluster } from "../sim";

const NODES = Number(process.env.BENCH_NODES ?? 100);
const PODS_PER_NODE = 30;
const TARGET_SECONDS = 60;

async function main(): Promise<number> {
    const cluster = await startCluster({ scenario: "large", nodes: NODES, podsPerNode: PODS_PER_NODE, recordEvents: false });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rehearse-"));
    const file = path.join(dir, "large.json");
    try {
        await cluster.settle();
        fs.writeFileSync(file, JSON.stringify(snapshotListOf(cluster)));
    } finally {
        await cluster.stop();
    }
    const start = performance.now();
    const cpu = process.cpuUsage();
    const r = await rehearse({
        snapshot: file,
        targetVersion: "v1.29.0",
        all: true,
        drain: { ignoreDaemonSets: true, deleteEmptyDirData: true },
    });
    const real = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`rehearse: ${NODES} nodes, ${r.simulation.pods} pods (one process, ${os.cpus().length} cores)`);
    console.log(`  real_s=${real.toFixed(1)} cpu_s=${((used.user + used.system) / 1e6).toFixed(1)} clock_jumps=${r.simulation.jumps}`);
    console.log(
        `  predicted roll ${r.totalSeconds.toFixed(0)} s; completed=${r.completed}; nodes rolled ${r.nodes.filter((n) => n.status === "done").length}`,
    );
    const ok = r.completed && real <= TARGET_SECONDS;
    console.log(
        `${ok ? "PASS" : "FAIL"}  ${NODES}-node rehearsal in ${real.toFixed(1)} s real (target <= ${TARGET_SECONDS} s), every node rolled`,
    );
    return ok ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
