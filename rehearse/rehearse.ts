// rehearse(): the roll `pulumi up` would run, on a simulated copy of a cluster snapshot, timed.
//
// The snapshot is loaded into the in-process simulated cluster (sim/), whose API server the roll reaches over
// HTTPS like a real one. The roll is the components' chain, with the same pieces: the planner's batches (planRoll
// makes them with kube-rules' rollBatches, as `pulumi up` does: control-plane nodes alone, first; then workers in
// batches of batchSize; a batch starts once the previous one is uncordoned), and per node the drain engine's cordon → drain → (upgrade) → waitForNode →
// (soak) → uncordon(onlyIfCordonedByUs), with the components' defaults (maxUnavailablePerWorkload 1, drain
// timeout 10m, readyTimeout 15m). Only the upgrade command is replaced: it "runs" for upgradeSeconds, then the
// simulator restarts the node's kubelet at the target version (NotReady for restartSeconds). A failed step stops
// the roll as the engine does: steps in flight finish, nothing new starts.
//
// Every time is read on the simulated clock, which sim-time.ts fast-forwards over waits (to the simulator's next
// timer); simulated seconds are the predicted real seconds.
import { performance } from "node:perf_hooks";
import { startCluster, type SimCluster } from "../sim";
import {
    cordon,
    DEFAULT_DRAIN_TIMEOUT_SECONDS,
    drain,
    DrainError,
    loadKubeConfig,
    NodeWaitError,
    uncordon,
    waitForNode,
    type ProgressEvent,
} from "../drain";
import { planRoll, snapshotFromFile, PlanInputError, type ClusterSnapshot, type RollPlan } from "../planner";
import { displayVersion, isNodeReady, targetVersionProblem, versionSatisfiesTarget } from "../kube-rules";
import { HttpActivity } from "./http-activity";
import { ClientWaits } from "./client-waits";
import { ClusterObserver } from "./observer";
import {
    CONTAINER_START_SECONDS,
    DEFAULT_GRACE_SECONDS,
    missingOwners,
    resolveTimings,
    scenarioList,
    WorkloadIndex,
    workloadId,
} from "./scenario";
import { SimTime } from "./sim-time";
import { formatSeconds } from "./format";
import {
    RehearsalInputError,
    type NodeReport,
    type RehearsalOptions,
    type RehearsalReport,
    type RehearsalStop,
    type StepName,
    type WaitReport,
    type WorkloadReport,
} from "./types";

const DEFAULTS = {
    batchSize: 1,
    upgradeSeconds: 60,
    restartSeconds: 15,
    drainTimeoutSeconds: DEFAULT_DRAIN_TIMEOUT_SECONDS, // the components' 10m
    readyTimeoutSeconds: 900,
    soakSeconds: 0,
    maxUnavailablePerWorkload: 1,
    timeScale: 1,
    quietMs: 3,
    maxJumpSeconds: 60,
    coalesceSeconds: 0.1,
} as const;

function nonNegative(name: string, value: number | undefined): void {
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0))
        throw new RehearsalInputError(`${name} must be a number of 0 or more, got ${value}`);
}

function loadSnapshot(snapshot: RehearsalOptions["snapshot"]): ClusterSnapshot {
    if (typeof snapshot !== "string") return snapshot;
    try {
        return snapshotFromFile(snapshot);
    } catch (err) {
        throw new RehearsalInputError(`cannot read snapshot ${snapshot}: ${(err as Error).message}`);
    }
}

/** One line per cause, like the drain engine's error: "2 pods (a, b): reason". */
function remainingText(remaining: { pod: string; reason: string }[]): string {
    const byReason = new Map<string, string[]>();
    for (const r of remaining) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), r.pod]);
    return [...byReason]
        .map(([reason, pods]) =>
            pods.length === 1
                ? `pod ${pods[0]}: ${reason}`
                : `${pods.length} pods (${pods.slice(0, 3).join(", ")}${pods.length > 3 ? ` and ${pods.length - 3} more` : ""}): ${reason}`,
        )
        .join("; ");
}

/** Per node: what its drain waited on, from the drain's progress events. */
class WaitTracker {
    private readonly pods = new Map<string, { kind: "budget" | "workload"; name: string; start: number; end?: number }>();
    readonly evicted: string[] = [];
    readonly warnings: string[] = [];

    constructor(private readonly now: () => number) {}

    on(e: ProgressEvent): void {
        switch (e.type) {
            case "waiting-on-budget":
                if (!this.pods.has(e.pod))
                    this.pods.set(e.pod, {
                        kind: "budget",
                        name: e.budget ? `PodDisruptionBudget ${e.budget.namespace}/${e.budget.name}` : "a PodDisruptionBudget",
                        start: this.now(),
                    });
                return;
            case "waiting-on-workload":
                if (!this.pods.has(e.pod))
                    this.pods.set(e.pod, {
                        kind: "workload",
                        name: `${e.workload.kind} ${e.workload.namespace}/${e.workload.name}`,
                        start: this.now(),
                    });
                return;
            case "evicting": {
                const w = this.pods.get(e.pod);
                if (w) w.end = this.now();
                return;
            }
            case "pod-gone":
                if (e.how !== "skipped" && !e.alreadyGone) this.evicted.push(e.pod);
                return;
            case "warning":
                this.warnings.push(e.message);
                return;
        }
    }

    report(endMs: number): WaitReport[] {
        const causes = new Map<
            string,
            { kind: "budget" | "workload"; name: string; pods: number; longest: number; first: number; last: number }
        >();
        for (const w of this.pods.values()) {
            const end = w.end ?? endMs;
            const c = causes.get(w.name) ?? { kind: w.kind, name: w.name, pods: 0, longest: 0, first: w.start, last: end };
            c.pods++;
            c.longest = Math.max(c.longest, end - w.start);
            c.first = Math.min(c.first, w.start);
            c.last = Math.max(c.last, end);
            causes.set(w.name, c);
        }
        return [...causes.values()]
            .map((c) => ({
                kind: c.kind,
                name: c.name,
                pods: c.pods,
                longestSeconds: round(c.longest / 1000),
                spanSeconds: round((c.last - c.first) / 1000),
            }))
            .sort((a, b) => b.spanSeconds - a.spanSeconds);
    }
}

const round = (n: number) => Math.round(n * 10) / 10;

/** An AbortSignal that fires with either of two. */
function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
    if (!b) return a;
    const c = new AbortController();
    const abort = () => c.abort();
    if (a.aborted || b.aborted) c.abort();
    a.addEventListener("abort", abort, { once: true });
    b.addEventListener("abort", abort, { once: true });
    return c.signal;
}

class StepFailure extends Error {
    constructor(
        readonly step: StepName,
        message: string,
        readonly remaining?: { pod: string; reason: string }[],
    ) {
        super(message);
    }
}

/** Runs the rehearsal; resolves to its report whether the roll completes or stops. Throws RehearsalInputError. */
export async function rehearse(o: RehearsalOptions): Promise<RehearsalReport> {
    const realStart = performance.now();
    const problem = targetVersionProblem(o.targetVersion);
    if (problem) throw new RehearsalInputError(problem);
    const target = displayVersion(o.targetVersion)!;
    const batchSize = o.batchSize ?? DEFAULTS.batchSize;
    const d = o.drain ?? {};
    const upgradeSeconds = o.upgradeSeconds ?? DEFAULTS.upgradeSeconds;
    const restartSeconds = o.restartSeconds ?? DEFAULTS.restartSeconds;
    const drainTimeout = d.timeoutSeconds ?? DEFAULTS.drainTimeoutSeconds;
    const readyTimeout = o.readyTimeoutSeconds ?? DEFAULTS.readyTimeoutSeconds;
    const soakSeconds = o.soakSeconds ?? DEFAULTS.soakSeconds;
    const maxUnavailablePerWorkload = d.maxUnavailablePerWorkload ?? DEFAULTS.maxUnavailablePerWorkload;
    const timeScale = o.timeScale ?? DEFAULTS.timeScale;
    const fastForward = o.fastForward ?? true;
    for (const [name, v] of Object.entries({
        upgradeSeconds,
        restartSeconds,
        drainTimeout,
        readyTimeout,
        soakSeconds,
        maxUnavailablePerWorkload,
    }))
        nonNegative(name, v);
    if (!(timeScale > 0 && Number.isFinite(timeScale)))
        throw new RehearsalInputError(`time scale must be a number above 0, got ${timeScale}`);

    const snapshot = loadSnapshot(o.snapshot);
    if (snapshot.nodes.length === 0)
        throw new RehearsalInputError("the snapshot has no nodes (kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json)");
    const engineDrain = {
        force: !!d.force,
        ignoreDaemonSets: !!d.ignoreDaemonSets,
        deleteEmptyDirData: !!d.deleteEmptyDirData,
        gracePeriodSeconds: d.gracePeriodSeconds ?? -1,
        podSelector: d.podSelector || undefined,
        disableEviction: !!d.disableEviction,
        skipWaitForDeleteTimeoutSeconds: d.skipWaitForDeleteTimeoutSeconds ?? 0,
        chunkSize: d.chunkSize ?? 500,
        maxUnavailablePerWorkload,
    };

    // The planner picks the nodes (and refuses unknown ones, a bad selector, a bad batch size), puts them in the
    // batches `pulumi up` runs, and gives its verdicts to compare with.
    let plan: RollPlan;
    try {
        plan = planRoll(snapshot, {
            nodes: o.nodes && o.nodes.length > 0 ? o.nodes : undefined,
            selector: o.selector,
            all: o.all,
            batchSize,
            controlPlaneFirst: o.controlPlaneFirst ?? true,
            targetVersion: target,
            drain: { ...engineDrain, timeoutSeconds: drainTimeout },
        });
    } catch (err) {
        if (err instanceof PlanInputError) throw new RehearsalInputError(err.message);
        throw err;
    }
    // plan.nodes are in roll order; skipped nodes (already at the target) have batch 0.
    const batches: string[][] = [];
    for (const p of plan.nodes) if (p.batch > 0) (batches[p.batch - 1] ??= []).push(p.node);
    const skipped = plan.nodes.filter((p) => p.verdict === "skip").map((p) => ({ node: p.node, reason: p.reasons.join("; ") }));

    const index = new WorkloadIndex(snapshot);
    const timings = resolveTimings(snapshot, index, o.timings, engineDrain.gracePeriodSeconds);
    const warnings: string[] = [...plan.warnings];
    for (const p of plan.nodes)
        for (const problem of p.version.problems)
            warnings.push(`${p.node}: ${problem} (the plan's version-skew check; the rehearsal does not model skew)`);
    const missing = missingOwners(snapshot);
    if (missing.length > 0)
        warnings.push(
            `the snapshot lacks the controllers of some pods, so their evicted pods are not replaced in the rehearsal: ` +
                `${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""} ` +
                "(take the snapshot with kubectl get nodes,pods,pdb,deploy,rs,sts,ds -A -o json)",
        );
    if (engineDrain.skipWaitForDeleteTimeoutSeconds > 0)
        warnings.push(
            "--skip-wait-for-delete-timeout is not rehearsed: the drain compares deletion times with its own clock, which the simulated clock runs ahead of",
        );

    const nodeReports = new Map<string, NodeReport>();
    for (const p of plan.nodes)
        if (p.batch > 0)
            nodeReports.set(p.node, {
                node: p.node,
                batch: p.batch,
                controlPlane: p.controlPlane,
                versionBefore: p.version.from,
                status: "notReached",
                evicted: [],
                waitedOn: [],
                planVerdict: p.verdict,
                warnings: [],
            });

    const cluster: SimCluster = await startCluster({
        scenario: scenarioList(snapshot, index, timings),
        timeScale,
        startupDelaySeconds: CONTAINER_START_SECONDS,
        taintDelaySeconds: 0,
        upgradeDownSeconds: restartSeconds,
        recordEvents: false,
        watchHistory: 20_000,
        serverVersion: plan.apiServerVersion ?? snapshot.serverVersion,
    });
    const time = new SimTime(cluster, {
        fastForward,
        quietMs: o.quietMs ?? DEFAULTS.quietMs,
        maxJumpSeconds: o.maxJumpSeconds ?? DEFAULTS.maxJumpSeconds,
        coalesceSeconds: DEFAULTS.coalesceSeconds,
        busy: (): boolean => http.busy() || clientWaits.imminent(),
    });
    const active = new Map<string, StepName>();
    const observer = new ClusterObserver(cluster, index, time, () => [...active].map(([node, step]) => `${node} ${step}`));
    const clientWaits = new ClientWaits(cluster, observer.tallies);
    observer.onPod = (key, deleted) => clientWaits.onPod(key, deleted);
    const http = new HttpActivity(() => time.activity());
    let stop: RehearsalStop | undefined;
    let startMs = 0;
    let endMs = 0;
    try {
        observer.start();
        clientWaits.start();
        http.start();
        const kc = loadKubeConfig({ kubeconfig: cluster.kubeconfig });
        await cluster.settle();
        time.start();
        startMs = endMs = time.nowMs();
        observer.baseline(new Set(batches.flat()));
        const rel = (ms: number) => (ms - startMs) / 1000;
        const say = (line: string) => o.onProgress?.(`${formatSeconds(rel(time.nowMs())).padStart(7)}  ${line}`);

        const rollNode = async (name: string): Promise<void> => {
            const r = nodeReports.get(name)!;
            const waits = new WaitTracker(() => time.nowMs());
            const nodeStart = time.nowMs();
            r.startSeconds = round(rel(nodeStart));
            let stepStart = nodeStart;
            const step = async <T>(s: StepName, fn: () => Promise<T>): Promise<T> => {
                if (stop) throw new StepFailure(s, "stopped");
                if (o.signal?.aborted) throw new StepFailure(s, "the rehearsal was cancelled");
                active.set(name, s);
                time.activity();
                stepStart = time.nowMs();
                const out = await fn();
                time.activity();
                return out;
            };
            const took = () => round((time.nowMs() - stepStart) / 1000);
            try {
                await step("cordon", () => cordon(kc, name, { signal: o.signal }));
                r.cordonSeconds = took();
                say(`${name}: cordoned`);

                const result = await step("drain", async () => {
                    const deadline = time.deadline(drainTimeout);
                    clientWaits.drainStarted(name);
                    try {
                        return await drain(kc, name, {
                            ...engineDrain,
                            timeoutSeconds: 0, // the time limit runs on the simulated clock: the deadline's signal
                            signal: anySignal(deadline.signal, o.signal),
                            onProgress: (e) => {
                                waits.on(e);
                                clientWaits.onProgress(e);
                            },
                        });
                    } catch (err) {
                        if (err instanceof DrainError) {
                            const remaining = err.remaining.map((p) => ({ pod: p.pod, reason: p.reason }));
                            if (err.kind === "cancelled" && deadline.fired())
                                throw new StepFailure(
                                    "drain",
                                    `drain of node "${name}" timed out after ${formatSeconds(drainTimeout)} with ${remaining.length} pod${remaining.length === 1 ? "" : "s"} remaining: ${remainingText(remaining)}`,
                                    remaining,
                                );
                            throw new StepFailure("drain", err.message.replace(/\n\s*/g, " "), remaining);
                        }
                        throw new StepFailure("drain", (err as Error).message);
                    } finally {
                        deadline.dispose();
                        clientWaits.drainEnded(name);
                    }
                });
                r.drainSeconds = took();
                r.evicted = result.evicted.map((e) => e.pod);
                r.waitedOn = waits.report(time.nowMs());
                r.warnings.push(...result.warnings);
                say(
                    `${name}: drained, ${r.evicted.length} pod${r.evicted.length === 1 ? "" : "s"} evicted in ${formatSeconds(r.drainSeconds)}` +
                        (r.waitedOn.length ? ` (waited on ${r.waitedOn.map((w) => w.name).join(", ")})` : ""),
                );

                await step("upgrade", async () => {
                    await time.sleep(upgradeSeconds);
                    try {
                        await cluster.upgradeNode(name, target, { downSeconds: restartSeconds });
                    } catch (err) {
                        throw new StepFailure("upgrade", `the simulated upgrade of ${name} was refused: ${(err as Error).message}`);
                    }
                });
                r.upgradeSeconds = took();

                await step("ready", async () => {
                    const deadline = time.deadline(readyTimeout);
                    clientWaits.nodeWaitStarted(name, target);
                    try {
                        await waitForNode(kc, name, {
                            kubeletVersion: target,
                            timeoutSeconds: 0,
                            signal: anySignal(deadline.signal, o.signal),
                        });
                    } catch (err) {
                        if (err instanceof NodeWaitError && deadline.fired())
                            throw new StepFailure(
                                "ready",
                                `timed out after ${formatSeconds(readyTimeout)} waiting for node ${name}: ${err.lastSeen}`,
                            );
                        throw new StepFailure("ready", (err as Error).message);
                    } finally {
                        deadline.dispose();
                        clientWaits.nodeWaitEnded(name);
                    }
                });
                r.readySeconds = took();
                say(`${name}: Ready at ${target} (upgrade ${formatSeconds(r.upgradeSeconds)}, then ${formatSeconds(r.readySeconds)})`);

                if (soakSeconds > 0) {
                    await step("soak", async () => {
                        await time.sleep(soakSeconds);
                        const n = cluster.get("nodes", undefined, name);
                        if (!n || !isNodeReady(n) || !versionSatisfiesTarget(n.status?.nodeInfo?.kubeletVersion, target))
                            throw new StepFailure("soak", `node ${name} did not stay Ready at ${target} for ${formatSeconds(soakSeconds)}`);
                    });
                    r.soakSeconds = took();
                }

                await step("uncordon", () => uncordon(kc, name, { onlyIfCordonedByUs: true, signal: o.signal }));
                r.uncordonSeconds = took();
                r.status = "done";
                say(`${name}: uncordoned`);
            } catch (err) {
                const f = err instanceof StepFailure ? err : new StepFailure(active.get(name) ?? "cordon", (err as Error).message);
                if (f.message === "stopped") {
                    r.status = "stopped";
                    r.failedStep = f.step;
                    r.error = `not started: the roll stopped at ${stop?.node}`;
                } else {
                    r.status = "failed";
                    r.failedStep = f.step;
                    r.error = f.message;
                    r.remaining = f.remaining;
                    if (f.step === "drain") {
                        r.drainSeconds = took();
                        r.evicted = waits.evicted;
                        r.waitedOn = waits.report(time.nowMs());
                    }
                    if (!stop) stop = { node: name, step: f.step, reason: f.message, atSeconds: round(rel(time.nowMs())) };
                    say(`${name}: ${f.step} failed: ${f.message}`);
                }
            } finally {
                active.delete(name);
                r.totalSeconds = round((time.nowMs() - nodeStart) / 1000);
                r.warnings.push(...waits.warnings.filter((w) => !r.warnings.includes(w)));
                endMs = Math.max(endMs, time.nowMs());
            }
        };

        for (const batch of batches) {
            if (stop || o.signal?.aborted) break;
            await Promise.all(batch.map((name) => rollNode(name)));
        }
        if (o.signal?.aborted && !stop) throw new Error("the rehearsal was cancelled");
    } finally {
        await time.stop();
        observer.stop();
        clientWaits.stop();
        http.stop();
        await cluster.stop();
    }

    const rel = (ms: number) => round((ms - startMs) / 1000);
    const workloads: WorkloadReport[] = [];
    for (const t of observer.tallies.values()) {
        if (!t.onRolledNode && t.minReady >= t.readyAtStart) continue;
        const timing = timings.get(workloadId(t.kind, t.namespace, t.name))!;
        const w: WorkloadReport = {
            kind: t.kind,
            namespace: t.namespace,
            name: t.name,
            replicas: t.replicas,
            readyAtStart: t.readyAtStart,
            minReady: t.minReady,
            startupSeconds: timing.startupSeconds,
            startupFrom: timing.startupFrom,
            shutdownSeconds: timing.shutdownSeconds,
            shutdownFrom: timing.shutdownFrom,
        };
        if (t.minReadyAtMs !== undefined) {
            w.minReadyAtSeconds = rel(t.minReadyAtMs);
            w.minReadyDuring = t.minReadyDuring;
        }
        if (t.budget) {
            w.budget = t.budget;
            w.marginOverBudget = t.minReady - t.budget.desiredHealthy;
        }
        workloads.push(w);
    }
    // A broken budget first, then workloads left with no Ready replica, then budgets with no margin, then the rest
    // by the share of replicas they kept.
    const rank = (w: WorkloadReport) => ((w.marginOverBudget ?? 0) < 0 ? 0 : w.minReady === 0 ? 1 : w.marginOverBudget === 0 ? 2 : 3);
    const kept = (w: WorkloadReport) => (w.replicas > 0 ? w.minReady / w.replicas : 1);
    workloads.sort(
        (a, b) => rank(a) - rank(b) || kept(a) - kept(b) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );

    const assumptions = [
        `the upgrade command runs ${formatSeconds(upgradeSeconds)} per node, then the kubelet restarts at ${target} in ${formatSeconds(restartSeconds)} (--upgrade-seconds, --restart-seconds)`,
        `an evicted pod is gone when its containers exit: at the end of its grace period (terminationGracePeriodSeconds, default ${DEFAULT_GRACE_SECONDS}s) unless --shutdown-seconds says sooner`,
        `a replacement pod is Ready ${CONTAINER_START_SECONDS}s after it is placed, plus its probes' initialDelaySeconds (--startup-seconds to change)`,
        "API requests go to an in-process simulated API server (milliseconds); the Pulumi engine's own time between steps is not included",
    ];
    return {
        targetVersion: target,
        batchSize,
        batches,
        skipped,
        completed: !stop && [...nodeReports.values()].every((n) => n.status === "done"),
        ...(stop ? { stop } : {}),
        totalSeconds: rel(endMs),
        nodes: batches.flat().map((n) => nodeReports.get(n)!),
        workloads,
        assumptions,
        warnings,
        simulation: {
            timeScale,
            fastForward,
            realSeconds: round((performance.now() - realStart) / 1000),
            jumps: time.jumps,
            nodes: snapshot.nodes.length,
            pods: snapshot.pods.length,
            upgradeSeconds,
            restartSeconds,
            drainTimeoutSeconds: drainTimeout,
            readyTimeoutSeconds: readyTimeout,
            soakSeconds,
            maxUnavailablePerWorkload,
        },
    };
}
