// Helpers for the shared-cluster tests: an in-process simulated cluster per test, clocks under test control, and
// "wait for this event" promises (no fixed sleeps).
import * as net from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig } from "../../drain";
import { startCluster, type SimCluster, type StartClusterOptions } from "../../sim";
import type { Clock, SharedClusterEvent } from "../../shared-cluster";

/** One simulated cluster per test (timeScale 1: lease times are compared with real clocks), stopped afterwards. */
export function simPerTest(): (opts?: Partial<StartClusterOptions>) => Promise<{ c: SimCluster; kc: KubeConfig }> {
    const sims: SimCluster[] = [];
    afterEach(async () => {
        for (const c of sims.splice(0)) await c.stop();
    });
    return async (opts = {}) => {
        const c = await startCluster({ scenario: "seed", timeScale: 1, ...opts });
        sims.push(c);
        return { c, kc: loadKubeConfig({ kubeconfig: c.kubeconfig }) };
    };
}

/** Time moves only when the test says so; sleepers wake when their time has come. */
export class ManualClock implements Clock {
    private sleepers: Array<{ until: number; resolve: () => void }> = [];
    constructor(public t: number = Date.now()) {}
    now(): number {
        return this.t;
    }
    private sleepWaiters: Array<() => void> = [];
    /** Resolves once something sleeps on this clock (at once if something does now): the loop is waiting for time. */
    whenSleeping(): Promise<void> {
        if (this.sleepers.length > 0) return Promise.resolve();
        return new Promise((resolve) => this.sleepWaiters.push(resolve));
    }
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
        return new Promise((resolve, reject) => {
            if (signal?.aborted) return reject(signal.reason);
            const s = { until: this.t + ms, resolve };
            this.sleepers.push(s);
            for (const w of this.sleepWaiters.splice(0)) w();
            signal?.addEventListener(
                "abort",
                () => {
                    this.sleepers = this.sleepers.filter((x) => x !== s);
                    reject(signal.reason);
                },
                { once: true },
            );
        });
    }
    /** Moves time forward and wakes every sleeper whose time has come. */
    advance(ms: number): void {
        this.t += ms;
        const due = this.sleepers.filter((s) => s.until <= this.t);
        this.sleepers = this.sleepers.filter((s) => s.until > this.t);
        for (const s of due) s.resolve();
    }
    get sleeping(): number {
        return this.sleepers.length;
    }
}

/** Every sleep returns at once and moves time forward by its length: waiting loops run in no real time. */
export class JumpClock implements Clock {
    constructor(public t: number = Date.now()) {}
    now(): number {
        return this.t;
    }
    async sleep(ms: number, signal?: AbortSignal): Promise<void> {
        if (signal?.aborted) throw signal.reason;
        this.t += Math.max(0, ms);
        await new Promise((r) => setImmediate(r));
    }
}

/** Collects progress events; `next(pred)` resolves with the first (past or future) event matching. */
export class Events {
    readonly all: SharedClusterEvent[] = [];
    private waiters: Array<{ pred: (e: SharedClusterEvent) => boolean; resolve: (e: SharedClusterEvent) => void }> = [];
    readonly push = (e: SharedClusterEvent) => {
        this.all.push(e);
        for (const w of this.waiters.filter((x) => x.pred(e))) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(e);
        }
    };
    next(pred: (e: SharedClusterEvent) => boolean): Promise<SharedClusterEvent> {
        const seen = this.all.find(pred);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve) => this.waiters.push({ pred, resolve }));
    }
    messages(phase?: SharedClusterEvent["phase"]): string[] {
        return this.all.filter((e) => !phase || e.phase === phase).map((e) => e.message);
    }
}

export const lease = (c: SimCluster, name = "node-upgrade", ns = "kube-system") => c.get("Lease", ns, name);

export const micro = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** DaemonSet kube-system/kured (no pods: no node has its label), with the given annotations (kured's lock). */
export function kuredDaemonSet(annotations: Record<string, string> = {}, name = "kured", namespace = "kube-system"): any {
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name, namespace, annotations },
        spec: {
            selector: { matchLabels: { name: "kured" } },
            template: {
                metadata: { labels: { name: "kured" } },
                // no node carries this label: the DaemonSet runs no pods, only its annotation matters here
                spec: {
                    nodeSelector: { "example.com/kured": "yes" },
                    containers: [{ name: "kured", image: "ghcr.io/kubereboot/kured:1.17.1" }],
                },
            },
        },
    };
}

/** kured's lock annotation naming `nodeID` as kured writes it (single-owner format, no TTL). */
export function kuredLockHeldBy(nodeID: string): Record<string, string> {
    return {
        "weave.works/kured-node-lock": JSON.stringify({
            nodeID,
            metadata: { unschedulable: false },
            created: new Date().toISOString(),
            TTL: 0,
        }),
    };
}
