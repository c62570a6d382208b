// Watch support: a bounded history of store events (the "watch cache") and the
// fan-out of new events to open watches. Watchers are grouped by resource, so
// each event only visits the watches of its own resource type.

import type { FieldRequirement, LabelMatcher } from "./selectors";
import { matchFields, matchLabels } from "./selectors";
import { keyOf } from "./store";
import type { K8sObject, Store, StoreEvent } from "./store";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchFilter {
    resource: string;
    namespace?: string;
    labels?: LabelMatcher;
    fields?: FieldRequirement[];
}

/** Why a watch stream ended on the server side: a fault ("dropped"), shutdown, or the handler's own reasons. */
export type WatchCloseReason = "dropped" | "shutdown" | "other";

export class Watcher {
    closed = false;
    closeReason: WatchCloseReason | undefined;
    sent = 0;
    lastRv = 0;
    private onCloseFns: (() => void)[] = [];

    constructor(
        readonly filter: WatchFilter,
        /** writes one event; returns false if the consumer is gone */
        private readonly write: (type: WatchEventType, obj: K8sObject) => void,
    ) {}

    matches(o: K8sObject | undefined): boolean {
        if (!o) return false;
        const f = this.filter;
        if (f.namespace && o.metadata?.namespace !== f.namespace) return false;
        if (f.labels && !matchLabels(f.labels, o.metadata?.labels)) return false;
        if (f.fields && f.fields.length && !matchFields(f.fields, o)) return false;
        return true;
    }

    send(type: WatchEventType, obj: K8sObject): void {
        if (this.closed) return;
        this.sent++;
        const rv = Number(obj?.metadata?.resourceVersion);
        if (Number.isFinite(rv)) this.lastRv = rv;
        this.write(type, obj);
    }

    /** Deliver a store event, translating selector transitions like the watch cache does. */
    deliver(e: StoreEvent): void {
        const nowMatch = e.type !== "DELETED" && this.matches(e.object);
        const wasMatch = e.type !== "ADDED" && this.matches(e.old);
        if (e.type === "DELETED") {
            if (wasMatch) this.send("DELETED", e.object);
        } else if (nowMatch && wasMatch) this.send("MODIFIED", e.object);
        else if (nowMatch) this.send("ADDED", e.object);
        else if (wasMatch) this.send("DELETED", e.object);
    }

    onClose(fn: () => void): void {
        this.onCloseFns.push(fn);
    }

    close(reason: WatchCloseReason = "other"): void {
        if (this.closed) return;
        this.closed = true;
        this.closeReason = reason;
        for (const fn of this.onCloseFns) fn();
    }
}

export class WatchHub {
    private history: StoreEvent[] = [];
    private head = 0; // index of the oldest retained event in `history` (ring buffer)
    /** every event with rv > horizon is still in the history */
    private horizon: number;
    /** the horizon the last compact() set: older resourceVersions are gone because of it */
    private compactedRv = 0;
    private watchers = new Map<string, Set<Watcher>>();

    constructor(
        private readonly store: Store,
        private readonly capacity = 20000,
    ) {
        this.horizon = store.currentRv();
        store.subscribe((e) => this.onEvent(e));
    }

    /** Forget the history (like an etcd compaction): older resourceVersions get 410. */
    compact(): void {
        this.forget();
        this.compactedRv = this.horizon;
    }

    private forget(): void {
        this.history = [];
        this.head = 0;
        this.horizon = this.store.currentRv();
    }

    /** Called after a bulk (quiet) scenario load: history starts here. */
    resetHorizon(): void {
        this.forget();
    }

    /** True when `rv` is too old because of a compact() (not because the history filled up). */
    compactedAway(rv: number): boolean {
        return rv < this.compactedRv;
    }

    oldestValidRv(): number {
        return this.horizon;
    }

    activeWatchers(): number {
        let n = 0;
        for (const s of this.watchers.values()) n += s.size;
        return n;
    }

    private onEvent(e: StoreEvent): void {
        if (this.history.length - this.head >= this.capacity) {
            this.horizon = this.history[this.head].rv;
            this.head++;
            if (this.head > 4096) {
                this.history = this.history.slice(this.head);
                this.head = 0;
            }
        }
        this.history.push(e);
        const ws = this.watchers.get(e.resource);
        if (!ws) return;
        for (const w of [...ws]) w.deliver(e);
    }

    /**
     * The objects of `resource` as they were at resourceVersion `rv`, sorted by key: the current state with the
     * history after `rv` undone (a list at an exact resourceVersion, as etcd serves it). Throws ExpiredError when
     * `rv` is older than the history.
     */
    listAt(resource: string, rv: number): K8sObject[] {
        if (rv < this.horizon) throw new ExpiredError(rv, this.horizon, this.compactedAway(rv));
        const byKey = new Map(this.store.list(resource).map((o) => [keyOf(o), o]));
        for (let i = this.history.length - 1; i >= this.head && this.history[i].rv > rv; i--) {
            const e = this.history[i];
            if (e.resource !== resource) continue;
            if (e.type === "ADDED") byKey.delete(keyOf(e.object));
            else byKey.set(keyOf(e.object), e.old ?? e.object);
        }
        return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
    }

    /**
     * Start a watch. `fromRv`: undefined → initial ADDED events for the current
     * state, then live; a number → replay history after it (throws "expired" if
     * it is older than the history). Returns the watcher (already registered).
     */
    start(w: Watcher, fromRv: number | undefined, initial: () => K8sObject[]): void {
        if (fromRv === undefined) {
            for (const o of initial()) if (w.matches(o)) w.send("ADDED", o);
        } else {
            if (fromRv < this.horizon) throw new ExpiredError(fromRv, this.horizon, this.compactedAway(fromRv));
            for (let i = this.head; i < this.history.length; i++) {
                const e = this.history[i];
                if (e.rv > fromRv && e.resource === w.filter.resource) w.deliver(e);
            }
        }
        if (w.closed) return;
        let set = this.watchers.get(w.filter.resource);
        if (!set) this.watchers.set(w.filter.resource, (set = new Set()));
        set.add(w);
        w.onClose(() => set!.delete(w));
    }

    /** Ends every open watch; returns how many were open. */
    closeAll(reason: WatchCloseReason = "shutdown"): number {
        let n = 0;
        for (const s of this.watchers.values()) {
            for (const w of [...s]) {
                if (w.closed) continue;
                w.close(reason);
                n++;
            }
        }
        return n;
    }
}

export class ExpiredError extends Error {
    constructor(
        readonly requested: number,
        readonly oldest: number,
        /** the resourceVersion was dropped by an explicit compaction */
        readonly compacted = false,
    ) {
        super(`too old resource version: ${requested} (${oldest})`);
    }
}
