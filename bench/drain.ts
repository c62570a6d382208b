// npm run bench:drain — `kubectl drain` vs `node-upgrade drain` as whole processes.
//
// Each run drains node w1 of a fresh simulated cluster started from the same scenario file, in its own process
// (`node dist/sim/cli.js --time-scale 1`: simulated seconds are real seconds, so waiting strategies compare
// honestly). Only one tool runs at a time, never overlapping; the order alternates per run so neither tool
// benefits from going first. This process only spawns the tool and observes: watches (pods deleted, budgets'
// disruptionsAllowed) and, afterwards, the server's request log (GET /sim/v1/requests).
//
//  (a) 100 unconstrained pods (grace period 2 s). kubectl's time here is its CLIENT-SIDE RATE LIMIT (client-go's
//      default QPS 5, burst 10: after the first 10 requests at most 5/s, its 1 s GET polls of evicted pods drawing
//      from the same budget), which node-upgrade does not have: this case favours us and says nothing about
//      waiting strategies. Reported with the eviction request rate each tool reached (server side).
//  (b) 6 of a 10-replica Deployment's pods, a maxUnavailable=1 PodDisruptionBudget, replacements Ready 1 s after
//      they start (grace period 1 s): paced by the budget, this measures how each tool waits.
//
// Per tool: wall time (median, min, max), eviction requests (sent, admitted) and their rate, and REACTION LATENCY,
// the waiting strategy alone: from the budget starting to allow a disruption (disruptionsAllowed 0 → >0, seen by
// the bench's watch) to the server receiving the tool's next eviction request, and from the last pod gone (its
// DELETED event, seen by the watch) to the process exit. Both start from a watch sighting, late by the watch
// delivery delay, so both tools' latencies are under-stated by that same amount (printed).
// Targets (exit 1 on a miss, or when a tool fails to drain): in (b) node-upgrade's median wall time at most half
// kubectl's; node-upgrade's median reaction latencies at most 50 ms.
//   BENCH_RUNS=1 npm run bench:drain   (quick mode; default 5 runs per tool and case)   KUBECTL=... (default /usr/bin/kubectl)
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { budgetScenario, unconstrainedScenario, writeScenario } from "./drain-scenarios";
import { startSimProcess } from "./sim-process";
import { observe, type Observed } from "./drain-observer";
import { budgetTimings, evictionRequests, median, p90, requestRate } from "./drain-metrics";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
const NODE_UPGRADE = path.resolve(__dirname, "../cli/main.js");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "bench-drain-"));
const REACTION_TARGET_MS = 50;
const TOOLS = ["kubectl", "node-upgrade"] as const;
type Tool = (typeof TOOLS)[number];

interface Case {
    key: string;
    title: string;
    scenario: () => { kind: "List"; items: any[] };
    /** pods the drain removes from w1 (all but the DaemonSet's) */
    pods: number;
    budgets: boolean;
    /** node-upgrade's median wall time at most this fraction of kubectl's (only where that measures us) */
    wallTarget?: number;
    note: string;
}

const NODE = "w1";
const FLAGS = ["--ignore-daemonsets", "--timeout=5m"];
const STARTUP_DELAY_SECONDS = 1;

const cases: Case[] = [
    {
        key: "a",
        title: "(a) 100 unconstrained pods",
        scenario: unconstrainedScenario,
        pods: 100,
        budgets: false,
        note:
            "note: (a) measures kubectl's CLIENT-SIDE RATE LIMIT (client-go default QPS 5, burst 10: at most ~5 requests/s after the\n" +
            "      first 10, its 1 s GET polls of evicted pods included), which favours node-upgrade (no client-side limit, up to 50\n" +
            "      requests in flight); it says nothing about waiting strategies, hence no wall-time target.",
    },
    {
        key: "b",
        title: "(b) 6 of 10 replicas, PDB maxUnavailable=1",
        scenario: budgetScenario,
        pods: 6,
        budgets: true,
        wallTarget: 0.5,
        note:
            "note: (b) is paced by the budget: kubectl retries a refused eviction every 5 s, node-upgrade watches the budget;\n" +
            "      evictions/s here mostly counts refused retries.",
    },
];

interface Run {
    tool: Tool;
    failed?: string;
    wallMs: number;
    sent: number;
    admitted: number;
    rate: number;
    exitReactionMs: number;
    budgetReactionsMs: number[];
    watchDelaysMs: number[];
}

function runProcess(cmd: string, args: string[]): Promise<{ code: number | null; startedAt: number; exitedAt: number; out: string }> {
    return new Promise((resolve, reject) => {
        const startedAt = Date.now();
        let exitedAt = 0;
        let out = "";
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("exit", () => (exitedAt = Date.now()));
        child.on("close", (code) => resolve({ code, startedAt, exitedAt, out }));
    });
}

async function once(c: Case, tool: Tool, scenarioFile: string, n: number): Promise<Run> {
    const kubeconfigPath = path.join(TMP, `kc-${c.key}-${tool}-${n}`);
    const sim = await startSimProcess({ scenarioFile, kubeconfigPath, startupDelaySeconds: STARTUP_DELAY_SECONDS });
    try {
        const obs = await observe(sim.kc, NODE, c.budgets);
        try {
            const args = ["drain", NODE, ...FLAGS, `--kubeconfig=${kubeconfigPath}`];
            const r =
                tool === "kubectl"
                    ? await runProcess(KUBECTL, [...args, `--cache-dir=${path.join(TMP, `cache-${c.key}-${n}`)}`])
                    : await runProcess(process.execPath, [NODE_UPGRADE, ...args]);
            const wallMs = r.exitedAt - r.startedAt;
            const empty = { tool, wallMs, sent: 0, admitted: 0, rate: NaN, exitReactionMs: NaN, budgetReactionsMs: [], watchDelaysMs: [] };
            if (r.code !== 0) return { ...empty, failed: `exit code ${r.code}:\n${r.out}` };
            // the bench's watches may trail the tool's: wait until they have seen every deletion
            await obs.until((o) => o.deletedAt.length >= c.pods, 10_000, `${c.pods} pod deletions on ${NODE}`);
            const evictions = evictionRequests(await sim.requestLog());
            const admitted = evictions.filter((e) => e.status === 201);
            const run: Run = {
                ...empty,
                sent: evictions.length,
                admitted: admitted.length,
                rate: requestRate(evictions),
                exitReactionMs: r.exitedAt - Math.max(...obs.observed.deletedAt),
            };
            if (c.budgets) {
                const [budget, ...more] = [...obs.observed.budgets.keys()];
                if (more.length) throw new Error("reaction latencies assume a single budget");
                const samples = (o: Observed) => o.budgets.get(budget) ?? [];
                await obs.until(
                    (o) => budgetTimings(samples(o), admitted).consumed >= admitted.length,
                    10_000,
                    "every admitted eviction's budget drop",
                );
                const t = budgetTimings(samples(obs.observed), admitted);
                run.budgetReactionsMs = t.reactions;
                run.watchDelaysMs = t.watchDelays;
            }
            return run;
        } finally {
            obs.stop();
        }
    } finally {
        await sim.stop();
    }
}

const sec = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)}s` : "-");
const msec = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)}ms` : "-");
const medP90 = (xs: number[]) => (xs.length ? `${msec(median(xs))} / ${msec(p90(xs))}` : "-");

function table(header: string[], rows: string[][]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join("  ");
    return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main() {
    if (!fs.existsSync(KUBECTL)) {
        console.error(`kubectl not found at ${KUBECTL}; set KUBECTL=...`);
        process.exit(2);
    }
    const t0 = Date.now();
    const report: string[] = [];
    const verdicts: { text: string; pass: boolean }[] = [];
    const failures: string[] = [];
    const allWatchDelays: number[] = [];
    for (const c of cases) {
        const scenarioFile = writeScenario(path.join(TMP, `scenario-${c.key}.json`), c.scenario());
        const runs: Record<Tool, Run[]> = { kubectl: [], "node-upgrade": [] };
        for (let i = 0; i < RUNS; i++) {
            // one tool at a time; who goes first alternates
            for (const tool of i % 2 ? [...TOOLS].reverse() : TOOLS) {
                const r = await once(c, tool, scenarioFile, i);
                process.stderr.write(`  ${c.title} run ${i + 1}/${RUNS} ${tool}: ${r.failed ? "FAILED" : sec(r.wallMs)}\n`);
                if (r.failed) failures.push(`${c.title}, ${tool}, run ${i + 1}: ${r.failed}`);
                else runs[tool].push(r);
                allWatchDelays.push(...r.watchDelaysMs);
            }
        }
        const rows = TOOLS.map((tool) => {
            const rs = runs[tool];
            const walls = rs.map((r) => r.wallMs);
            return [
                tool,
                `${rs.length}/${RUNS}`,
                sec(median(walls)),
                `${sec(Math.min(...walls))}..${sec(Math.max(...walls))}`,
                rs.length ? `${median(rs.map((r) => r.sent))} / ${median(rs.map((r) => r.admitted))}` : "-",
                Number.isFinite(median(rs.map((r) => r.rate))) ? median(rs.map((r) => r.rate)).toFixed(1) : "-",
                c.budgets ? medP90(rs.flatMap((r) => r.budgetReactionsMs)) : "n/a",
                medP90(rs.map((r) => r.exitReactionMs)),
            ];
        });
        const header = [
            "tool",
            "ok",
            "wall median",
            "min..max",
            "evictions sent / admitted",
            "evictions/s",
            "budget open→eviction med / p90",
            "last pod gone→exit med / p90",
        ];
        report.push(`${c.title} (node ${NODE}; medians over runs; reaction latencies pooled over runs)\n${table(header, rows)}\n${c.note}`);
        const [k, u] = [median(runs.kubectl.map((r) => r.wallMs)), median(runs["node-upgrade"].map((r) => r.wallMs))];
        if (c.wallTarget !== undefined) {
            const ratio = u / k;
            verdicts.push({
                text: `${c.title}: node-upgrade's median wall time is ${ratio.toFixed(2)}x kubectl's (target <= ${c.wallTarget}x)`,
                pass: ratio <= c.wallTarget,
            });
        }
        const up = runs["node-upgrade"];
        const reactions: [string, number[]][] = [["last pod gone→exit", up.map((r) => r.exitReactionMs)]];
        if (c.budgets) reactions.unshift(["budget open→eviction", up.flatMap((r) => r.budgetReactionsMs)]);
        for (const [what, xs] of reactions) {
            const m = median(xs);
            verdicts.push({
                text: `${c.title}: node-upgrade's median ${what} latency is ${msec(m)} (target <= ${REACTION_TARGET_MS}ms)`,
                pass: m <= REACTION_TARGET_MS,
            });
        }
    }
    console.log(
        `\ndrain benchmark: ${RUNS} run(s) per tool and case, one process at a time, each on a fresh simulated cluster (own process, time scale 1)\n`,
    );
    console.log(report.join("\n\n"));
    console.log(
        `\nnote: reaction latencies start at the bench's watch sighting (budget open, last pod DELETED), which is late by the watch\n` +
            `      delivery delay, so both tools' figures are under-stated by the same amount: here at most ${msec(median(allWatchDelays))} median\n` +
            `      (p90 ${msec(p90(allWatchDelays))}; budget drop seen by the bench − the admitted eviction received). A negative latency means the\n` +
            `      tool saw the change before the bench did. Eviction times are the server's (request log), same wall clock.\n`,
    );
    for (const v of verdicts) console.log(`${v.pass ? "PASS" : "FAIL"}  ${v.text}`);
    for (const f of failures) console.log(`FAIL  ${f}`);
    console.log(`\n(total bench time ${sec(Date.now() - t0)})`);
    fs.rmSync(TMP, { recursive: true, force: true });
    process.exit(failures.length || verdicts.some((v) => !v.pass) ? 1 : 0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
