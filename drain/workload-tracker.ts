// Workload-aware pacing (maxUnavailablePerWorkload), the I/O part: for each paced workload with pods on the
// node, one GET of its controller (spec.replicas, selector, owning Deployment) and, unless spec.replicas ≤ N,
// one LIST of its pods (namespace + the controller's label selector, filtered by controller UID). Pods that
// may go at once go; when one has to wait, a watch starts from that LIST's resourceVersion and the pod waits
// until the watch shows enough Ready replicas, backed by a slow safety re-check (GET + LIST after
// safetyRecheckSeconds without news). A workload's requests and watch stop as soon as none of its pods on the
// node is still to pass the gate. The decisions themselves are in workload-pacing.ts.
import type { KubeConfig, V1LabelSelector, V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import { KubeApiError, describeFailure, isNotFound, toApiFailure } from "./api-errors";
import type { BudgetTracker } from "./budgets";
import { clientFor } from "./kube-client";
import { listAllPages, type Listing } from "./list-pods";
import { withRetry, type Deadline } from "./retry";
import type { ProgressEvent, WorkloadNumbers } from "./types";
import { WatchLoop } from "./watch-loop";
import {
    countsAsReady,
    decideEviction,
    describeWorkloadWait,
    displayWorkload,
    isPaced,
    pacedWorkloadOf,
    readyReplicas,
    selectorQuery,
    workloadKey,
    type WorkloadRef,
} from "./workload-pacing";
import { controllerOf } from "../kube-rules";

interface ControllerFacts {
    replicas: number;
    selector?: V1LabelSelector | Record<string, string>;
    owners?: V1OwnerReference[];
}

/** GET of the controller; undefined when it is gone (404, or another object now has its name). */
async function readController(kc: KubeConfig, ref: WorkloadRef, signal: AbortSignal): Promise<ControllerFacts | undefined> {
    const client = clientFor(kc);
    const { namespace, name } = ref;
    try {
        const obj: any = await withRetry(
            `get ${ref.kind} ${namespace}/${name}`,
            () =>
                client.call<unknown>(
                    (o) =>
                        ref.kind === "ReplicaSet"
                            ? client.apps.readNamespacedReplicaSet({ name, namespace }, o)
                            : ref.kind === "StatefulSet"
                              ? client.apps.readNamespacedStatefulSet({ name, namespace }, o)
                              : client.core.readNamespacedReplicationController({ name, namespace }, o),
                    { signal },
                ),
            { signal, maxAttempts: 5 },
        );
        if (obj?.metadata?.uid && obj.metadata.uid !== ref.uid) return undefined;
        return { replicas: obj?.spec?.replicas ?? 1, selector: obj?.spec?.selector ?? undefined, owners: obj?.metadata?.ownerReferences };
    } catch (err) {
        if (err instanceof KubeApiError && isNotFound(err.failure)) return undefined;
        throw err;
    }
}

/** Rejects with the signal's reason as soon as it aborts; otherwise settles like `p`. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        p.then(
            (v) => {
                signal.removeEventListener("abort", onAbort);
                resolve(v);
            },
            (e) => {
                signal.removeEventListener("abort", onAbort);
                reject(e);
            },
        );
    });
}

/** One paced workload: its desired replicas and a watched copy of its pods. */
class Workload {
    readonly pods = new Map<string, V1Pod>();
    /** UIDs of its pods whose eviction this drain started: unavailable, whatever their status says yet. */
    readonly evicting = new Set<string>();
    desired = 0;
    display: { kind: string; name: string };
    /** Set when pacing cannot apply (controller gone, or it cannot be read): its pods are not held. */
    disabled?: string;
    /** spec.replicas ≤ maxUnavailable: its pods never wait, so its pods are not watched. */
    small = false;
    stopped = false;
    readonly started: Promise<void>;
    private loop?: WatchLoop<V1Pod>;
    private labelSelector?: string;
    private resourceVersion?: string;
    /** Aborts this workload's requests when it is stopped (or the drain's deadline passes). */
    private readonly controller = new AbortController();
    private readonly signal: AbortSignal;
    private readonly waiters = new Set<() => void>();
    private events = 0;
    private listed = false;
    private refreshing?: Promise<void>;
    private lastRefresh = 0;

    constructor(
        private readonly kc: KubeConfig,
        readonly ref: WorkloadRef,
        private readonly maxUnavailable: number,
        deadlineSignal: AbortSignal,
        private readonly onProblem: (message: string) => void,
        private readonly onWarning: (message: string) => void,
    ) {
        this.signal = AbortSignal.any([deadlineSignal, this.controller.signal]);
        this.display = { kind: ref.kind, name: ref.name };
        this.started = this.start();
    }

    get label(): string {
        return `${this.ref.namespace}/${this.display.name}`;
    }

    private apply(facts: ControllerFacts): void {
        this.desired = facts.replicas;
        this.display = displayWorkload(this.ref, facts.owners);
    }

    private async start(): Promise<void> {
        try {
            const facts = await readController(this.kc, this.ref, this.signal);
            if (!facts) {
                this.disabled = `${this.ref.kind} ${this.ref.namespace}/${this.ref.name} no longer exists`;
                return;
            }
            this.apply(facts);
            if (this.stopped) return;
            if (facts.replicas <= this.maxUnavailable) {
                this.small = true;
                return;
            }
            // One LIST decides for pods that can go at once; the watch starts (from this LIST's resourceVersion)
            // only when a pod has to wait, so a workload whose pods all pass at once costs no watch connection.
            this.labelSelector = selectorQuery(facts.selector);
            const listing = await this.listPods(this.labelSelector, this.signal);
            if (this.stopped) return;
            this.reset(listing.items);
            this.resourceVersion = listing.resourceVersion;
        } catch (err) {
            if (this.stopped) return;
            const f = err instanceof KubeApiError ? err.failure : toApiFailure(err);
            this.disabled = `cannot read ${this.ref.kind} ${this.ref.namespace}/${this.ref.name} or its pods (${describeFailure(f)})`;
            throw err;
        }
    }

    /** Starts the watch of the workload's pods (once), from the first LIST's resourceVersion. */
    ensureWatching(): void {
        if (this.loop || this.stopped || this.small || this.disabled) return;
        const labelSelector = this.labelSelector;
        this.loop = new WatchLoop<V1Pod>(this.kc, {
            what: `pods of ${this.ref.kind} ${this.ref.namespace}/${this.ref.name}`,
            path: `/api/v1/namespaces/${encodeURIComponent(this.ref.namespace)}/pods`,
            query: { labelSelector },
            initialResourceVersion: this.resourceVersion,
            list: (signal) => this.listPods(labelSelector, signal),
            onReset: (items) => {
                this.reset(items);
                this.notify();
            },
            onEvent: (type, pod) => {
                this.events++;
                this.observe(type, pod);
                this.notify();
            },
            onProblem: this.onProblem,
            // Without the watch, a waiting pod still sees its workload through refresh() every safetyRecheckMs.
            fallback: "re-listing them while a pod waits for a replacement",
            onWatchRefused: this.onWarning,
        });
        // A failed (re)list is reported through onProblem and retried by the loop; the safety re-check also runs.
        void this.loop
            .start()
            .catch((err) => this.onProblem(`listing pods of ${this.label} failed (${describeFailure(toApiFailure(err))}); will retry`));
    }

    private listPods(labelSelector: string | undefined, signal: AbortSignal): Promise<Listing<V1Pod>> {
        const client = clientFor(this.kc);
        const namespace = this.ref.namespace;
        return listAllPages<V1Pod>(
            `list pods of ${this.ref.kind} ${namespace}/${this.ref.name}`,
            (token) =>
                client.call((o) => client.core.listNamespacedPod({ namespace, labelSelector, limit: 500, _continue: token }, o), {
                    signal,
                }),
            { signal },
        );
    }

    private reset(items: V1Pod[]): void {
        this.pods.clear();
        for (const p of items) this.observe("ADDED", p);
        this.listed = true;
    }

    private observe(type: "ADDED" | "MODIFIED" | "DELETED", pod: V1Pod): void {
        const uid = pod.metadata?.uid ?? "";
        if (type === "DELETED" || controllerOf(pod)?.uid !== this.ref.uid) this.pods.delete(uid);
        else this.pods.set(uid, pod);
    }

    /** Whether the pod (by UID) still counts as Ready. A pod the listing no longer has is gone: not Ready. */
    isReady(pod: V1Pod): boolean {
        const uid = pod.metadata?.uid ?? "";
        const latest = this.pods.get(uid) ?? (this.listed ? undefined : pod);
        return !!latest && countsAsReady(latest, this.evicting);
    }

    readyReplicas(): number {
        return readyReplicas(this.pods.values(), this.ref.uid, this.evicting);
    }

    notify(): void {
        for (const wake of [...this.waiters]) wake();
    }

    /** Resolves true on the next change, false after maxMs or when the signal aborts. */
    nextChange(maxMs: number, signal: AbortSignal): Promise<boolean> {
        return new Promise((resolve) => {
            if (this.stopped || signal.aborted) return resolve(false);
            const done = (changed: boolean) => {
                clearTimeout(timer);
                this.waiters.delete(wake);
                signal.removeEventListener("abort", onAbort);
                resolve(changed);
            };
            const wake = () => done(true);
            const onAbort = () => done(false);
            const timer = setTimeout(() => done(false), Math.max(0, maxMs));
            this.waiters.add(wake);
            signal.addEventListener("abort", onAbort, { once: true });
        });
    }

    /**
     * Safety re-check behind the watch: the controller again (spec.replicas may have changed) and a fresh LIST
     * of the pods. The LIST is dropped if watch events arrived meanwhile (it may be older than they are).
     */
    refresh(minIntervalMs: number): Promise<void> {
        if (this.refreshing) return this.refreshing;
        if (Date.now() - this.lastRefresh < minIntervalMs) return Promise.resolve();
        this.refreshing = (async () => {
            try {
                const facts = await readController(this.kc, this.ref, this.signal);
                if (!facts) {
                    this.disabled = `${this.ref.kind} ${this.ref.namespace}/${this.ref.name} no longer exists`;
                    return;
                }
                this.apply(facts);
                const before = this.events;
                const { items } = await this.listPods(selectorQuery(facts.selector), this.signal);
                if (this.events === before) this.reset(items);
            } catch (err) {
                if (!this.signal.aborted)
                    this.onProblem(`re-checking pods of ${this.label} failed (${describeFailure(toApiFailure(err))}); will retry`);
            } finally {
                this.lastRefresh = Date.now();
                this.refreshing = undefined;
                this.notify();
            }
        })();
        return this.refreshing;
    }

    stop(): void {
        this.stopped = true;
        this.controller.abort();
        this.loop?.stop();
        this.notify();
    }
}

export interface WorkloadPacerOptions {
    node: string;
    kc: KubeConfig;
    deadline: Deadline;
    /** maxUnavailablePerWorkload (> 0). */
    maxUnavailable: number;
    /** Pods are deleted, not evicted: no budget is checked, so budget-covered workloads are paced too. */
    deleting: boolean;
    dryRunServer: boolean;
    safetyRecheckMs: number;
    budgets: BudgetTracker;
    emit: (e: ProgressEvent) => void;
    /** Reports, once, what the operator should fix (kept for the DrainResult's warnings). */
    warn: (message: string) => void;
}

/** The gate every pod of a drain passes before its eviction when maxUnavailablePerWorkload > 0. */
export class WorkloadPacer {
    private readonly workloads = new Map<string, Workload>();
    private readonly pendingCount = new Map<string, number>();
    private readonly admitted = new Map<string, { w: Workload; uid: string }>();
    private readonly waiting = new Map<string, Workload>();

    constructor(
        private readonly o: WorkloadPacerOptions,
        pods: V1Pod[],
    ) {
        for (const pod of pods) {
            const ref = pacedWorkloadOf(pod);
            if (ref) this.pendingCount.set(workloadKey(ref), (this.pendingCount.get(workloadKey(ref)) ?? 0) + 1);
        }
    }

    private problem(message: string): void {
        this.o.emit({ type: "retrying", node: this.o.node, message });
    }

    private workload(ref: WorkloadRef): Workload {
        const key = workloadKey(ref);
        let w = this.workloads.get(key);
        if (!w) {
            w = new Workload(this.o.kc, ref, this.o.maxUnavailable, this.o.deadline.signal, (m) => this.problem(m), this.o.warn);
            this.workloads.set(key, w);
            w.started.catch(() => this.o.warn(`not pacing pods of ${w!.label}: ${w!.disabled}`));
        }
        return w;
    }

    private async coveredByBudget(pod: V1Pod): Promise<boolean> {
        const ns = pod.metadata?.namespace ?? "";
        // A namespace whose budgets cannot be listed is treated as uncovered: pacing is the safe side.
        const tracked = await untilAborted(this.o.budgets.track(ns), this.o.deadline.signal).then(
            () => true,
            () => {
                this.o.deadline.throwIfOver();
                return false;
            },
        );
        return tracked && this.o.budgets.matching(pod).length > 0;
    }

    private numbers(w: Workload, candidateReady: boolean): WorkloadNumbers & { allow: boolean } {
        const ready = w.readyReplicas();
        const d = decideEviction({
            maxUnavailable: this.o.maxUnavailable,
            desiredReplicas: w.desired,
            readyReplicas: ready,
            candidateReady,
        });
        return {
            namespace: w.ref.namespace,
            kind: w.display.kind,
            name: w.display.name,
            desiredReplicas: w.desired,
            readyReplicas: ready,
            requiredReady: d.requiredReady,
            maxUnavailable: this.o.maxUnavailable,
            allow: d.allow,
        };
    }

    /**
     * Resolves when the pod may be evicted (at once when it is not paced). While it waits, `setWaiting` is
     * called so the executor can report the pod's phase. Throws the deadline's error when the drain's time is up.
     */
    async admit(pod: V1Pod, key: string, setWaiting: (waiting: boolean) => void): Promise<void> {
        const ref = pacedWorkloadOf(pod);
        if (!ref) return;
        const { deadline } = this.o;
        let w: Workload | undefined;
        try {
            const coveredByBudget = this.o.deleting || this.o.dryRunServer ? false : await this.coveredByBudget(pod);
            if (
                !isPaced({
                    maxUnavailable: this.o.maxUnavailable,
                    dryRunServer: this.o.dryRunServer,
                    deleting: this.o.deleting,
                    coveredByBudget,
                    workload: ref,
                })
            )
                return;
            w = this.workload(ref);
            await untilAborted(w.started, deadline.signal).catch(() => deadline.throwIfOver());
            let lastMessage = "";
            for (;;) {
                deadline.throwIfOver();
                if (w.disabled || w.stopped) return;
                const n = this.numbers(w, w.isReady(pod));
                if (n.allow || w.small) {
                    w.evicting.add(pod.metadata?.uid ?? "");
                    this.admitted.set(key, { w, uid: pod.metadata?.uid ?? "" });
                    return;
                }
                w.ensureWatching();
                this.waiting.set(key, w);
                setWaiting(true);
                const { allow: _allow, ...workload } = n;
                const message = `pod ${key} ${describeWorkloadWait(workload)}`;
                if (message !== lastMessage) {
                    lastMessage = message;
                    this.o.emit({ type: "waiting-on-workload", node: this.o.node, pod: key, workload, message });
                }
                const changed = await w.nextChange(Math.min(this.o.safetyRecheckMs, deadline.remainingMs()), deadline.signal);
                deadline.throwIfOver();
                if (!changed) await w.refresh(this.o.safetyRecheckMs / 2);
            }
        } finally {
            if (!deadline.over) {
                this.waiting.delete(key);
                setWaiting(false);
            }
            const wk = workloadKey(ref);
            const left = (this.pendingCount.get(wk) ?? 1) - 1;
            this.pendingCount.set(wk, left);
            // The last of the workload's pods on this node passed (or gave up): its watch is no longer needed.
            if (left <= 0) (w ?? this.workloads.get(wk))?.stop();
        }
    }

    /** The eviction of an admitted pod did not happen (it failed): the pod counts as available again. */
    release(key: string): void {
        const a = this.admitted.get(key);
        if (!a) return;
        this.admitted.delete(key);
        a.w.evicting.delete(a.uid);
        a.w.notify();
    }

    /** For a pod still waiting at the gate: the reason and the workload's numbers now. */
    describe(pod: V1Pod, key: string): { reason: string; workload: WorkloadNumbers } | undefined {
        const w = this.waiting.get(key);
        if (!w) return undefined;
        const { allow: _allow, ...workload } = this.numbers(w, w.isReady(pod));
        return { reason: describeWorkloadWait(workload), workload };
    }

    stop(): void {
        for (const w of this.workloads.values()) w.stop();
    }
}
