// The executor: evicts (or deletes) the pods a plan said to evict and waits until they are gone, keeping for
// every pod a record of what it is waiting on, so a failure can say exactly what blocks.
//
// Like kubectl every pod has its own loop, all running at once, sharing one deadline. Unlike kubectl:
//  - the HTTP requests go through a bounded pool (concurrency), so 500 pods do not mean 500 parallel POSTs;
//  - a PDB refusal waits on a watch of the namespace's budgets and retries as soon as the budget allows a
//    disruption (with a slow safety retry), instead of sleeping 5 s;
//  - transient failures (5xx, resets, 429 with Retry-After) are retried with backoff;
//  - pods are waited on through a watch of the node's pods instead of 1 s GET polls;
//  - optionally (maxUnavailablePerWorkload) a pod first passes a gate that keeps at most N pods of its
//    workload unavailable (workload-tracker.ts).
import type { KubeConfig, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { describeFailure, type ApiFailure } from "./api-errors";
import { BudgetTracker } from "./budgets";
import { AttemptOutcome, deleteOnce, evictOnce } from "./evict";
import { describeTermination } from "./objects";
import { Backoff, Deadline, sleep } from "./retry";
import type { EvictedPod, ProgressEvent, RemainingPod } from "./types";
import { DeletionWaiter, getPodOrUndefined, type GoneHow } from "./wait-for-delete";
import { WorkloadPacer } from "./workload-tracker";
import {
    budgetAllowsDisruption,
    budgetKey,
    budgetNumbers,
    describeBudgetBlock,
    describeBudgetWait,
    formatDuration,
    podKey,
    type BudgetNumbers,
} from "../kube-rules";

/** Where a pod's loop is. "done"/"failed" are final. */
export type PodPhase =
    "queued" | "workload" | "evicting" | "budget" | "retrying" | "namespace-terminating" | "terminating" | "done" | "failed";

export interface PodRun {
    key: string;
    pod: V1Pod;
    phase: PodPhase;
    attempts: number;
    budget?: V1PodDisruptionBudget;
    /** The server's cause text from the last PDB refusal (used when the budget itself is not visible). */
    budgetCause?: string;
    /** A budget refused this pod at least once (so later transient errors do not hide that). */
    budgetRefused?: boolean;
    /** Its place in line for its budget: the order of its first budget refusal. */
    budgetLine?: number;
    lastError?: string;
    failure?: string;
    evictedAt?: string;
    goneAt?: string;
    how?: GoneHow | "not-found";
}

export interface ExecutorOptions {
    node: string;
    kc: KubeConfig;
    deadline: Deadline;
    /** "policy/v1" etc.; undefined = delete instead of evict. */
    evictionGroupVersion?: string;
    gracePeriodSeconds?: number;
    dryRun?: "none" | "client" | "server";
    skipWaitSeconds?: number;
    concurrency: number;
    safetyRecheckMs: number;
    /** maxUnavailablePerWorkload; 0/undefined = no workload pacing. */
    maxUnavailablePerWorkload?: number;
    emit: (e: ProgressEvent) => void;
}

/** A counting semaphore: at most `size` requests in flight. */
export class Semaphore {
    private active = 0;
    private readonly queue: (() => void)[] = [];
    constructor(private readonly size: number) {}
    async run<T>(fn: () => Promise<T>): Promise<T> {
        if (this.active >= this.size) await new Promise<void>((r) => this.queue.push(r));
        this.active++;
        try {
            return await fn();
        } finally {
            this.active--;
            this.queue.shift()?.();
        }
    }
}

export class EvictionExecutor {
    readonly runs: PodRun[];
    private readonly budgets: BudgetTracker;
    private readonly waiter: DeletionWaiter;
    private readonly pool: Semaphore;
    private readonly useDelete: boolean;
    /** Workload-aware pacing (maxUnavailablePerWorkload > 0): the gate before each pod's first eviction. */
    private readonly pacer?: WorkloadPacer;
    private stopDeleting = false;
    private remainingCount: number;
    private budgetLineCounter = 0;

    constructor(
        private readonly o: ExecutorOptions,
        pods: V1Pod[],
    ) {
        this.runs = pods.map((pod) => ({ key: podKey(pod), pod, phase: "queued", attempts: 0 }));
        this.remainingCount = pods.length;
        this.useDelete = !o.evictionGroupVersion;
        this.pool = new Semaphore(Math.max(1, o.concurrency));
        const problem = (message: string) => o.emit({ type: "retrying", node: o.node, message });
        const warn = (message: string) => this.warn(message);
        this.budgets = new BudgetTracker(o.kc, { onProblem: problem, onWarning: warn, pollMs: o.safetyRecheckMs });
        this.waiter = new DeletionWaiter(o.kc, o.node, {
            skipWaitSeconds: o.skipWaitSeconds,
            recheckMs: o.safetyRecheckMs,
            onProblem: problem,
            onWarning: warn,
        });
        const maxUnavailable = Math.max(0, Math.floor(o.maxUnavailablePerWorkload ?? 0));
        if (maxUnavailable > 0) {
            this.pacer = new WorkloadPacer(
                {
                    node: o.node,
                    kc: o.kc,
                    deadline: o.deadline,
                    maxUnavailable,
                    deleting: this.useDelete,
                    dryRunServer: o.dryRun === "server",
                    safetyRecheckMs: o.safetyRecheckMs,
                    budgets: this.budgets,
                    emit: o.emit,
                    warn,
                },
                pods,
            );
        }
    }

    /** Runs every pod's loop to its end (done, failed, or deadline). Never throws. */
    async run(allPodsOnNode: V1Pod[], resourceVersion?: string): Promise<void> {
        if (this.o.dryRun !== "server") this.waiter.start(allPodsOnNode, resourceVersion);
        try {
            await Promise.allSettled(this.runs.map((r) => this.handle(r)));
        } finally {
            this.waiter.stop();
            this.pacer?.stop();
            this.budgets.stop();
        }
    }

    get unfinished(): PodRun[] {
        return this.runs.filter((r) => r.phase !== "done");
    }

    /**
     * What the drain worked around and the operator should fix, for the DrainResult (each also emitted once as
     * a "warning" event): a watch or list of pods or budgets the server refused, workloads that cannot be paced.
     */
    readonly warnings: string[] = [];

    private warn(message: string): void {
        if (this.warnings.includes(message)) return;
        this.warnings.push(message);
        this.o.emit({ type: "warning", node: this.o.node, message });
    }

    get failed(): PodRun[] {
        return this.runs.filter((r) => r.phase === "failed");
    }

    get evicted(): EvictedPod[] {
        return this.runs
            .filter((r) => r.phase === "done" && r.evictedAt)
            .map((r) => ({ pod: r.key, uid: r.pod.metadata?.uid ?? "", evictedAt: r.evictedAt!, goneAt: r.goneAt ?? r.evictedAt! }));
    }

    /** What each unfinished pod is waiting on, for errors. */
    describeRemaining(): RemainingPod[] {
        return this.unfinished.map((r) => {
            const out: RemainingPod = { pod: r.key, reason: this.reasonFor(r) };
            if (r.phase === "workload") {
                const w = this.pacer?.describe(r.pod, r.key);
                if (w) out.workload = w.workload;
            }
            const budget = this.freshBudget(r);
            if (budget && r.budgetRefused && r.phase !== "terminating" && r.phase !== "failed") out.budget = budgetNumbers(budget);
            return out;
        });
    }

    private freshBudget(r: PodRun): V1PodDisruptionBudget | undefined {
        const matches = this.budgets.matching(r.pod);
        return matches.find((m) => r.budget && budgetKey(m) === budgetKey(r.budget)) ?? matches[0] ?? r.budget;
    }

    private budgetReason(r: PodRun): string {
        const b = this.freshBudget(r);
        if (b) return describeBudgetBlock(b);
        return `eviction refused by a PodDisruptionBudget${r.budgetCause ? ` (${r.budgetCause})` : ""}`;
    }

    private reasonFor(r: PodRun): string {
        // A pod held by a budget stays described by the budget even if its last attempt hit an API error.
        if (r.budgetRefused && (r.phase === "retrying" || r.phase === "evicting")) {
            return `${this.budgetReason(r)}; the last eviction attempt failed: ${r.lastError ?? "request in flight"}`;
        }
        switch (r.phase) {
            case "failed":
                return r.failure ?? "eviction failed";
            case "budget":
                return this.budgetReason(r);
            case "workload":
                return (
                    this.pacer?.describe(r.pod, r.key)?.reason ??
                    "waiting for a replacement of its workload to be Ready (maxUnavailablePerWorkload)"
                );
            case "terminating":
                return describeTermination(this.waiter.latest(r.key) ?? r.pod);
            case "namespace-terminating":
                return `namespace ${r.pod.metadata?.namespace} is being deleted; waiting for the pod to be marked for deletion`;
            case "retrying":
                return `eviction not accepted yet after ${r.attempts} attempt(s); last error: ${r.lastError ?? "unknown"}`;
            case "evicting":
                return "eviction request in flight";
            case "queued":
                return this.stopDeleting ? "not deleted: an earlier delete failed" : "not evicted yet (waiting for a free request slot)";
            default:
                return "";
        }
    }

    private async handle(r: PodRun): Promise<void> {
        const { deadline, emit, node } = this.o;
        try {
            const outcome = this.useDelete ? await this.deleteLoop(r) : await this.evictLoop(r);
            const at = new Date().toISOString();
            if (outcome === "failed" || outcome === "not-started") {
                this.pacer?.release(r.key);
                return;
            }
            if (outcome === "not-found") {
                r.evictedAt = r.goneAt = at;
                r.how = "not-found";
                this.finish(r, { alreadyGone: true });
                return;
            }
            r.evictedAt = at;
            if (this.o.dryRun === "server") {
                // kubectl does not wait after a server dry run: nothing is really going away.
                r.goneAt = at;
                r.phase = "done";
                this.remainingCount--;
                return;
            }
            r.phase = "terminating";
            const how = await this.waiter.track(r.pod, deadline.signal);
            r.goneAt = new Date().toISOString();
            r.how = how;
            this.finish(r, how === "skipped" ? { skipped: true } : {});
        } catch (err) {
            // Deadline or cancellation: the pod keeps its phase, which describes what it was waiting on.
            if (!deadline.over) {
                this.pacer?.release(r.key);
                r.phase = "failed";
                r.failure = `unexpected error: ${(err as Error)?.message ?? String(err)}`;
                emit({ type: "pod-failed", node, pod: r.key, message: r.failure });
            }
        }
    }

    private finish(r: PodRun, o: { alreadyGone?: boolean; skipped?: boolean }) {
        r.phase = "done";
        this.remainingCount--;
        this.o.emit({
            type: "pod-gone",
            node: this.o.node,
            pod: r.key,
            how: o.skipped ? "skipped" : this.useDelete ? "deleted" : "evicted",
            remaining: this.remainingCount,
            alreadyGone: o.alreadyGone || undefined,
            skipWaitSeconds: o.skipped ? this.o.skipWaitSeconds : undefined,
        });
    }

    private fail(r: PodRun, message: string): "failed" {
        r.phase = "failed";
        r.failure = message;
        this.o.emit({ type: "pod-failed", node: this.o.node, pod: r.key, message });
        return "failed";
    }

    private retryLater(r: PodRun, failure: ApiFailure, backoff: Backoff): Promise<void> {
        r.phase = "retrying";
        r.lastError = describeFailure(failure);
        const delay = Math.min(backoff.next(failure.retryAfterSeconds), Math.max(0, this.o.deadline.remainingMs()));
        this.o.emit({
            type: "retrying",
            node: this.o.node,
            pod: r.key,
            message: `error when ${this.useDelete ? "deleting" : "evicting"} pod ${r.key} (will retry after ${formatDuration(delay / 1000)}): ${r.lastError}`,
            delaySeconds: delay / 1000,
        });
        return sleep(delay, this.o.deadline.signal);
    }

    private async evictLoop(r: PodRun): Promise<"accepted" | "not-found" | "failed"> {
        const { deadline, emit, node, kc } = this.o;
        const transient = new Backoff({ initialMs: 200, maxMs: 5000 });
        const budgetRetry = new Backoff({ initialMs: 250, maxMs: this.o.safetyRecheckMs });
        let lastBudgetMessage = "";
        await this.passPacingGate(r);
        for (;;) {
            deadline.throwIfOver();
            r.attempts++;
            emit({ type: "evicting", node, pod: r.key, attempt: r.attempts, dryRun: this.o.dryRun === "server" ? "server" : undefined });
            if (r.phase === "queued") r.phase = "evicting";
            const outcome: AttemptOutcome = await this.pool.run(() =>
                evictOnce(
                    kc,
                    r.pod,
                    { gracePeriodSeconds: this.o.gracePeriodSeconds, dryRun: this.o.dryRun, signal: deadline.signal },
                    this.o.evictionGroupVersion,
                ),
            );
            switch (outcome.kind) {
                case "accepted":
                case "not-found":
                    return outcome.kind;
                case "fatal":
                    return this.fail(r, await this.explainFatal(r, outcome));
                case "transient":
                    await this.retryLater(r, outcome.failure, transient);
                    continue;
                case "namespace-terminating": {
                    r.phase = "namespace-terminating";
                    const fresh = await getPodOrUndefined(
                        kc,
                        r.pod.metadata?.namespace ?? "",
                        r.pod.metadata?.name ?? "",
                        deadline.signal,
                    ).catch(() => r.pod);
                    if (!fresh || fresh.metadata?.uid !== r.pod.metadata?.uid) return "not-found";
                    r.pod = fresh;
                    this.waiter.update(fresh);
                    // kubectl: once the namespace controller marked the pod for deletion, just wait for it.
                    if (fresh.metadata?.deletionTimestamp) return "accepted";
                    await this.retryLater(r, outcome.failure, transient);
                    r.phase = "namespace-terminating";
                    continue;
                }
                case "budget": {
                    transient.reset();
                    r.phase = "budget";
                    r.budgetRefused = true;
                    r.budgetLine ??= this.budgetLineCounter++;
                    r.budgetCause = outcome.failure.causes.find((c) => c.reason === "DisruptionBudget")?.message;
                    const ns = r.pod.metadata?.namespace ?? "";
                    const tracked = await this.budgets.track(ns).then(
                        () => true,
                        () => false,
                    );
                    const matches = this.budgets.matching(r.pod);
                    r.budget = matches[0] ?? r.budget;
                    const message = r.budget
                        ? `pod ${r.key} waiting on ${describeBudgetWait(r.budget)}`
                        : `pod ${r.key} waiting on a PodDisruptionBudget${r.budgetCause ? `: ${r.budgetCause}` : ""}`;
                    if (message !== lastBudgetMessage) {
                        lastBudgetMessage = message;
                        emit({
                            type: "waiting-on-budget",
                            node,
                            pod: r.key,
                            budget: r.budget ? budgetNumbers(r.budget) : undefined,
                            message,
                        });
                    }
                    // A stale budget comes with Retry-After (10 s); the watch usually shows the controller catch up sooner.
                    const retryAfter = outcome.failure.retryAfterSeconds;
                    if (!tracked) {
                        // Cannot watch budgets (RBAC, API trouble): fall back to timed retries.
                        await sleep(Math.min(budgetRetry.next(retryAfter), deadline.remainingMs()), deadline.signal);
                    } else if (matches.some((b) => this.mayRetryOn(r, b))) {
                        // Our copy already allows a disruption, the server's check did not: another eviction won the
                        // race or the watch lags. Retry after a short, growing pause.
                        await sleep(Math.min(budgetRetry.next(), deadline.remainingMs()), deadline.signal);
                    } else {
                        budgetRetry.reset();
                        await this.waitForBudget(r, retryAfter ? retryAfter * 1000 : this.o.safetyRecheckMs);
                    }
                    continue;
                }
            }
        }
    }

    /** maxUnavailablePerWorkload: waits (phase "workload") until the pod's workload can spare it. */
    private async passPacingGate(r: PodRun): Promise<void> {
        if (!this.pacer) return;
        await this.pacer.admit(r.pod, r.key, (waiting) => {
            if (waiting) r.phase = "workload";
            else if (r.phase === "workload") r.phase = "queued";
        });
    }

    /** Waits until a budget matching the pod allows a disruption (seen through the watch), or maxMs. */
    private async waitForBudget(r: PodRun, maxMs: number): Promise<void> {
        const ns = r.pod.metadata?.namespace ?? "";
        const until = Date.now() + maxMs;
        for (;;) {
            const left = Math.min(until - Date.now(), this.o.deadline.remainingMs());
            if (left <= 0) return;
            await this.budgets.nextChange(ns, left, this.o.deadline.signal);
            this.o.deadline.throwIfOver();
            const matches = this.budgets.matching(r.pod);
            if (matches.length > 0) r.budget = matches[0];
            if (matches.some((b) => this.mayRetryOn(r, b))) return;
            if (matches.length === 0 && this.budgets.isTracked(ns)) return; // the budget went away
        }
    }

    /**
     * The budget allows a disruption and the pod is among the first N in line for it (N = disruptionsAllowed).
     * Without the line, every waiting pod retried when the budget opened and all but N were refused (429);
     * the others keep waiting for the next opening. FIFO by first refusal, so no pod starves. Only pods in phase
     * "budget" (waiting, or retrying after an opening) hold a place: not those evicted, failed or backing off
     * from a transient error. waitForBudget's safety timer still bounds every wait.
     */
    private mayRetryOn(r: PodRun, b: V1PodDisruptionBudget): boolean {
        if (!budgetAllowsDisruption(b)) return false;
        if (r.budgetLine === undefined) return true;
        // Every waiting pod asks on every change of the budget: compare names, not built keys, and stop as soon
        // as the pods ahead use up what the budget allows.
        const allowed = b.status?.disruptionsAllowed ?? 0;
        const { namespace, name } = b.metadata ?? {};
        let ahead = 0;
        for (const o of this.runs) {
            if (o.phase !== "budget" || o.budgetLine === undefined || o.budgetLine >= r.budgetLine) continue;
            if (o.budget?.metadata?.name === name && o.budget?.metadata?.namespace === namespace && ++ahead >= allowed) return false;
        }
        return true;
    }

    /** Adds the names of the budgets to a multiple-PDB refusal. */
    private async explainFatal(r: PodRun, outcome: Extract<AttemptOutcome, { kind: "fatal" }>): Promise<string> {
        if (outcome.failure.code !== 500 || !/more than one PodDisruptionBudget/i.test(outcome.failure.message)) return outcome.message;
        const ns = r.pod.metadata?.namespace ?? "";
        const listed = await Promise.race([
            this.budgets.track(ns).then(
                () => true,
                () => false,
            ),
            sleep(3000).then(() => false),
        ]);
        const names = listed ? this.budgets.matching(r.pod).map(budgetKey) : [];
        if (names.length < 2) return outcome.message;
        return `pod ${r.key} matches more than one PodDisruptionBudget (${names.join(", ")}), which the eviction API does not support; it cannot be evicted until only one budget selects it`;
    }

    private async deleteLoop(r: PodRun): Promise<"accepted" | "not-found" | "failed" | "not-started"> {
        const { deadline, emit, node, kc } = this.o;
        const transient = new Backoff({ initialMs: 200, maxMs: 5000 });
        await this.passPacingGate(r);
        for (;;) {
            deadline.throwIfOver();
            const outcome = await this.pool.run(async () => {
                // kubectl stops deleting at the first hard error; so do we.
                if (this.stopDeleting) return undefined;
                r.attempts++;
                r.phase = "evicting";
                emit({
                    type: "evicting",
                    node,
                    pod: r.key,
                    delete: true,
                    attempt: r.attempts,
                    dryRun: this.o.dryRun === "server" ? "server" : undefined,
                });
                return deleteOnce(kc, r.pod, {
                    gracePeriodSeconds: this.o.gracePeriodSeconds,
                    dryRun: this.o.dryRun,
                    signal: deadline.signal,
                });
            });
            if (!outcome) {
                r.phase = "queued";
                return "not-started";
            }
            switch (outcome.kind) {
                case "accepted":
                case "not-found":
                    return outcome.kind;
                case "transient":
                    await this.retryLater(r, outcome.failure, transient);
                    continue;
                default:
                    this.stopDeleting = true;
                    return this.fail(
                        r,
                        outcome.kind === "fatal"
                            ? outcome.message
                            : `error when deleting pod ${r.key}: ${describeFailure(outcome.failure)}`,
                    );
            }
        }
    }
}

export type { BudgetNumbers };
