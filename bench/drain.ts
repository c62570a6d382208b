// npm run bench:drain — `kubectl drain` vs `node-upgrade drain`, whole processes, on fresh identical simulated
// clusters at time scale 1 (simulated seconds are real seconds, so waiting strategies compare honestly).
//
//  (a) 100 unconstrained pods on the node (grace period 2 s);
//  (b) a 10-replica Deployment with a maxUnavailable=1 PodDisruptionBudget, 6 replicas on the node,
//      replacement pods Ready 1 s after they start (grace period 1 s).
//
// For each run: wall time of the process, and the overhead after the last pod was really removed (the moment
// the simulator deleted the last evicted pod, seen through a watch, to the process exit). Medians over RUNS.
import { Watch, type KubeConfig } from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { loadKubeConfig } from "../drain/kube-client";
import { startCluster, type SimCluster } from "../sim";
import { buildDeployment, buildPdb } from "../sim/scenarios/builders";
import { cluster } from "../tests/drain/fixtures";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const KUBECTL_PARALLEL = Number(process.env.BENCH_KUBECTL_PARALLEL ?? 2);
const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const NODE_UPGRADE = path.resolve(__dirname, "../cli/main.js");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "bench-drain-"));

interface Case {
    key: string;
    title: string;
    scenario: () => { kind: "List"; items: any[] };
    startupDelaySeconds: number;
    node: string;
    flags: string[];
    /** node-upgrade must take at most this fraction of kubectl's time. */
    target: number;
}

/** The drain tests' base cluster (Ready workers, a kube-proxy DaemonSet pod on each), with seed 99. */
function baseCluster(nodeNames: string[]) {
    const { ctx, nodes, items } = cluster(nodeNames, 99);
    return { ctx, byName: nodes, items };
}

const cases: Case[] = [
    {
        key: "a",
        title: "(a) 100 unconstrained pods",
        node: "w1",
        flags: ["--ignore-daemonsets", "--timeout=5m"],
        startupDelaySeconds: 1,
        target: 1.0,
        scenario: () => {
            const { ctx, byName, items } = baseCluster(["w1", "w2", "w3"]);
            items.push(
                ...buildDeployment(
                    ctx,
                    {
                        namespace: "default",
                        name: "bulk",
                        rsHash: "6d4f8b7c9",
                        template: {
                            labels: { app: "bulk" },
                            terminationGracePeriodSeconds: 2,
                            containers: [{ name: "app", image: "nginx:1.25", cpu: "1m", memory: "1Mi" }],
                        },
                        pods: Array.from({ length: 100 }, (_, i) => ({ name: `bulk-6d4f8b7c9-${String(i).padStart(3, "0")}`, node: "w1" })),
                    },
                    byName,
                ),
            );
            return { kind: "List", items };
        },
    },
    {
        key: "b",
        title: "(b) 6 of 10 replicas, PDB maxUnavailable=1",
        node: "w1",
        flags: ["--ignore-daemonsets", "--timeout=5m"],
        startupDelaySeconds: 1,
        target: 0.5,
        scenario: () => {
            const { ctx, byName, items } = baseCluster(["w1", "w2", "w3", "w4"]);
            const placement = ["w1", "w1", "w1", "w1", "w1", "w1", "w2", "w3", "w4", "w2"];
            items.push(
                ...buildDeployment(
                    ctx,
                    {
                        namespace: "default",
                        name: "web",
                        rsHash: "5c9d7b8f6",
                        template: {
                            labels: { app: "web" },
                            terminationGracePeriodSeconds: 1,
                            containers: [{ name: "web", image: "nginx:1.25", cpu: "1m", memory: "1Mi" }],
                        },
                        pods: placement.map((node, i) => ({ name: `web-5c9d7b8f6-${i}`, node })),
                    },
                    byName,
                ),
            );
            items.push(buildPdb(ctx, "default", "web-pdb", { app: "web" }, { maxUnavailable: 1 }));
            return { kind: "List", items };
        },
    },
];

interface Run {
    ms: number;
    /** ms from the last removal of an evicted pod to process exit */
    overheadMs: number;
    code: number | null;
}

/** Records the time each pod on the node is deleted, through a watch (client-node, in this process). */
async function recordRemovals(kc: KubeConfig, node: string): Promise<{ last(): number; count(): number; stop(): void }> {
    let last = 0;
    let count = 0;
    const controller = await new Watch(kc).watch(
        "/api/v1/pods",
        { fieldSelector: `spec.nodeName=${node}` },
        (type: string) => {
            if (type === "DELETED") {
                last = Date.now();
                count++;
            }
        },
        () => undefined,
    );
    return { last: () => last, count: () => count, stop: () => controller.abort() };
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; exitedAt: number; ms: number; out: string }> {
    return new Promise((resolve, reject) => {
        const started = Date.now();
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, exitedAt: Date.now(), ms: Date.now() - started, out }));
    });
}

async function once(c: Case, tool: "kubectl" | "node-upgrade", n: number): Promise<Run> {
    const kubeconfigPath = path.join(TMP, `kc-${c.key}-${tool}-${n}`);
    const sim: SimCluster = await startCluster({
        scenario: c.scenario(),
        timeScale: 1,
        kubeconfigPath,
        startupDelaySeconds: c.startupDelaySeconds,
        recordEvents: false,
    });
    try {
        await sim.settle();
        const kc = loadKubeConfig({ kubeconfig: sim.kubeconfig });
        const removals = await recordRemovals(kc, c.node);
        const args = ["drain", c.node, ...c.flags, `--kubeconfig=${kubeconfigPath}`];
        const r =
            tool === "kubectl"
                ? await run(KUBECTL, [...args, `--cache-dir=${path.join(TMP, `cache-${c.key}-${n}`)}`])
                : await run(process.execPath, [NODE_UPGRADE, ...args]);
        await new Promise((res) => setTimeout(res, 50));
        removals.stop();
        if (r.code !== 0) throw new Error(`${tool} failed (${r.code}):\n${r.out}`);
        return { ms: r.ms, overheadMs: removals.last() ? r.exitedAt - removals.last() : NaN, code: r.code };
    } finally {
        await sim.stop();
    }
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sec = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

async function main() {
    if (!fs.existsSync(KUBECTL)) {
        console.error(`kubectl not found at ${KUBECTL}; set KUBECTL=...`);
        process.exit(2);
    }
    const t0 = Date.now();
    const rows: string[][] = [];
    const verdicts: string[] = [];
    for (const c of cases) {
        // Two lanes run side by side, each run on its own fresh simulated cluster: node-upgrade runs one at a time;
        // kubectl, whose wall time is almost all sleeping (5 s retries, 1 s polls, client-side throttling), runs two
        // at a time so the whole bench stays within a few minutes. Both lanes use little CPU.
        const laneU = (async () => {
            const out: Run[] = [];
            for (let i = 0; i < RUNS; i++) out.push(await once(c, "node-upgrade", i));
            return out;
        })();
        const laneK = (async () => {
            const out: Run[] = [];
            for (let i = 0; i < RUNS; i += KUBECTL_PARALLEL) {
                const batch = Array.from({ length: Math.min(KUBECTL_PARALLEL, RUNS - i) }, (_, j) => once(c, "kubectl", i + j));
                out.push(...(await Promise.all(batch)));
            }
            return out;
        })();
        const [k, u] = await Promise.all([laneK, laneU]);
        process.stderr.write(
            `  ${c.title}: kubectl runs ${k.map((r) => sec(r.ms)).join(" ")}; node-upgrade runs ${u.map((r) => sec(r.ms)).join(" ")}\n`,
        );
        const km = median(k.map((r) => r.ms));
        const um = median(u.map((r) => r.ms));
        const ratio = um / km;
        rows.push([
            c.title,
            sec(km),
            sec(um),
            `${ratio.toFixed(2)}x`,
            sec(median(k.map((r) => r.overheadMs))),
            sec(median(u.map((r) => r.overheadMs))),
        ]);
        verdicts.push(
            `${c.title}: node-upgrade takes ${ratio.toFixed(2)}x kubectl's time (target <= ${c.target.toFixed(1)}x): ${ratio <= c.target ? "PASS" : "FAIL"}`,
        );
    }
    const header = ["case", "kubectl", "node-upgrade", "ratio", "kubectl after last removal", "node-upgrade after last removal"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    console.log(`\ndrain benchmark: medians of ${RUNS} runs, wall time of whole processes, time scale 1\n`);
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const r of rows) console.log(line(r));
    console.log("");
    for (const v of verdicts) console.log(v);
    console.log(`\n(total bench time ${sec(Date.now() - t0)})`);
    process.exit(verdicts.every((v) => v.endsWith("PASS")) ? 0 : 1);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
