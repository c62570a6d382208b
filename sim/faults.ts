// Fault injection. Rules are matched against API requests (error, latency,
// watch drops, discovery), or consulted by controllers (stuck terminating,
// never ready, node never returns after upgrade). Decisions use a seeded PRNG
// so a run with the same seed and request sequence injects the same faults.
//
// Counters count faults that actually took effect, not how often a rule was
// consulted:
//   error, reset, latency  once per request answered with it (latency: once per request
//                          held back, however many latency rules added to its delay)
//   dropWatch              once per watch stream really cut: by a dropWatch rule
//                          (only when its afterEvents/afterMs is reached before the
//                          watch ends otherwise) or by cluster.dropWatches()
//   expired                once per 410 Gone served because compactWatchHistory()
//                          dropped the resourceVersion the client asked for
//   hideEviction           once per /api/v1 discovery document served without pods/eviction
//   stuckTerminating, neverReady  once per pod that got the fault (a controller
//                          asks about the same pod many times; a pod keeps its fault)
//   nodeNeverReturns       once per upgrade whose node then stayed NotReady
// A rule's `count` limits those same injections.

import { Prng } from "./random";
import { matchLabels, parseLabelSelector } from "./apiserver/selectors";

export type FaultType =
    | "error" // answer an API request with an error status
    | "latency" // delay an API request
    | "reset" // destroy the connection without answering (connection reset by peer)
    | "dropWatch" // close watch streams after N events and/or N ms
    | "hideEviction" // remove pods/eviction from /api/v1 discovery
    | "stuckTerminating" // kubelet never confirms deletion of matching pods
    | "neverReady" // matching pods run but never become Ready
    | "nodeNeverReturns"; // a node stays NotReady after an upgrade

export interface FaultRule {
    type?: FaultType; // default "error"
    /** API verb: get, list, watch, create, update, patch, delete, deletecollection ("*" or absent = any) */
    verb?: string;
    /** resource, optionally with subresource: "pods", "pods/eviction", "nodes/status" */
    resource?: string;
    namespace?: string;
    name?: string;
    /** for pod-level faults: label selector string ("app=web") */
    labelSelector?: string;
    /** for nodeNeverReturns */
    node?: string;
    /** error: HTTP status (500, 503, 429, 409, 504, ...) */
    status?: number;
    message?: string;
    /** 429/503: seconds for the Retry-After header */
    retryAfterSeconds?: number;
    /** 429 as API Priority&Fairness sends it: plain-text body */
    plainText?: boolean;
    /** probability per matching request, default 1 */
    rate?: number;
    /** inject at most this many times, then the rule is spent */
    count?: number;
    /** latency: real milliseconds */
    ms?: number;
    /** dropWatch */
    afterEvents?: number;
    afterMs?: number;
}

export interface StoredRule extends FaultRule {
    id: number;
    injected: number;
}

/** A watch that a dropWatch rule will cut, if it lasts long enough. */
export interface DropWatchDecision {
    afterEvents?: number;
    afterMs?: number;
    /** the watch was cut by this decision: count the injection */
    fired(): void;
    /** the watch ended for another reason first: nothing was injected */
    release(): void;
}

export interface FaultDecision {
    latencyMs: number;
    reset?: boolean;
    error?: { status: number; message?: string; retryAfterSeconds?: number; plainText?: boolean };
    dropWatch?: DropWatchDecision;
}

export class FaultInjector {
    private rules: StoredRule[] = [];
    private nextId = 1;
    private total = 0;
    private byType: Record<string, number> = {};
    /** dropWatch decisions handed out whose watch has not ended yet, per rule */
    private pending = new Map<number, number>();
    /** "ruleId/podUid" → whether that pod got the rule's pod-level fault (decided once per pod) */
    private podFaults = new Map<string, boolean>();

    constructor(private rng: Prng) {}

    /** Add a rule; returns its id. */
    add(rule: FaultRule): number {
        const type = rule.type ?? "error";
        validateRule({ ...rule, type });
        const r: StoredRule = { ...rule, type, id: this.nextId++, injected: 0 };
        this.rules.push(r);
        return r.id;
    }

    remove(id: number): boolean {
        const n = this.rules.length;
        this.rules = this.rules.filter((r) => r.id !== id);
        return this.rules.length !== n;
    }

    clear(): void {
        this.rules = [];
    }

    list(): StoredRule[] {
        return this.rules.map((r) => ({ ...r }));
    }

    /** Total number of injected faults since start (or since resetCounts). */
    injected(): number {
        return this.total;
    }

    injectedByType(): Record<string, number> {
        return { ...this.byType };
    }

    resetCounts(): void {
        this.total = 0;
        this.byType = {};
        for (const r of this.rules) r.injected = 0;
    }

    /**
     * Count a fault injected outside the rules, where it took effect: a watch cut by
     * cluster.dropWatches() ("dropWatch"), a 410 served after compactWatchHistory() ("expired").
     */
    record(type: string, n = 1): void {
        if (!(n > 0)) return;
        this.total += n;
        this.byType[type] = (this.byType[type] ?? 0) + n;
    }

    stats(): { injected: number; byType: Record<string, number>; rules: StoredRule[] } {
        return { injected: this.total, byType: this.injectedByType(), rules: this.list() };
    }

    /** The rule's count is not spent (pending dropWatch decisions included) and the rate says yes. */
    private decide(r: StoredRule): boolean {
        if (r.count !== undefined && r.injected + (this.pending.get(r.id) ?? 0) >= r.count) return false;
        const rate = r.rate ?? 1;
        if (rate < 1 && this.rng.next() >= rate) return false;
        return true;
    }

    private count(r: StoredRule, totals = true): void {
        r.injected++;
        if (totals) this.record(r.type!);
    }

    /** Decide and, when the fault is applied right away, count it (`totals`: in the totals too). */
    private fire(r: StoredRule, totals = true): boolean {
        if (!this.decide(r)) return false;
        this.count(r, totals);
        return true;
    }

    private armDropWatch(r: StoredRule): DropWatchDecision {
        this.pending.set(r.id, (this.pending.get(r.id) ?? 0) + 1);
        let done = false;
        const settle = (fired: boolean) => {
            if (done) return;
            done = true;
            this.pending.set(r.id, (this.pending.get(r.id) ?? 1) - 1);
            // a rule removed meanwhile still counts towards the totals
            if (fired) this.count(r);
        };
        return { afterEvents: r.afterEvents, afterMs: r.afterMs, fired: () => settle(true), release: () => settle(false) };
    }

    private matchesRequest(r: StoredRule, verb: string, resource: string, namespace?: string, name?: string): boolean {
        if (r.verb && r.verb !== "*" && r.verb !== verb) return false;
        if (r.resource && r.resource !== "*" && r.resource !== resource) return false;
        if (r.namespace && r.namespace !== namespace) return false;
        if (r.name && r.name !== name) return false;
        return true;
    }

    /** Consulted once per API request (resource = "pods" or "pods/eviction"). */
    onRequest(verb: string, resource: string, namespace?: string, name?: string): FaultDecision {
        const d: FaultDecision = { latencyMs: 0 };
        for (const r of this.rules) {
            if (!this.matchesRequest(r, verb, resource, namespace, name)) continue;
            if (r.type === "latency" && (r.ms ?? 0) > 0 && this.fire(r, false)) d.latencyMs += r.ms!;
            else if (r.type === "reset" && !d.reset && !d.error && this.fire(r)) d.reset = true;
            else if (r.type === "error" && !d.error && !d.reset && this.fire(r)) {
                d.error = { status: r.status ?? 500, message: r.message, retryAfterSeconds: r.retryAfterSeconds, plainText: r.plainText };
            } else if (r.type === "dropWatch" && verb === "watch" && !d.dropWatch && this.decide(r)) {
                d.dropWatch = this.armDropWatch(r);
            }
        }
        if (d.latencyMs > 0) this.record("latency"); // one request held back once, by the sum of the delays
        return d;
    }

    /** Consulted whenever /api/v1 discovery is served. */
    hideEviction(): boolean {
        const r = this.rules.find((x) => x.type === "hideEviction");
        return r ? this.fire(r) : false;
    }

    /**
     * Pod-level faults for controllers. Controllers ask about the same pod on every
     * sync; a pod that got the fault keeps it and is counted once (`count` limits how
     * many pods get it; `rate` is drawn once per pod).
     */
    podHas(type: "stuckTerminating" | "neverReady", pod: any): boolean {
        const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
        for (const r of this.rules) {
            if (r.type !== type) continue;
            if (r.namespace && r.namespace !== pod.metadata?.namespace) continue;
            if (r.name && r.name !== pod.metadata?.name) continue;
            if (r.labelSelector && !matchLabels(parseLabelSelector(r.labelSelector), pod.metadata?.labels)) continue;
            if (r.node && r.node !== pod.spec?.nodeName) continue;
            const key = `${r.id}/${uid}`;
            let has = this.podFaults.get(key);
            if (has === undefined) this.podFaults.set(key, (has = this.fire(r)));
            if (has) return true;
        }
        return false;
    }

    nodeNeverReturns(node: string): boolean {
        const r = this.rules.find((x) => x.type === "nodeNeverReturns" && (!x.node || x.node === node));
        return r ? this.fire(r) : false;
    }
}

function validateRule(r: FaultRule): void {
    const types: FaultType[] = [
        "error",
        "latency",
        "reset",
        "dropWatch",
        "hideEviction",
        "stuckTerminating",
        "neverReady",
        "nodeNeverReturns",
    ];
    if (!types.includes(r.type!)) throw new Error(`unknown fault type ${JSON.stringify(r.type)}; expected one of ${types.join(", ")}`);
    if (r.type === "error" && r.status !== undefined && !(r.status >= 400 && r.status <= 599)) {
        throw new Error(`fault status must be 4xx or 5xx, got ${r.status}`);
    }
    if (r.rate !== undefined && !(r.rate >= 0 && r.rate <= 1)) throw new Error(`fault rate must be in [0,1], got ${r.rate}`);
    if (r.labelSelector) parseLabelSelector(r.labelSelector);
}
