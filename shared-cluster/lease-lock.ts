// The cluster-wide "one roll at a time" lock: a coordination.k8s.io/v1 Lease (default kube-system/node-upgrade).
//
// Acquire: create the Lease, or take it over when it is free (no holderIdentity) or expired (renewTime +
// leaseDurationSeconds < now). Every write after the create is a PUT carrying the resourceVersion we read, so when
// two contenders race for a free or expired Lease the API server accepts exactly one write and answers the other
// 409 Conflict (a racing create gets 409 AlreadyExists): two contenders can never both win.
//
// TTL: leaseDurationSeconds defaults to 60 s, renewed every TTL/3 (20 s). A roll takes minutes to hours, so a
// short TTL costs nothing but one small PUT per 20 s, while it bounds what a crashed holder costs the next run:
// at most 60 s of waiting before a takeover. Renewing at TTL/3 leaves two further attempts before the Lease can
// expire under us, riding out a brief API outage. (kube-controller-manager uses 15 s with a 10 s deadline because
// it fails over a live component; we are not in that hurry.)
//
// Release: we clear holderIdentity (a conditional PUT, only while we still hold it) instead of deleting the Lease.
// The same object then serves the next run (its leaseTransitions count stays meaningful), the identity needs no
// delete permission, and this is what client-go's leader election does on release (holder "", leaseDurationSeconds
// 1, so tools that ignore an empty holder still see it expire within a second).
//
// Expiry compares the holder's renewTime with our clock: with clocks more than a few seconds apart the takeover
// happens that much earlier or later. client-go avoids this by timing how long the record stays unchanged; we
// keep the rule stated in the issue (and give tests an injectable clock).
//
// Waiting for a holder: we re-check every DEFAULT_LOCK_POLL_MS (1 s; option pollMs), so a release is noticed within
// about a second. A watch on the Lease would be quicker still, but our Role (deploy/rbac.yaml) grants no watch on
// leases; one GET of one small object per second costs the API server next to nothing.
import { V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { blocked, DEFAULT_LOCK_POLL_MS, formatMs, pass, systemClock, waitUntil, type Clock, type GateResult, type Gate } from "./gate";
import type { SharedClusterProgress } from "./events";
import { clientFor, errorMessage, isObjectNotFound } from "../drain";
import { apiFailed, isConflict, permanentApiFailure } from "./api";

export const DEFAULT_LEASE_NAMESPACE = "kube-system";
export const DEFAULT_LEASE_NAME = "node-upgrade";
export const DEFAULT_LEASE_DURATION_SECONDS = 60;

export interface LeaseRef {
    /** Default kube-system. */
    namespace?: string;
    /** Default node-upgrade. */
    name?: string;
}

export interface LeaseLockOptions extends LeaseRef {
    /** Who we are (see holderIdentity()). */
    holderIdentity: string;
    /** TTL written into the Lease. Default 60. */
    leaseDurationSeconds?: number;
    /** Renew period while held. Default TTL/3. */
    renewIntervalMs?: number;
    /** Time limit of one API request. Default 30 s (capped at the renew interval while renewing). */
    requestTimeoutMs?: number;
}

/** What the Lease says, read from the cluster (or made by hand in tests). */
export interface LeaseState {
    namespace: string;
    name: string;
    exists: boolean;
    holderIdentity?: string;
    acquireTime?: Date;
    renewTime?: Date;
    leaseDurationSeconds?: number;
    leaseTransitions?: number;
    resourceVersion?: string;
    /** Labels and annotations someone put on the Lease: our writes keep them. */
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** The pure reading of a Lease at an instant. */
export type LeaseVerdict =
    | { status: "absent" }
    | { status: "free" }
    | { status: "ours"; expiresAt: Date }
    | { status: "held"; holder: string; expiresAt: Date }
    | { status: "expired"; holder: string; expiredAt: Date };

export const leaseKey = (r: LeaseRef) => `${r.namespace ?? DEFAULT_LEASE_NAMESPACE}/${r.name ?? DEFAULT_LEASE_NAME}`;

/**
 * Pure: who holds the Lease at `now` (ms) from `me`'s point of view. A Lease with a holder but no renewTime (nor
 * acquireTime) counts as expired; a missing leaseDurationSeconds counts as `defaultTtlSeconds`.
 */
export function evaluateLease(
    state: LeaseState,
    me: string | undefined,
    now: number,
    defaultTtlSeconds = DEFAULT_LEASE_DURATION_SECONDS,
): LeaseVerdict {
    if (!state.exists) return { status: "absent" };
    const holder = state.holderIdentity ?? "";
    if (!holder) return { status: "free" };
    const since = (state.renewTime ?? state.acquireTime)?.getTime() ?? 0;
    const ttl = state.leaseDurationSeconds && state.leaseDurationSeconds > 0 ? state.leaseDurationSeconds : defaultTtlSeconds;
    const expiresAt = new Date(since + ttl * 1000);
    if (me && holder === me) return { status: "ours", expiresAt };
    if (expiresAt.getTime() < now) return { status: "expired", holder, expiredAt: expiresAt };
    return { status: "held", holder, expiresAt };
}

/** Pure: the verdict as a gate result (only "held by someone else" blocks). */
export function leaseGateResult(key: string, verdict: LeaseVerdict): GateResult {
    switch (verdict.status) {
        case "absent":
            return pass(`lease ${key} does not exist yet: free`);
        case "free":
            return pass(`lease ${key} is free`);
        case "ours":
            return pass(`lease ${key} is held by us until ${verdict.expiresAt.toISOString()}`);
        case "expired":
            return pass(`lease ${key} was held by ${verdict.holder}, expired at ${verdict.expiredAt.toISOString()}: free to take over`);
        case "held":
            return blocked(`lease ${key} is held by ${verdict.holder} (expires at ${verdict.expiresAt.toISOString()} unless renewed)`);
    }
}

/** A time field from the API: client-node leaves MicroTime fields as strings and turns Time fields into Dates. */
function toDate(v: unknown): Date | undefined {
    if (v === undefined || v === null || v === "") return undefined;
    const d = v instanceof Date ? v : new Date(String(v));
    return Number.isNaN(d.getTime()) ? undefined : d;
}

function stateFrom(ref: LeaseRef, lease: V1Lease | undefined): LeaseState {
    const namespace = ref.namespace ?? DEFAULT_LEASE_NAMESPACE;
    const name = ref.name ?? DEFAULT_LEASE_NAME;
    if (!lease) return { namespace, name, exists: false };
    const s = lease.spec ?? {};
    return {
        namespace,
        name,
        exists: true,
        holderIdentity: s.holderIdentity || undefined,
        acquireTime: toDate(s.acquireTime),
        renewTime: toDate(s.renewTime),
        leaseDurationSeconds: s.leaseDurationSeconds,
        leaseTransitions: s.leaseTransitions,
        resourceVersion: lease.metadata?.resourceVersion,
        labels: lease.metadata?.labels,
        annotations: lease.metadata?.annotations,
    };
}

interface Req {
    signal?: AbortSignal;
    timeoutMs?: number;
}

/** The API server says this Lease does not exist (not a 404 for a wrong path or an API it does not serve). */
const isLeaseNotFound = (err: unknown, ref: LeaseRef) => isObjectNotFound(err, "leases", ref.name ?? DEFAULT_LEASE_NAME);

async function getLease(kc: KubeConfig, ref: LeaseRef, req: Req): Promise<V1Lease | undefined> {
    const client = clientFor(kc);
    try {
        return await client.call(
            (o) =>
                client.coordination.readNamespacedLease(
                    { name: ref.name ?? DEFAULT_LEASE_NAME, namespace: ref.namespace ?? DEFAULT_LEASE_NAMESPACE },
                    o,
                ),
            req,
        );
    } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (isLeaseNotFound(err, ref)) return undefined;
        throw apiFailed(`cannot read lease ${leaseKey(ref)}`, err);
    }
}

/** Reads the Lease (read-only; a missing Lease is `exists: false`). For preview/plan: who holds it now. */
export async function readLease(kc: KubeConfig, ref: LeaseRef = {}, req: Req = {}): Promise<LeaseState> {
    return stateFrom(ref, await getLease(kc, ref, req));
}

/** A read-only gate: blocked while someone else holds an unexpired Lease. */
export function leaseGate(kc: KubeConfig, ref: LeaseRef & { holderIdentity?: string }, clock: Clock = systemClock): Gate {
    const key = leaseKey(ref);
    return {
        name: `lease ${key}`,
        async check(signal) {
            const state = await readLease(kc, ref, { signal });
            return leaseGateResult(key, evaluateLease(state, ref.holderIdentity, clock.now()));
        },
    };
}

const micro = (ms: number) => new V1MicroTime(ms);

function leaseBody(
    ref: LeaseRef,
    spec: V1Lease["spec"],
    resourceVersion?: string,
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): V1Lease {
    return {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
            // keep labels/annotations someone put there; drop server-managed fields except resourceVersion
            labels: metadata.labels,
            annotations: metadata.annotations,
            name: ref.name ?? DEFAULT_LEASE_NAME,
            namespace: ref.namespace ?? DEFAULT_LEASE_NAMESPACE,
            ...(resourceVersion ? { resourceVersion } : {}),
        },
        spec,
    };
}

async function putLease(kc: KubeConfig, ref: LeaseRef, body: V1Lease, req: Req): Promise<V1Lease> {
    const client = clientFor(kc);
    return client.call(
        (o) =>
            client.coordination.replaceNamespacedLease(
                { name: ref.name ?? DEFAULT_LEASE_NAME, namespace: ref.namespace ?? DEFAULT_LEASE_NAMESPACE, body },
                o,
            ),
        req,
    );
}

export type TryAcquireResult =
    | { acquired: true; state: LeaseState; created: boolean; tookOverFrom?: { holder: string; expiredAt: Date } }
    | { acquired: false; state: LeaseState; verdict: LeaseVerdict; reason: string };

export interface LeaseContext {
    clock?: Clock;
    signal?: AbortSignal;
    onProgress?: SharedClusterProgress;
}

/**
 * One attempt to take the Lease: create it, or take it over when free/expired (a PUT with the resourceVersion we
 * read). Losing a race is not an error: the result says `acquired: false` and who won. Other API errors throw.
 */
export async function tryAcquireLease(kc: KubeConfig, opts: LeaseLockOptions, ctx: LeaseContext = {}): Promise<TryAcquireResult> {
    const clock = ctx.clock ?? systemClock;
    const key = leaseKey(opts);
    const ttl = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    const req = { signal: ctx.signal, timeoutMs: opts.requestTimeoutMs };
    for (let attempt = 0; ; attempt++) {
        const current = await getLease(kc, opts, req);
        const state = stateFrom(opts, current);
        const verdict = evaluateLease(state, opts.holderIdentity, clock.now(), ttl);
        if (verdict.status === "held") {
            const r = leaseGateResult(key, verdict);
            return { acquired: false, state, verdict, reason: r.ok ? "" : r.reason };
        }
        const now = clock.now();
        const spec = {
            holderIdentity: opts.holderIdentity,
            leaseDurationSeconds: ttl,
            acquireTime: micro(verdict.status === "ours" && state.acquireTime ? state.acquireTime.getTime() : now),
            renewTime: micro(now),
            leaseTransitions:
                (state.leaseTransitions ?? 0) + (verdict.status === "expired" || (verdict.status === "free" && state.exists) ? 1 : 0),
        };
        try {
            if (verdict.status === "absent") {
                const client = clientFor(kc);
                const made = await client.call(
                    (o) =>
                        client.coordination.createNamespacedLease(
                            {
                                namespace: opts.namespace ?? DEFAULT_LEASE_NAMESPACE,
                                body: leaseBody(opts, { ...spec, leaseTransitions: 0 }),
                            },
                            o,
                        ),
                    req,
                );
                return { acquired: true, state: stateFrom(opts, made), created: true };
            }
            if (verdict.status === "expired") {
                ctx.onProgress?.({
                    item: "lease",
                    phase: "takeover",
                    message: `taking over the lease ${key} held by ${verdict.holder}, expired at ${verdict.expiredAt.toISOString()}`,
                });
            }
            const written = await putLease(kc, opts, leaseBody(opts, spec, state.resourceVersion, state), req);
            return {
                acquired: true,
                state: stateFrom(opts, written),
                created: false,
                ...(verdict.status === "expired" ? { tookOverFrom: { holder: verdict.holder, expiredAt: verdict.expiredAt } } : {}),
            };
        } catch (err) {
            if (ctx.signal?.aborted) throw ctx.signal.reason;
            if (!isConflict(err)) throw apiFailed(`cannot write lease ${key}`, err);
            // Someone wrote the Lease between our read and our write. Read again: usually they now hold it.
            if (attempt >= 2) {
                const again = stateFrom(opts, await getLease(kc, opts, req));
                const v = evaluateLease(again, opts.holderIdentity, clock.now(), ttl);
                return { acquired: false, state: again, verdict: v, reason: `lease ${key} changed while we tried to take it` };
            }
        }
    }
}

/**
 * Releases the Lease if (and only if) `holderIdentity` still holds it: clears holderIdentity with a conditional
 * PUT. Returns false when someone else holds it (nothing is written) or it does not exist.
 */
export async function releaseLease(
    kc: KubeConfig,
    opts: LeaseLockOptions,
    ctx: { clock?: Clock; signal?: AbortSignal } = {},
): Promise<boolean> {
    const clock = ctx.clock ?? systemClock;
    const req = { signal: ctx.signal, timeoutMs: opts.requestTimeoutMs };
    for (let attempt = 0; attempt < 5; attempt++) {
        const current = await getLease(kc, opts, req);
        const state = stateFrom(opts, current);
        if (!state.exists || state.holderIdentity !== opts.holderIdentity) return false;
        const now = clock.now();
        const spec = {
            leaseDurationSeconds: 1,
            acquireTime: micro(now),
            renewTime: micro(now),
            leaseTransitions: state.leaseTransitions ?? 0,
        };
        try {
            await putLease(kc, opts, leaseBody(opts, spec, state.resourceVersion, state), req);
            return true;
        } catch (err) {
            if (ctx.signal?.aborted) throw ctx.signal.reason;
            if (!isConflict(err)) throw apiFailed(`cannot release lease ${leaseKey(opts)}`, err);
        }
    }
    throw new Error(`cannot release lease ${leaseKey(opts)}: it keeps changing under us`);
}

export interface AcquireLeaseOptions extends LeaseContext {
    /** How long to wait for a holder to release or expire. 0: one attempt. Default 0. */
    timeoutMs?: number;
    /** Pause between attempts while held by someone else. Default DEFAULT_LOCK_POLL_MS (1 s). */
    pollMs?: number;
    /** Called once when a held Lease is lost (taken by someone else, deleted, or not renewable before it expired). */
    onLost?: (err: LeaseLostError) => void;
}

export class LeaseLostError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LeaseLostError";
    }
}

/**
 * Waits (up to `timeoutMs`, reporting who holds it) until the Lease can be taken, takes it, and starts renewing it
 * every renewIntervalMs. Throws a GateBlockedError naming the holder on timeout. Call `release()` when done.
 */
export async function acquireLease(kc: KubeConfig, opts: LeaseLockOptions, o: AcquireLeaseOptions = {}): Promise<HeldLease> {
    const key = leaseKey(opts);
    let won: Extract<TryAcquireResult, { acquired: true }> | undefined;
    const attempt: Gate = {
        name: `lease ${key}`,
        async check(signal) {
            const r = await tryAcquireLease(kc, opts, { ...o, signal });
            if (r.acquired) {
                won = r;
                return pass();
            }
            return blocked(r.reason);
        },
    };
    await waitUntil(
        attempt,
        o.timeoutMs ?? 0,
        (p) => o.onProgress?.({ item: "lease", phase: "waiting", message: `waiting: ${p.reason} (${formatMs(p.remainingMs)} left)` }),
        { clock: o.clock, signal: o.signal, pollMs: o.pollMs ?? DEFAULT_LOCK_POLL_MS },
    );
    const ttl = opts.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    o.onProgress?.({
        item: "lease",
        phase: "acquired",
        message: `acquired lease ${key} as ${opts.holderIdentity} (${won!.created ? "created" : won!.tookOverFrom ? "took over" : "was free"}, TTL ${ttl}s)`,
    });
    return new HeldLease(kc, opts, won!.state, o);
}

/** A Lease we hold: renewed in the background until release() (or until it is lost). */
export class HeldLease {
    readonly key: string;
    private state: LeaseState;
    private lastRenewOk: number;
    private stopped = false;
    private lostError?: LeaseLostError;
    private readonly stop = new AbortController();
    private inFlight: Promise<void> = Promise.resolve();
    private readonly loop: Promise<void>;
    private readonly clock: Clock;
    private readonly ttlMs: number;
    private readonly intervalMs: number;

    constructor(
        private readonly kc: KubeConfig,
        readonly options: LeaseLockOptions,
        state: LeaseState,
        private readonly ctx: AcquireLeaseOptions,
    ) {
        this.key = leaseKey(options);
        this.state = state;
        this.clock = ctx.clock ?? systemClock;
        this.lastRenewOk = this.clock.now();
        this.ttlMs = (options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS) * 1000;
        this.intervalMs = Math.max(1, options.renewIntervalMs ?? this.ttlMs / 3);
        this.loop = this.renewLoop();
    }

    get holderIdentity(): string {
        return this.options.holderIdentity;
    }

    /** Set once the Lease is lost; the roll must stop before touching another node. */
    get lost(): LeaseLostError | undefined {
        return this.lostError;
    }

    /** Throws the LeaseLostError if the Lease was lost or our last successful renewal is older than the TTL. */
    assertHeld(): void {
        if (!this.lostError && !this.stopped && this.clock.now() - this.lastRenewOk > this.ttlMs)
            this.markLost(
                `lease ${this.key} was not renewed for ${formatMs(this.clock.now() - this.lastRenewOk)} (TTL ${this.ttlMs / 1000}s)`,
            );
        if (this.lostError) throw this.lostError;
        if (this.stopped) throw new LeaseLostError(`lease ${this.key} was released`);
    }

    private markLost(message: string): void {
        if (this.lostError) return;
        this.lostError = new LeaseLostError(message);
        this.stopped = true;
        this.stop.abort(this.lostError);
        this.ctx.onProgress?.({ item: "lease", phase: "lost", message });
        this.ctx.onLost?.(this.lostError);
    }

    private async renewLoop(): Promise<void> {
        while (!this.stopped) {
            try {
                await this.clock.sleep(this.intervalMs, this.stop.signal);
            } catch {
                return; // released or lost
            }
            if (this.stopped) return;
            const p = this.renewOnce();
            this.inFlight = p;
            await p;
        }
    }

    /** Renews now (the loop does this every renewIntervalMs). Failures are reported, not thrown. */
    renew(): Promise<void> {
        if (this.stopped) return Promise.resolve();
        const p = this.inFlight.then(() => this.renewOnce());
        this.inFlight = p;
        return p;
    }

    private async renewOnce(): Promise<void> {
        if (this.stopped) return;
        const req = { signal: this.stop.signal, timeoutMs: Math.min(this.options.requestTimeoutMs ?? 30_000, this.intervalMs) };
        try {
            for (let attempt = 0; attempt < 3; attempt++) {
                const now = this.clock.now();
                const body = leaseBody(
                    this.options,
                    {
                        holderIdentity: this.options.holderIdentity,
                        leaseDurationSeconds: this.ttlMs / 1000,
                        acquireTime: micro(this.state.acquireTime?.getTime() ?? now),
                        renewTime: micro(now),
                        leaseTransitions: this.state.leaseTransitions ?? 0,
                    },
                    this.state.resourceVersion,
                    this.state,
                );
                try {
                    this.state = stateFrom(this.options, await putLease(this.kc, this.options, body, req));
                    this.lastRenewOk = now;
                    this.ctx.onProgress?.({
                        item: "lease",
                        phase: "renewed",
                        message: `renewed lease ${this.key} until ${new Date(now + this.ttlMs).toISOString()}`,
                    });
                    return;
                } catch (err) {
                    if (this.stopped) return;
                    if (isLeaseNotFound(err, this.options)) return this.markLost(`lease ${this.key} was deleted while we held it`);
                    if (!isConflict(err)) throw err;
                    // Someone changed the object: still ours (e.g. a label was added) → retry with its resourceVersion.
                    const fresh = await readLease(this.kc, this.options, req);
                    if (!fresh.exists) return this.markLost(`lease ${this.key} was deleted while we held it`);
                    if (fresh.holderIdentity !== this.options.holderIdentity)
                        return this.markLost(`lease ${this.key} is now held by ${fresh.holderIdentity || "nobody"}: we lost it`);
                    this.state = fresh;
                }
            }
            throw new Error("the lease keeps changing under us");
        } catch (err) {
            if (this.stopped) return;
            // A refusal that renewing again cannot change (a 403 once the permission is gone): the Lease will expire
            // under us, so it is lost now, and the roll stops before its next cordon instead of after the TTL.
            if (permanentApiFailure(err))
                return this.markLost(`lease ${this.key} cannot be renewed, and retrying cannot help: ${errorMessage(err)}`);
            const since = this.clock.now() - this.lastRenewOk;
            if (since > this.ttlMs)
                return this.markLost(`lease ${this.key} could not be renewed for ${formatMs(since)}: ${errorMessage(err)}`);
            this.ctx.onProgress?.({
                item: "lease",
                phase: "renew-failed",
                message: `renewing lease ${this.key} failed (will retry): ${errorMessage(err)}`,
            });
        }
    }

    /**
     * Stops renewing and releases the Lease if we still hold it (also after a failed renewal: if nobody took it over,
     * it is still ours to clear). Returns whether a release was written. Idempotent.
     */
    release(): Promise<boolean> {
        this.releasing ??= this.doRelease();
        return this.releasing;
    }
    private releasing?: Promise<boolean>;

    private async doRelease(): Promise<boolean> {
        this.stopped = true;
        this.stop.abort(new Error("released"));
        await this.inFlight.catch(() => undefined);
        await this.loop.catch(() => undefined);
        const released = await releaseLease(this.kc, this.options, { clock: this.clock });
        this.ctx.onProgress?.({
            item: "lease",
            phase: "released",
            message: released ? `released lease ${this.key}` : `lease ${this.key} was no longer ours: left as it is`,
        });
        return released;
    }
}
