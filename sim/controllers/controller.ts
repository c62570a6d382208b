// Shared plumbing for the simulated controllers: a de-duplicating work queue
// fed by store change events, processed asynchronously (never inside the
// store's event callback), plus delayed re-queues on the simulated clock.

import type { SimClock } from "../clock";
import type { FaultInjector } from "../faults";
import type { Prng } from "../random";
import type { Registry } from "../apiserver/registry";
import type { Store, StoreEvent } from "../apiserver/store";
import type { EventRecorder } from "./events";

/** Tunables shared by the controllers (all in simulated seconds). */
export interface ControllerOptions {
    /** before a newly bound pod is Running and Ready */
    startupDelaySeconds: number;
    /** before the unschedulable/not-ready taints follow the node */
    taintDelaySeconds: number;
    /** extra delay before the disruption controller recomputes a PDB */
    disruptionDelaySeconds: number;
    /** how long a dead node keeps its last status before turning Unknown */
    nodeMonitorGraceSeconds: number;
    /** default NotReady time during an upgrade */
    upgradeDownSeconds: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
    startupDelaySeconds: 2,
    taintDelaySeconds: 0.2,
    disruptionDelaySeconds: 0,
    nodeMonitorGraceSeconds: 40,
    upgradeDownSeconds: 15,
};

export interface ControllerContext {
    registry: Registry;
    store: Store;
    clock: SimClock;
    rng: Prng;
    faults: FaultInjector;
    events: EventRecorder;
    options: ControllerOptions;
}

export abstract class Controller {
    abstract readonly name: string;
    private queue = new Set<string>();
    private scheduled = false;
    private unsubscribe: (() => void) | undefined;
    protected stopped = false;
    /** last sync errors, for debugging */
    readonly errors: string[] = [];

    constructor(protected readonly ctx: ControllerContext) {}

    start(): void {
        this.unsubscribe = this.ctx.store.subscribe((e) => {
            if (!this.stopped) this.onEvent(e);
        });
        this.resync();
    }

    stop(): void {
        this.stopped = true;
        this.unsubscribe?.();
        this.queue.clear();
    }

    /** React to a store change by queueing keys (must not write). */
    protected abstract onEvent(e: StoreEvent): void;

    /** Reconcile one key. May write through the registry. */
    protected abstract sync(key: string): void;

    /** Initial pass over existing objects. */
    protected resync(): void {}

    /** Called before each batch of syncs (for per-batch caches). */
    protected beforeBatch(): void {}

    /** True when no work is queued (used to let a fresh cluster settle). */
    idle(): boolean {
        return this.queue.size === 0 && !this.scheduled;
    }

    enqueue(key: string): void {
        if (this.stopped) return;
        this.queue.add(key);
        if (!this.scheduled) {
            this.scheduled = true;
            setImmediate(() => this.drain());
        }
    }

    enqueueAfter(key: string, simSeconds: number): number {
        return this.ctx.clock.setTimeout(() => this.enqueue(key), simSeconds);
    }

    private drain(): void {
        this.scheduled = false;
        if (this.stopped) return;
        const keys = [...this.queue];
        this.queue.clear();
        this.beforeBatch();
        for (const k of keys) {
            try {
                this.sync(k);
            } catch (e) {
                const msg = `${this.name} sync ${k}: ${(e as Error)?.message ?? e}`;
                this.errors.push(msg);
                if (this.errors.length > 50) this.errors.shift();
            }
        }
    }
}

export function nsName(o: any): string {
    return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

export function splitKey(key: string): [string | undefined, string] {
    const i = key.indexOf("/");
    return i < 0 ? [undefined, key] : [key.slice(0, i), key.slice(i + 1)];
}

const controllerRefCache = new WeakMap<object, any>();

/** The ownerReference with controller: true (cached for stored, immutable objects). */
export function controllerRef(o: any): any | undefined {
    if (!o) return undefined;
    if (Object.isFrozen(o) && controllerRefCache.has(o)) return controllerRefCache.get(o);
    const ref = (o.metadata?.ownerReferences ?? []).find((r: any) => r.controller);
    if (Object.isFrozen(o)) controllerRefCache.set(o, ref);
    return ref;
}

export function isPodActive(p: any): boolean {
    const phase = p.status?.phase;
    return !p.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}

export function isPodReady(p: any): boolean {
    return (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

export function isNodeReady(n: any): boolean {
    return (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

/** Annotation knobs all live under one prefix. */
export const KNOB_PREFIX = "sim.node-upgrade.dev/";

export function knob(o: any, name: string): string | undefined {
    return o?.metadata?.annotations?.[KNOB_PREFIX + name];
}

export function knobSeconds(o: any, name: string): number | undefined {
    const v = knob(o, name);
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function knobTrue(o: any, name: string): boolean {
    return knob(o, name) === "true";
}

/** Set or update a condition in a conditions array (keeps lastTransitionTime if status unchanged). */
export function setCondition(conds: any[], c: any, now: string): void {
    const i = conds.findIndex((x) => x.type === c.type);
    const next = { ...c };
    if (i >= 0) {
        next.lastTransitionTime = conds[i].status === c.status ? (conds[i].lastTransitionTime ?? now) : now;
        conds[i] = { ...conds[i], ...next };
    } else {
        next.lastTransitionTime ??= now;
        conds.push(next);
    }
}

/** Stable JSON with sorted keys (template comparisons and hashes). */
export function canonicalJson(v: any): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v)
            .sort()
            .filter((k) => v[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v);
}
