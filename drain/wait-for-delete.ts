// Waiting for evicted/deleted pods to be really gone, with kubectl's rule: a pod is done when its object is
// gone (404) or a pod of the same name now has another UID (a StatefulSet replacement). kubectl polls every
// pod every second; we watch the node's pods (one connection) and back it up with a slow LIST of the node.
// The --skip-wait-for-delete-timeout rule is applied with a timer on each pod's deletionTimestamp.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { deletionOlderThan } from "./filters";
import { clientFor } from "./kube-client";
import { listPodsOnNodeWithVersion } from "./list-pods";
import { timeMillis } from "./objects";
import { WatchLoop } from "./watch-loop";
import { formatDuration, podKey } from "../kube-rules";

export type GoneHow = "gone" | "replaced" | "skipped";

interface Pending {
    uid: string;
    latest: V1Pod;
    resolve: (how: GoneHow) => void;
    skipTimer?: NodeJS.Timeout;
}

export interface DeletionWaiterOptions {
    /** --skip-wait-for-delete-timeout (seconds; 0 = never skip). */
    skipWaitSeconds?: number;
    /** Interval of the safety LIST (ms). */
    recheckMs?: number;
    /** Reports watch/list trouble (being retried). */
    onProblem?: (message: string) => void;
    /** Reports, once, a watch the server refused (e.g. 403): the safety LIST every recheckMs stands in for it. */
    onWarning?: (message: string) => void;
    /** Called whenever a tracked pod changes (e.g. gets its deletionTimestamp). */
    onPodChange?: (pod: V1Pod) => void;
}

/** Tracks the pods of one node that we asked to go away. */
export class DeletionWaiter {
    private readonly pending = new Map<string, Pending>();
    /** UIDs seen deleted, so a pod that vanishes before track() is called is not waited on forever. */
    private readonly deletedUids = new Set<string>();
    /** Latest copy of every pod on the node seen by the watch or the safety list, by ns/name. */
    private readonly seen = new Map<string, V1Pod>();
    private loop?: WatchLoop<V1Pod>;
    private recheckTimer?: NodeJS.Timeout;
    private rechecking = false;
    private stopped = false;

    constructor(
        private readonly kc: KubeConfig,
        private readonly node: string,
        private readonly o: DeletionWaiterOptions = {},
    ) {}

    /** Starts watching the node's pods from `resourceVersion` (the listing we classified). */
    start(pods: V1Pod[], resourceVersion?: string): void {
        for (const pod of pods) this.seen.set(podKey(pod), pod);
        this.loop = new WatchLoop<V1Pod>(this.kc, {
            what: `pods on node "${this.node}"`,
            path: "/api/v1/pods",
            query: { fieldSelector: `spec.nodeName=${this.node}` },
            initialResourceVersion: resourceVersion,
            list: (signal) => listPodsOnNodeWithVersion(this.kc, this.node, { signal }),
            onReset: (items) => this.reconcile(items),
            onEvent: (type, pod) => this.observe(type, pod),
            onProblem: this.o.onProblem,
            fallback: `listing the node's pods every ${formatDuration((this.o.recheckMs ?? 5000) / 1000)} instead`,
            onWatchRefused: this.o.onWarning,
        });
        void this.loop.start().catch(() => undefined);
        this.scheduleRecheck();
    }

    /** Latest known state of a pod (for "what is it waiting for" messages). */
    latest(key: string): V1Pod | undefined {
        return this.pending.get(key)?.latest ?? this.seen.get(key);
    }

    /**
     * Resolves when the pod (as captured before the eviction, with its UID) is gone or replaced, or the skip-wait
     * rule lets us stop waiting. Rejects when the signal aborts.
     */
    track(pod: V1Pod, signal: AbortSignal): Promise<GoneHow> {
        const key = podKey(pod);
        const uid = pod.metadata?.uid ?? "";
        if (this.deletedUids.has(uid)) return Promise.resolve("gone");
        const seen = this.seen.get(key);
        if (seen && seen.metadata?.uid !== uid && this.deletedUids.has(uid)) return Promise.resolve("replaced");
        return new Promise<GoneHow>((resolve, reject) => {
            if (signal.aborted) return reject(signal.reason);
            const onAbort = () => {
                this.forget(key);
                reject(signal.reason);
            };
            signal.addEventListener("abort", onAbort, { once: true });
            const entry: Pending = {
                uid,
                latest: seen?.metadata?.uid === uid ? seen : pod,
                resolve: (how) => {
                    signal.removeEventListener("abort", onAbort);
                    this.forget(key);
                    resolve(how);
                },
            };
            this.pending.set(key, entry);
            this.armSkipTimer(key, entry);
        });
    }

    /** Feeds a fresher copy of a tracked pod (e.g. from a GET after a refused eviction). */
    update(pod: V1Pod): void {
        this.observe("MODIFIED", pod);
    }

    stop(): void {
        this.stopped = true;
        this.loop?.stop();
        if (this.recheckTimer) clearTimeout(this.recheckTimer);
        for (const p of this.pending.values()) if (p.skipTimer) clearTimeout(p.skipTimer);
    }

    private forget(key: string): void {
        const p = this.pending.get(key);
        if (p?.skipTimer) clearTimeout(p.skipTimer);
        this.pending.delete(key);
    }

    private observe(type: "ADDED" | "MODIFIED" | "DELETED", pod: V1Pod): void {
        const key = podKey(pod);
        const uid = pod.metadata?.uid ?? "";
        if (type === "DELETED") {
            this.deletedUids.add(uid);
            if (this.seen.get(key)?.metadata?.uid === uid) this.seen.delete(key);
        } else {
            this.seen.set(key, pod);
        }
        const p = this.pending.get(key);
        if (p) {
            if (type === "DELETED" && uid === p.uid) return p.resolve("gone");
            if (type !== "DELETED" && uid !== p.uid) return p.resolve("replaced");
            if (uid === p.uid) {
                p.latest = pod;
                this.armSkipTimer(key, p);
            }
        }
        if (type !== "DELETED") this.o.onPodChange?.(pod);
    }

    /** A full list of the node's pods: any tracked UID that is absent is gone. */
    private reconcile(items: V1Pod[]): void {
        const byKey = new Map(items.map((p) => [podKey(p), p]));
        for (const [key] of [...this.seen]) if (!byKey.has(key)) this.seen.delete(key);
        for (const pod of items) this.seen.set(podKey(pod), pod);
        for (const [key, p] of [...this.pending]) {
            const now = byKey.get(key);
            if (!now) {
                this.deletedUids.add(p.uid);
                p.resolve("gone");
            } else if (now.metadata?.uid !== p.uid) {
                this.deletedUids.add(p.uid);
                p.resolve("replaced");
            } else {
                p.latest = now;
                this.armSkipTimer(key, p);
            }
        }
    }

    /** kubectl's skip rule: floor(now - deletionTimestamp) > N seconds. A timer fires at that moment. */
    private armSkipTimer(key: string, p: Pending): void {
        const n = this.o.skipWaitSeconds ?? 0;
        if (n <= 0 || p.skipTimer) return;
        const dts = timeMillis(p.latest.metadata?.deletionTimestamp);
        if (Number.isNaN(dts)) return;
        if (deletionOlderThan(p.latest, n, new Date())) return p.resolve("skipped");
        const dueIn = dts + (n + 1) * 1000 - Date.now() + 5;
        p.skipTimer = setTimeout(
            () => {
                p.skipTimer = undefined;
                if (this.pending.get(key) === p && deletionOlderThan(p.latest, n, new Date())) p.resolve("skipped");
                else if (this.pending.get(key) === p) this.armSkipTimer(key, p);
            },
            Math.max(0, dueIn),
        );
        p.skipTimer.unref?.();
    }

    private scheduleRecheck(): void {
        if (this.stopped) return;
        // Not unref'd: without a watch (refused) this timer is all that keeps a CLI process waiting; stop() clears it.
        this.recheckTimer = setTimeout(() => void this.recheck(), this.o.recheckMs ?? 5000);
    }

    /** Safety net behind the watch: one LIST of the node's pods. Failures are ignored (the next tick retries). */
    private async recheck(): Promise<void> {
        if (this.stopped || this.rechecking) return;
        if (this.pending.size > 0) {
            this.rechecking = true;
            try {
                const controller = new AbortController();
                const timer = setTimeout(() => controller.abort(), 15_000);
                try {
                    const { items } = await listPodsOnNodeWithVersion(this.kc, this.node, { signal: controller.signal });
                    if (!this.stopped) this.reconcile(items);
                } finally {
                    clearTimeout(timer);
                }
            } catch {
                // transient: the watch or the next recheck will catch up
            } finally {
                this.rechecking = false;
            }
        }
        this.scheduleRecheck();
    }
}

/** One GET of a pod (no retries); undefined when it is gone. Used to refresh a pod after a refused eviction. */
export async function getPodOrUndefined(kc: KubeConfig, namespace: string, name: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
    const client = clientFor(kc);
    try {
        return await client.call((o) => client.core.readNamespacedPod({ name, namespace }, o), { signal });
    } catch (err: any) {
        if (err?.code === 404) return undefined;
        throw err;
    }
}
