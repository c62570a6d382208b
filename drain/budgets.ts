// PodDisruptionBudgets as seen by the drain: which budget holds a pod, its numbers for messages, and a
// watch so that a refused eviction is retried the moment the budget allows a disruption again, instead of
// kubectl's blind 5 s sleep. Budgets are only watched in namespaces where an eviction was refused.
import type { KubeConfig, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { budgetMatchesPod, formatDuration } from "../kube-rules";
import { describeFailure, isTransient, toApiFailure } from "./api-errors";
import { clientFor } from "./kube-client";
import { listAllPages } from "./list-pods";
import { WatchLoop } from "./watch-loop";

interface NamespaceBudgets {
    ready: Promise<void>;
    byName: Map<string, V1PodDisruptionBudget>;
    loop: WatchLoop<V1PodDisruptionBudget>;
    /** The server refused the list for good (e.g. 403): kept, so it is not asked again and again. */
    refused?: boolean;
}

export interface BudgetTrackerOptions {
    /** Trouble that is being retried. */
    onProblem?: (message: string) => void;
    /**
     * Budgets that cannot be listed or watched (e.g. RBAC): the drain goes on, since the Eviction API enforces
     * every budget anyway, but the operator should know. Called once per namespace and refusal.
     */
    onWarning?: (message: string) => void;
    /** Without a watch (refused), budgets are re-listed this often (ms). Default 5000. */
    pollMs?: number;
}

/**
 * Caches and watches the PodDisruptionBudgets of the namespaces it is asked about, and lets callers wait
 * for "something changed in namespace X".
 */
export class BudgetTracker {
    private readonly namespaces = new Map<string, NamespaceBudgets>();
    private readonly waiters = new Map<string, Set<() => void>>();
    private stopped = false;

    constructor(
        private readonly kc: KubeConfig,
        private readonly o: BudgetTrackerOptions = {},
    ) {}

    /**
     * Lists then watches the namespace's budgets (once). Rejects if the first list fails for good; a list the
     * server refuses (403) is reported through onWarning and not tried again.
     */
    track(namespace: string): Promise<void> {
        let entry = this.namespaces.get(namespace);
        if (!entry) {
            const client = clientFor(this.kc);
            const pollMs = this.o.pollMs ?? 5000;
            const byName = new Map<string, V1PodDisruptionBudget>();
            const loop: WatchLoop<V1PodDisruptionBudget> = new WatchLoop<V1PodDisruptionBudget>(this.kc, {
                what: `PodDisruptionBudgets in namespace ${namespace}`,
                path: `/apis/policy/v1/namespaces/${encodeURIComponent(namespace)}/poddisruptionbudgets`,
                list: (signal) =>
                    listAllPages(
                        `list PodDisruptionBudgets in namespace ${namespace}`,
                        (token) =>
                            client.call(
                                (o) => client.policy.listNamespacedPodDisruptionBudget({ namespace, limit: 500, _continue: token }, o),
                                { signal },
                            ),
                        { signal },
                    ),
                onReset: (items) => {
                    byName.clear();
                    for (const pdb of items) byName.set(pdb.metadata?.name ?? "", pdb);
                    this.notify(namespace);
                },
                onEvent: (type, pdb) => {
                    if (type === "DELETED") byName.delete(pdb.metadata?.name ?? "");
                    else byName.set(pdb.metadata?.name ?? "", pdb);
                    this.notify(namespace);
                },
                onProblem: this.o.onProblem,
                pollMs,
                fallback: `listing them every ${formatDuration(pollMs / 1000)} instead, so a refused eviction may be retried up to ${formatDuration(pollMs / 1000)} late`,
                onWatchRefused: (message) => this.o.onWarning?.(message),
            });
            const created: NamespaceBudgets = { byName, loop, ready: loop.start() };
            entry = created;
            this.namespaces.set(namespace, created);
            created.ready.catch((err) => {
                loop.stop();
                const failure = toApiFailure(err);
                if (!isTransient(failure)) {
                    created.refused = true;
                    this.o.onWarning?.(
                        `cannot list PodDisruptionBudgets in namespace ${namespace}: ${describeFailure(failure)}; the Eviction API still enforces ` +
                            `every budget, but evictions it refuses are retried on a timer and errors cannot show the budget's numbers`,
                    );
                    return;
                }
                // Transient trouble that outlasted the retries: forget it so a later call can try again.
                if (this.namespaces.get(namespace) === created) this.namespaces.delete(namespace);
            });
        }
        return entry.ready;
    }

    /** The namespace's budgets are known (listed, and watched or polled). */
    isTracked(namespace: string): boolean {
        const entry = this.namespaces.get(namespace);
        return !!entry && !entry.refused;
    }

    /** Budgets (known so far) whose selector matches the pod. */
    matching(pod: V1Pod): V1PodDisruptionBudget[] {
        const entry = this.namespaces.get(pod.metadata?.namespace ?? "");
        if (!entry) return [];
        return [...entry.byName.values()].filter((pdb) => budgetMatchesPod(pdb, pod));
    }

    /** Resolves on the next change to the namespace's budgets, or after maxMs, or when the signal aborts. */
    nextChange(namespace: string, maxMs: number, signal?: AbortSignal): Promise<void> {
        return new Promise((resolve) => {
            if (this.stopped || signal?.aborted) return resolve();
            let set = this.waiters.get(namespace);
            if (!set) this.waiters.set(namespace, (set = new Set()));
            const done = () => {
                clearTimeout(timer);
                set!.delete(done);
                signal?.removeEventListener("abort", done);
                resolve();
            };
            const timer = setTimeout(done, maxMs);
            set.add(done);
            signal?.addEventListener("abort", done, { once: true });
        });
    }

    private notify(namespace: string): void {
        const set = this.waiters.get(namespace);
        if (!set) return;
        for (const wake of [...set]) wake();
    }

    stop(): void {
        this.stopped = true;
        for (const entry of this.namespaces.values()) entry.loop.stop();
        for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    }
}
