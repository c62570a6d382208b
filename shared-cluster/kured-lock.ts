// Interop with kured (kubereboot/kured, pkg/daemonsetlock): kured keeps its "one node reboots at a time" lock as a
// JSON annotation on its own DaemonSet (default kube-system/kured, annotation weave.works/kured-node-lock):
//
//   single (kured --concurrency=1, the default): {"nodeID":"worker2","metadata":{"unschedulable":false},
//                                                  "created":"2026-01-02T03:04:05.123456789Z","TTL":0}
//   multi  (--concurrency=N > 1):                {"maxOwners":N,"locks":[{…same fields…}, …]}
//
// `created` is a Go time.Time (RFC 3339, nanoseconds), `TTL` a Go time.Duration (integer NANOseconds); TTL 0
// means "never expires" unless kured runs with --lock-ttl, which it then applies to locks recording 0. kured writes
// the annotation with a full Update carrying the resourceVersion it read and deletes it on release.
//
// We WAIT while a live entry names anyone else, and can TAKE the lock in kured's own format so that kured waits
// for us: our nodeID is "node-upgrade:<holderIdentity>", which contains a ':' and a space and so can never equal a
// node name (kured on a node whose name equalled our nodeID would think it held the lock and reboot). In multi
// format we fill all maxOwners slots with our entry: kured only joins while fewer than its --concurrency entries
// are live. Every write is a JSON merge patch carrying metadata.resourceVersion, so the API server rejects it with
// 409 when the DaemonSet changed since we read it (optimistic concurrency, like kured's Update).
//
// We write a TTL (default 15 min) and refresh `created` every TTL/3 while we hold the lock, so a crashed
// node-upgrade blocks kured's reboots for at most 15 minutes; kured checks its lock only every --period (1 h by
// default), so a shorter TTL would buy nothing but more writes to a DaemonSet that GitOps tools may be watching.
//
// If the DaemonSet does not exist, kured is not installed: interop is a no-op and the status says so. Only the API
// server's "daemonsets <name> not found" means that: a 404 for a wrong path (a proxy, a wrong server address) is an
// error, not proof that kured is absent.
import { PatchStrategy, type KubeConfig, type V1DaemonSet } from "@kubernetes/client-node";
import { blocked, DEFAULT_LOCK_POLL_MS, formatMs, pass, systemClock, waitUntil, type Clock, type Gate, type GateResult } from "./gate";
import type { SharedClusterProgress } from "./events";
import { clientFor, errorMessage, isObjectNotFound } from "../drain";
import { apiFailed, isConflict, permanentApiFailure } from "./api";

export const DEFAULT_KURED_NAMESPACE = "kube-system";
export const DEFAULT_KURED_DAEMONSET = "kured";
export const DEFAULT_KURED_ANNOTATION = "weave.works/kured-node-lock";
export const DEFAULT_KURED_TTL_SECONDS = 900;

export interface KuredLockRef {
    /** Default kube-system. */
    namespace?: string;
    /** Default kured. */
    daemonSet?: string;
    /** Default weave.works/kured-node-lock (kured's --lock-annotation). */
    annotation?: string;
}

export interface KuredLockOptions extends KuredLockRef {
    /** kured's --lock-ttl, applied by kured to locks that record TTL 0. Default 0: such locks never expire. */
    assumedTtlSeconds?: number;
    /** TTL we record when we take the lock (refreshed every TTL/3 while held). 0: none. Default 900. */
    ttlSeconds?: number;
    /** kured's --concurrency; > 1 selects the multi-owner format. Default 1 (or the maxOwners an existing value records). */
    concurrency?: number;
    /** Time limit of one API request. Default 30 s. */
    requestTimeoutMs?: number;
}

/** One entry of kured's lock. */
export interface KuredLockEntry {
    nodeID: string;
    /** Missing or Go's zero time ("0001-01-01T00:00:00Z") → undefined. */
    created?: Date;
    /** The recorded TTL in seconds (0 = none). */
    ttlSeconds: number;
    unschedulable: boolean;
}

export interface KuredLockValue {
    format: "single" | "multi";
    /** multi only */
    maxOwners?: number;
    locks: KuredLockEntry[];
}

export class KuredLockFormatError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "KuredLockFormatError";
    }
}

/** Go's RFC 3339 time with up to 9 fractional digits → Date (JS parses at most 3). */
function parseGoTime(v: unknown): Date | undefined {
    if (typeof v !== "string" || !v) return undefined;
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(v);
    if (!m) throw new KuredLockFormatError(`"created" is not an RFC 3339 time: ${JSON.stringify(v)}`);
    const frac = m[2] ? m[2].slice(0, 4).padEnd(4, "0") : "";
    const d = new Date(`${m[1]}${frac}${m[3]}`);
    if (Number.isNaN(d.getTime())) throw new KuredLockFormatError(`"created" is not a valid time: ${JSON.stringify(v)}`);
    return d.getUTCFullYear() <= 1 ? undefined : d;
}

function parseEntry(o: any, where: string): KuredLockEntry {
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new KuredLockFormatError(`${where} is not an object`);
    const ttlNs = o.TTL ?? 0;
    if (typeof ttlNs !== "number" || !Number.isFinite(ttlNs)) throw new KuredLockFormatError(`${where}.TTL is not a number of nanoseconds`);
    return {
        nodeID: typeof o.nodeID === "string" ? o.nodeID : "",
        created: parseGoTime(o.created),
        ttlSeconds: ttlNs / 1e9,
        unschedulable: o.metadata?.unschedulable === true,
    };
}

/** Pure: parses kured's annotation value (either format). Throws KuredLockFormatError with what is wrong. */
export function parseKuredLockValue(text: string): KuredLockValue {
    let o: any;
    try {
        o = JSON.parse(text);
    } catch {
        throw new KuredLockFormatError("not JSON");
    }
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new KuredLockFormatError("not a JSON object");
    if ("locks" in o || "maxOwners" in o) {
        if (o.locks !== null && o.locks !== undefined && !Array.isArray(o.locks)) throw new KuredLockFormatError('"locks" is not a list');
        return {
            format: "multi",
            maxOwners: typeof o.maxOwners === "number" ? o.maxOwners : undefined,
            locks: (o.locks ?? []).map((e: any, i: number) => parseEntry(e, `locks[${i}]`)),
        };
    }
    return { format: "single", locks: [parseEntry(o, "the lock")] };
}

function goEntry(e: KuredLockEntry): object {
    return {
        nodeID: e.nodeID,
        metadata: { unschedulable: e.unschedulable },
        created: (e.created ?? new Date(Date.UTC(1, 0, 1))).toISOString(),
        TTL: Math.round(e.ttlSeconds * 1e9),
    };
}

/** Pure: kured's JSON for a value (field names and units as kured's Go structs marshal them). */
export function formatKuredLockValue(v: KuredLockValue): string {
    if (v.format === "multi") return JSON.stringify({ maxOwners: v.maxOwners ?? v.locks.length, locks: v.locks.map(goEntry) });
    if (v.locks.length !== 1) throw new Error("a single-format kured lock has exactly one entry");
    return JSON.stringify(goEntry(v.locks[0]));
}

/** The nodeID we write into kured's lock for a holder identity; never a valid node name. */
export function kuredNodeId(holderIdentity: string): string {
    return `node-upgrade:${holderIdentity}`;
}

export interface KuredLockState {
    namespace: string;
    daemonSet: string;
    annotation: string;
    daemonSetExists: boolean;
    resourceVersion?: string;
    /** The raw annotation value, when present. */
    raw?: string;
    value?: KuredLockValue;
    /** Set when the annotation is present but cannot be read. */
    parseError?: string;
}

export type KuredVerdict =
    | { status: "not-installed" }
    | { status: "free"; expired: KuredLockEntry[] }
    | { status: "ours" }
    | { status: "held"; holders: Array<KuredLockEntry & { expiresAt?: Date }> }
    | { status: "unreadable"; error: string };

/** Expiry as kured judges it: created + TTL (the recorded one, or kured's --lock-ttl when it recorded 0). */
export function kuredEntryExpiresAt(e: KuredLockEntry, assumedTtlSeconds = 0): Date | undefined {
    const ttl = e.ttlSeconds > 0 ? e.ttlSeconds : assumedTtlSeconds;
    if (ttl <= 0) return undefined;
    return new Date((e.created?.getTime() ?? 0) + ttl * 1000);
}

/** Pure: what kured's lock means for us at `now`. `myNodeId` is kuredNodeId(our holder identity), if any. */
export function evaluateKuredLock(state: KuredLockState, myNodeId: string | undefined, now: number, assumedTtlSeconds = 0): KuredVerdict {
    if (!state.daemonSetExists) return { status: "not-installed" };
    if (state.parseError) return { status: "unreadable", error: state.parseError };
    const locks = state.value?.locks ?? [];
    const withExpiry = locks.map((e) => ({ ...e, expiresAt: kuredEntryExpiresAt(e, assumedTtlSeconds) }));
    const isLive = (e: { expiresAt?: Date }) => !e.expiresAt || e.expiresAt.getTime() > now;
    const live = withExpiry.filter(isLive);
    const expired = withExpiry.filter((e) => !isLive(e));
    const others = live.filter((e) => e.nodeID !== myNodeId);
    if (others.length) return { status: "held", holders: others };
    if (live.length) return { status: "ours" };
    return { status: "free", expired };
}

const dsKey = (s: { namespace: string; daemonSet: string }) => `DaemonSet ${s.namespace}/${s.daemonSet}`;

/** Pure: the verdict as a gate result: blocked while a live entry names anyone else. */
export function kuredGateResult(state: KuredLockState, verdict: KuredVerdict): GateResult {
    const where = `kured lock (${state.annotation} on ${dsKey(state)})`;
    switch (verdict.status) {
        case "not-installed":
            return pass(`${dsKey(state)} not found: kured is not installed, kured interop is a no-op`);
        case "free":
            return pass(
                verdict.expired.length
                    ? `${where} is free (expired entry of ${verdict.expired.map((e) => e.nodeID).join(", ")})`
                    : `${where} is free`,
            );
        case "ours":
            return pass(`${where} is held by us`);
        case "unreadable":
            return blocked(`${where} cannot be read (${verdict.error}); fix or remove the annotation`);
        case "held": {
            const who = verdict.holders
                .map(
                    (h) =>
                        `node ${h.nodeID || '""'}${h.created ? ` since ${h.created.toISOString()}` : ""}` +
                        (h.expiresAt ? ` (expires at ${h.expiresAt.toISOString()})` : " (no TTL)"),
                )
                .join(", ");
            return blocked(`${where} is held by ${who}`);
        }
    }
}

interface Req {
    signal?: AbortSignal;
    timeoutMs?: number;
}

function refOf(r: KuredLockRef) {
    return {
        namespace: r.namespace ?? DEFAULT_KURED_NAMESPACE,
        daemonSet: r.daemonSet ?? DEFAULT_KURED_DAEMONSET,
        annotation: r.annotation ?? DEFAULT_KURED_ANNOTATION,
    };
}

function stateFrom(r: KuredLockRef, ds: V1DaemonSet | undefined): KuredLockState {
    const ref = refOf(r);
    if (!ds) return { ...ref, daemonSetExists: false };
    const raw = ds.metadata?.annotations?.[ref.annotation];
    const state: KuredLockState = { ...ref, daemonSetExists: true, resourceVersion: ds.metadata?.resourceVersion };
    if (raw === undefined) return state;
    state.raw = raw;
    try {
        state.value = parseKuredLockValue(raw);
    } catch (err) {
        state.parseError = (err as Error).message;
    }
    return state;
}

/** The API server says the DaemonSet does not exist: kured is not installed (see the top of this file). */
const isDaemonSetNotFound = (err: unknown, ref: { daemonSet: string }) => isObjectNotFound(err, "daemonsets", ref.daemonSet);

/** Reads kured's lock (read-only). A missing DaemonSet is `daemonSetExists: false`. */
export async function readKuredLock(kc: KubeConfig, r: KuredLockRef = {}, req: Req = {}): Promise<KuredLockState> {
    const ref = refOf(r);
    const client = clientFor(kc);
    try {
        const ds = await client.call((o) => client.apps.readNamespacedDaemonSet({ name: ref.daemonSet, namespace: ref.namespace }, o), req);
        return stateFrom(r, ds);
    } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (isDaemonSetNotFound(err, ref)) return stateFrom(r, undefined);
        throw apiFailed(`cannot read ${dsKey(ref)}`, err);
    }
}

/** A read-only gate: blocked while kured's lock names a node (or anyone other than us). */
export function kuredLockGate(kc: KubeConfig, opts: KuredLockOptions & { holderIdentity?: string }, clock: Clock = systemClock): Gate {
    const ref = refOf(opts);
    return {
        name: `kured lock ${ref.namespace}/${ref.daemonSet}`,
        async check(signal) {
            const state = await readKuredLock(kc, opts, { signal, timeoutMs: opts.requestTimeoutMs });
            const me = opts.holderIdentity ? kuredNodeId(opts.holderIdentity) : undefined;
            return kuredGateResult(state, evaluateKuredLock(state, me, clock.now(), opts.assumedTtlSeconds));
        },
    };
}

/** Conditional merge patch of the annotation (null removes it); 409 when the DaemonSet changed since `rv`. */
async function patchAnnotation(
    kc: KubeConfig,
    r: KuredLockRef,
    rv: string | undefined,
    value: string | null,
    req: Req,
): Promise<KuredLockState> {
    const ref = refOf(r);
    const body = { metadata: { ...(rv ? { resourceVersion: rv } : {}), annotations: { [ref.annotation]: value } } };
    const client = clientFor(kc);
    const ds = await client.call((o) => client.apps.patchNamespacedDaemonSet({ name: ref.daemonSet, namespace: ref.namespace, body }, o), {
        ...req,
        headers: { "Content-Type": PatchStrategy.MergePatch },
    });
    return stateFrom(r, ds);
}

/** Pure: the value we write to hold kured's lock. */
export function ourKuredLockValue(state: KuredLockState, opts: KuredLockOptions, holderIdentity: string, now: number): KuredLockValue {
    const entry: KuredLockEntry = {
        nodeID: kuredNodeId(holderIdentity),
        created: new Date(now),
        ttlSeconds: opts.ttlSeconds ?? DEFAULT_KURED_TTL_SECONDS,
        unschedulable: false,
    };
    const maxOwners = state.value?.format === "multi" ? (state.value.maxOwners ?? opts.concurrency ?? 1) : (opts.concurrency ?? 1);
    if (state.value?.format === "multi" || maxOwners > 1) {
        return { format: "multi", maxOwners, locks: Array.from({ length: Math.max(1, maxOwners) }, () => ({ ...entry })) };
    }
    return { format: "single", locks: [entry] };
}

export type TakeKuredResult =
    { taken: true; noop: boolean; state: KuredLockState } | { taken: false; state: KuredLockState; verdict: KuredVerdict; reason: string };

export interface KuredContext {
    clock?: Clock;
    signal?: AbortSignal;
    onProgress?: SharedClusterProgress;
}

/**
 * One attempt to take kured's lock in kured's format (so kured waits for us). Not installed → `taken: true, noop`.
 * Held by a node → `taken: false` with the reason. Refreshes `created` when we already hold it.
 */
export function tryTakeKuredLock(
    kc: KubeConfig,
    opts: KuredLockOptions & { holderIdentity: string },
    ctx: KuredContext = {},
): Promise<TakeKuredResult> {
    return takeOrRefresh(kc, opts, ctx, false);
}

/** `mustHold`: only refresh an entry we still have (a removed entry means someone unlocked by hand: lost). */
async function takeOrRefresh(
    kc: KubeConfig,
    opts: KuredLockOptions & { holderIdentity: string },
    ctx: KuredContext,
    mustHold: boolean,
): Promise<TakeKuredResult> {
    const clock = ctx.clock ?? systemClock;
    const req = { signal: ctx.signal, timeoutMs: opts.requestTimeoutMs };
    const me = kuredNodeId(opts.holderIdentity);
    for (let attempt = 0; ; attempt++) {
        const state = await readKuredLock(kc, opts, req);
        const verdict = evaluateKuredLock(state, me, clock.now(), opts.assumedTtlSeconds);
        if (verdict.status === "not-installed") return { taken: true, noop: true, state };
        if (verdict.status === "held" || verdict.status === "unreadable") {
            const r = kuredGateResult(state, verdict);
            return { taken: false, state, verdict, reason: r.ok ? "" : r.reason };
        }
        if (mustHold && verdict.status !== "ours")
            return { taken: false, state, verdict, reason: `our entry was removed from ${state.annotation} on ${dsKey(state)}` };
        const value = formatKuredLockValue(ourKuredLockValue(state, opts, opts.holderIdentity, clock.now()));
        try {
            return { taken: true, noop: false, state: await patchAnnotation(kc, opts, state.resourceVersion, value, req) };
        } catch (err) {
            if (ctx.signal?.aborted) throw ctx.signal.reason;
            if (isDaemonSetNotFound(err, state)) continue; // deleted meanwhile: read again (→ not installed)
            if (!isConflict(err)) throw apiFailed(`cannot write the kured lock on ${dsKey(state)}`, err);
            if (attempt >= 2) {
                const again = await readKuredLock(kc, opts, req);
                const v = evaluateKuredLock(again, me, clock.now(), opts.assumedTtlSeconds);
                return {
                    taken: false,
                    state: again,
                    verdict: v,
                    reason: `the kured lock on ${dsKey(again)} changed while we tried to take it`,
                };
            }
        }
    }
}

/**
 * Releases kured's lock if our entry is in it: removes the annotation (single format, or multi with only our
 * entries), or writes the other entries back. Returns false when it is not ours (nothing written).
 */
export async function releaseKuredLock(
    kc: KubeConfig,
    opts: KuredLockOptions & { holderIdentity: string },
    ctx: { signal?: AbortSignal } = {},
): Promise<boolean> {
    const req = { signal: ctx.signal, timeoutMs: opts.requestTimeoutMs };
    const me = kuredNodeId(opts.holderIdentity);
    for (let attempt = 0; attempt < 5; attempt++) {
        const state = await readKuredLock(kc, opts, req);
        if (!state.value || !state.value.locks.some((e) => e.nodeID === me)) return false;
        const rest = state.value.locks.filter((e) => e.nodeID !== me);
        const value = rest.length === 0 ? null : formatKuredLockValue({ ...state.value, locks: rest });
        try {
            await patchAnnotation(kc, opts, state.resourceVersion, value, req);
            return true;
        } catch (err) {
            if (ctx.signal?.aborted) throw ctx.signal.reason;
            if (isDaemonSetNotFound(err, state)) return false;
            if (!isConflict(err)) throw apiFailed(`cannot release the kured lock on ${dsKey(state)}`, err);
        }
    }
    throw new Error(`cannot release the kured lock on ${dsKey(refOf(opts))}: it keeps changing under us`);
}

export interface AcquireKuredOptions extends KuredContext {
    /** How long to wait while a node holds kured's lock. 0: one attempt. Default 0. */
    timeoutMs?: number;
    /** Pause between attempts. Default DEFAULT_LOCK_POLL_MS (1 s; polled, not watched: see gate.ts). */
    pollMs?: number;
    /** Called once if our entry disappears or is replaced while we hold it. */
    onLost?: (err: Error) => void;
}

/**
 * Waits (up to `timeoutMs`, reporting which node holds it) until kured's lock is free, then takes it. With no kured
 * DaemonSet the result is a no-op handle (`noop: true`). Throws a GateBlockedError naming the node on timeout.
 */
export async function acquireKuredLock(
    kc: KubeConfig,
    opts: KuredLockOptions & { holderIdentity: string },
    o: AcquireKuredOptions = {},
): Promise<HeldKuredLock> {
    const ref = refOf(opts);
    let won: Extract<TakeKuredResult, { taken: true }> | undefined;
    await waitUntil(
        {
            name: `kured lock ${ref.namespace}/${ref.daemonSet}`,
            async check(signal) {
                const r = await tryTakeKuredLock(kc, opts, { ...o, signal });
                if (r.taken) {
                    won = r;
                    return pass();
                }
                return blocked(r.reason);
            },
        },
        o.timeoutMs ?? 0,
        (p) => o.onProgress?.({ item: "kured", phase: "waiting", message: `waiting: ${p.reason} (${formatMs(p.remainingMs)} left)` }),
        { clock: o.clock, signal: o.signal, pollMs: o.pollMs ?? DEFAULT_LOCK_POLL_MS },
    );
    o.onProgress?.({
        item: "kured",
        phase: won!.noop ? "info" : "acquired",
        message: won!.noop
            ? `${dsKey(ref)} not found: kured is not installed, nothing to coordinate with`
            : `took the kured lock on ${dsKey(ref)} as ${kuredNodeId(opts.holderIdentity)}: kured waits until we release it`,
    });
    return new HeldKuredLock(kc, opts, won!.noop, o);
}

/** kured's lock while we hold it: `created` refreshed every TTL/3 (when a TTL is recorded) until release(). */
export class HeldKuredLock {
    private stopped = false;
    private readonly stop = new AbortController();
    private readonly loop: Promise<void>;
    private lostError?: Error;
    private releasing?: Promise<boolean>;
    private readonly clock: Clock;

    constructor(
        private readonly kc: KubeConfig,
        readonly options: KuredLockOptions & { holderIdentity: string },
        /** kured is not installed: nothing was written, release() writes nothing. */
        readonly noop: boolean,
        private readonly ctx: AcquireKuredOptions,
    ) {
        this.clock = ctx.clock ?? systemClock;
        const ttl = options.ttlSeconds ?? DEFAULT_KURED_TTL_SECONDS;
        this.loop = noop || ttl <= 0 ? Promise.resolve() : this.refreshLoop((ttl * 1000) / 3);
    }

    get lost(): Error | undefined {
        return this.lostError;
    }

    private async refreshLoop(intervalMs: number): Promise<void> {
        const ref = refOf(this.options);
        while (!this.stopped) {
            try {
                await this.clock.sleep(intervalMs, this.stop.signal);
            } catch {
                return;
            }
            try {
                const r = await takeOrRefresh(this.kc, this.options, { clock: this.clock, signal: this.stop.signal }, true);
                if (!r.taken || r.noop)
                    return this.markLost(
                        r.taken ? `${dsKey(ref)} was deleted while we held its lock` : `we lost the kured lock: ${r.reason}`,
                    );
                this.ctx.onProgress?.({ item: "kured", phase: "renewed", message: `refreshed the kured lock on ${dsKey(ref)}` });
            } catch (err) {
                if (this.stopped) return;
                // A refusal that refreshing again cannot change (a 403 once the permission is gone): the entry will
                // expire under us, so the lock is lost now and the roll stops before its next cordon.
                if (permanentApiFailure(err))
                    return this.markLost(`cannot keep the kured lock (refreshing it again cannot help): ${errorMessage(err)}`);
                this.ctx.onProgress?.({
                    item: "kured",
                    phase: "renew-failed",
                    message: `refreshing the kured lock failed (will retry): ${(err as Error).message}`,
                });
            }
        }
    }

    /** The lock is no longer ours (or cannot stay ours): stop refreshing and tell the roll, once. */
    private markLost(message: string): void {
        this.lostError = new Error(message);
        this.stopped = true;
        this.ctx.onProgress?.({ item: "kured", phase: "lost", message });
        this.ctx.onLost?.(this.lostError);
    }

    /** Stops refreshing and removes our entry if it is still there. Returns whether something was written. Idempotent. */
    release(): Promise<boolean> {
        this.releasing ??= (async () => {
            this.stopped = true;
            this.stop.abort(new Error("released"));
            await this.loop.catch(() => undefined);
            if (this.noop) return false;
            const ref = refOf(this.options);
            const done = await releaseKuredLock(this.kc, this.options);
            this.ctx.onProgress?.({
                item: "kured",
                phase: "released",
                message: done
                    ? `released the kured lock on ${dsKey(ref)}`
                    : `the kured lock on ${dsKey(ref)} was no longer ours: left as it is`,
            });
            return done;
        })();
        return this.releasing;
    }
}
