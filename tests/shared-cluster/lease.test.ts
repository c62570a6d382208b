// The Lease lock against the in-process simulated API server (real HTTPS, real client-node).
import assert from "node:assert/strict";
import {
    acquireLease,
    DEFAULT_LOCK_POLL_MS,
    evaluateLease,
    GateBlockedError,
    holderIdentity,
    leaseGate,
    readLease,
    releaseLease,
    tryAcquireLease,
    type LeaseState,
} from "../../shared-cluster";
import { Events, JumpClock, lease, ManualClock, micro, simPerTest } from "./helpers";

const A = "pulumi:infra/prod alice@build-01 pid 4242";
const B = "cli bob@laptop pid 77";

describe("shared-cluster: lease lock", function () {
    const sim = simPerTest();

    it("holderIdentity names program, stack, user, host and pid", () => {
        assert.equal(holderIdentity({ tool: "pulumi", project: "infra", stack: "prod", user: "alice", host: "build-01", pid: 4242 }), A);
        assert.equal(holderIdentity({ tool: "cli", user: "bob", host: "laptop", pid: 77 }), B);
        assert.match(holderIdentity({ tool: "cli" }), new RegExp(`^cli \\S+@\\S+ pid ${process.pid}$`));
    });

    it("evaluateLease is pure: absent, free, ours, held, expired (renewTime + TTL < now)", () => {
        const base: LeaseState = { namespace: "kube-system", name: "node-upgrade", exists: true };
        const t = Date.parse("2026-12-01T10:00:00Z");
        assert.deepEqual(evaluateLease({ ...base, exists: false }, A, t), { status: "absent" });
        assert.deepEqual(evaluateLease(base, A, t), { status: "free" });
        const held = { ...base, holderIdentity: B, renewTime: new Date(t - 30_000), leaseDurationSeconds: 60 };
        assert.deepEqual(evaluateLease(held, A, t), { status: "held", holder: B, expiresAt: new Date(t + 30_000) });
        assert.equal(evaluateLease(held, B, t).status, "ours");
        assert.equal(evaluateLease(held, A, t + 30_000).status, "held", "expiry is strict: renewTime + TTL < now");
        assert.deepEqual(evaluateLease(held, A, t + 30_001), { status: "expired", holder: B, expiredAt: new Date(t + 30_000) });
        assert.equal(evaluateLease({ ...base, holderIdentity: B }, A, t).status, "expired", "a holder that never renewed");
    });

    it("creates the Lease, writes MicroTime with 6 digits, names the holder for preview, and releases by clearing the holder", async () => {
        const { c, kc } = await sim();
        assert.equal((await readLease(kc)).exists, false);
        const ev = new Events();
        const held = await acquireLease(kc, { holderIdentity: A }, { onProgress: ev.push });
        try {
            const l = lease(c);
            assert.equal(l.spec.holderIdentity, A);
            assert.equal(l.spec.leaseDurationSeconds, 60);
            assert.match(l.spec.renewTime, /\.\d{6}Z$/, "MicroTime: kube-apiserver rejects fewer fraction digits");
            assert.match(l.spec.acquireTime, /\.\d{6}Z$/);
            assert.match(
                ev.messages("acquired")[0],
                /^acquired lease kube-system\/node-upgrade as pulumi:infra\/prod .* \(created, TTL 60s\)$/,
            );
            const seen = await readLease(kc);
            assert.equal(seen.holderIdentity, A);
            const gate = await leaseGate(kc, { holderIdentity: B }).check();
            assert.equal(gate.ok, false);
            assert.match(
                (gate as any).reason,
                /^lease kube-system\/node-upgrade is held by pulumi:infra\/prod alice@build-01 pid 4242 \(expires at /,
            );
        } finally {
            assert.equal(await held.release(), true);
        }
        const l = lease(c);
        assert.equal(l.spec.holderIdentity, undefined, "release clears holderIdentity (the Lease object stays)");
        assert.equal(l.spec.leaseDurationSeconds, 1);
        assert.equal(await held.release(), true, "idempotent");
        assert.deepEqual(ev.messages("released"), ["released lease kube-system/node-upgrade"]);
        // the next contender takes the free Lease at once; leaseTransitions counts holder changes
        const next = await acquireLease(kc, { holderIdentity: B });
        assert.equal(lease(c).spec.holderIdentity, B);
        assert.equal(lease(c).spec.leaseTransitions, 1);
        await next.release();
    });

    // A race needs both contenders to read before either writes: the simulator answers both reads 300 ms late.
    // On a loaded machine the second read may still arrive after the first write (then the loser simply reads the
    // winner); every round must have exactly one winner, and within a few rounds the write race must happen.
    it("two contenders racing for an absent Lease: exactly one wins (the other's create gets 409)", async () => {
        const { c, kc } = await sim();
        let raced = false;
        for (let round = 0; round < 5 && !raced; round++) {
            if (lease(c)) c.delete("Lease", "kube-system", "node-upgrade");
            c.faults.clear();
            c.clearRequestLog();
            c.faults.add({ type: "latency", verb: "get", resource: "leases", ms: 300, count: 2 });
            const [ra, rb] = await Promise.all([tryAcquireLease(kc, { holderIdentity: A }), tryAcquireLease(kc, { holderIdentity: B })]);
            assert.equal([ra, rb].filter((r) => r.acquired).length, 1, "exactly one winner");
            const winner = ra.acquired ? A : B;
            const loser = ra.acquired ? rb : ra;
            assert.equal(lease(c).spec.holderIdentity, winner);
            assert.ok(!loser.acquired && loser.verdict.status === "held" && loser.verdict.holder === winner);
            raced = c.requestLog().some((r) => r.method === "POST" && r.resource === "leases" && r.status === 409);
        }
        assert.ok(raced, "both contenders created the Lease at the same time in at least one round");
    });

    it("two contenders racing to take over an expired Lease: the resourceVersion lets exactly one PUT through", async () => {
        const { c, kc } = await sim();
        let raced = false;
        for (let round = 0; round < 5 && !raced; round++) {
            const old = Date.now() - 120_000;
            c.apply({
                apiVersion: "coordination.k8s.io/v1",
                kind: "Lease",
                metadata: { name: "node-upgrade", namespace: "kube-system" },
                spec: {
                    holderIdentity: "cli crashed@old pid 1",
                    leaseDurationSeconds: 60,
                    acquireTime: micro(old),
                    renewTime: micro(old),
                    leaseTransitions: 3,
                },
            });
            c.faults.clear();
            c.clearRequestLog();
            c.faults.add({ type: "latency", verb: "get", resource: "leases", ms: 300, count: 2 });
            const [ra, rb] = await Promise.all([tryAcquireLease(kc, { holderIdentity: A }), tryAcquireLease(kc, { holderIdentity: B })]);
            assert.equal([ra, rb].filter((r) => r.acquired).length, 1, "exactly one winner");
            assert.equal(lease(c).spec.holderIdentity, ra.acquired ? A : B);
            assert.equal(lease(c).spec.leaseTransitions, 4);
            const puts = c.requestLog().filter((r) => r.method === "PUT" && r.resource === "leases");
            assert.equal(puts.filter((r) => r.status === 200).length, 1);
            raced = puts.some((r) => r.status === 409);
        }
        assert.ok(raced, "both contenders wrote the takeover at the same time in at least one round");
    });

    it("takes over an expired Lease and says so: held by X, expired at T", async () => {
        const { c, kc } = await sim();
        const renew = Date.now() - 90_000;
        c.apply({
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: "node-upgrade", namespace: "kube-system" },
            spec: { holderIdentity: "cli crashed@old pid 1", leaseDurationSeconds: 60, renewTime: micro(renew), acquireTime: micro(renew) },
        });
        const ev = new Events();
        const held = await acquireLease(kc, { holderIdentity: A }, { onProgress: ev.push });
        assert.deepEqual(ev.messages("takeover"), [
            `taking over the lease kube-system/node-upgrade held by cli crashed@old pid 1, expired at ${new Date(renew + 60_000).toISOString()}`,
        ]);
        assert.match(ev.messages("acquired")[0], /\(took over, TTL 60s\)/);
        assert.equal(lease(c).spec.holderIdentity, A);
        await held.release();
    });

    it("waits while another holds it, reporting the holder, and gets it when the holder releases", async () => {
        const { c, kc } = await sim();
        const first = await acquireLease(kc, { holderIdentity: A });
        const ev = new Events();
        const waiting = acquireLease(kc, { holderIdentity: B }, { onProgress: ev.push, timeoutMs: 30_000, pollMs: 20 });
        const w = await ev.next((e) => e.phase === "waiting");
        assert.match(
            w.message,
            /^waiting: lease kube-system\/node-upgrade is held by pulumi:infra\/prod alice@build-01 pid 4242 \(expires at .*\) \(\d+s left\)$/,
        );
        await first.release();
        const second = await waiting;
        assert.equal(lease(c).spec.holderIdentity, B);
        await second.release();
    });

    it("notices a release within 1 s (DEFAULT_LOCK_POLL_MS), not 5 s: the wait re-checks every second", async () => {
        const { c, kc } = await sim();
        assert.equal(DEFAULT_LOCK_POLL_MS, 1000);
        const first = await acquireLease(kc, { holderIdentity: A });
        const clock = new ManualClock(); // B's time moves only when we say so
        const ev = new Events();
        const waiting = acquireLease(kc, { holderIdentity: B }, { onProgress: ev.push, timeoutMs: 10 * 60_000, clock });
        await ev.next((e) => e.phase === "waiting"); // reported right before the wait loop sleeps
        assert.equal(clock.sleeping, 1);
        await first.release();
        const releasedAt = clock.now();
        clock.advance(DEFAULT_LOCK_POLL_MS - 1);
        assert.equal(clock.sleeping, 1, "no re-check before the poll interval is up");
        clock.advance(1);
        const second = await waiting;
        assert.equal(clock.now() - releasedAt, DEFAULT_LOCK_POLL_MS, "taken at the first re-check after the release");
        assert.equal(lease(c).spec.holderIdentity, B);
        assert.match(ev.messages("acquired")[0], /^acquired lease kube-system\/node-upgrade as cli bob@laptop pid 77 \(was free/);
        await second.release();
    });

    it("pollMs sets the re-check interval while waiting", async () => {
        const { c, kc } = await sim();
        const first = await acquireLease(kc, { holderIdentity: A });
        const clock = new ManualClock();
        const ev = new Events();
        const waiting = acquireLease(kc, { holderIdentity: B }, { onProgress: ev.push, timeoutMs: 60_000, pollMs: 250, clock });
        await ev.next((e) => e.phase === "waiting");
        await first.release();
        clock.advance(249);
        assert.equal(clock.sleeping, 1, "no re-check before pollMs");
        clock.advance(1);
        const second = await waiting;
        assert.equal(lease(c).spec.holderIdentity, B);
        await second.release();
    });

    it("gives up after the timeout with an error naming the holder", async () => {
        const { kc } = await sim();
        const first = await acquireLease(kc, { holderIdentity: A });
        try {
            const clock = new JumpClock(); // the waits take no real time; 10 s < the 60 s TTL, so A stays valid
            await assert.rejects(acquireLease(kc, { holderIdentity: B }, { timeoutMs: 10_000, pollMs: 1000, clock }), (err: any) => {
                assert.ok(err instanceof GateBlockedError);
                assert.match(
                    err.message,
                    /^gave up after 10s waiting for lease kube-system\/node-upgrade: lease kube-system\/node-upgrade is held by pulumi:infra\/prod alice@build-01 pid 4242/,
                );
                return true;
            });
            await assert.rejects(
                acquireLease(kc, { holderIdentity: B }),
                /held by pulumi:infra\/prod alice@build-01 pid 4242/,
                "timeout 0: one attempt",
            );
        } finally {
            await first.release();
        }
    });

    it("renewing keeps it: past the first expiry a contender is refused; past the renewed expiry it takes over", async () => {
        const { c, kc } = await sim();
        const t0 = Date.now();
        const clockA = new ManualClock(t0);
        const ev = new Events();
        let onLost!: (e: Error) => void;
        const lost = new Promise<Error>((resolve) => (onLost = resolve));
        const held = await acquireLease(kc, { holderIdentity: A }, { clock: clockA, onProgress: ev.push, onLost: (e) => onLost(e) });
        assert.equal(Date.parse(lease(c).spec.renewTime), t0);
        // the renew loop sleeps TTL/3 = 20 s on A's clock
        clockA.advance(50_000);
        await ev.next((e) => e.phase === "renewed");
        assert.equal(Date.parse(lease(c).spec.renewTime), t0 + 50_000);
        // without the renewal it would have expired at t0+60s; it is now valid until t0+110s
        const at100 = await tryAcquireLease(kc, { holderIdentity: B }, { clock: new ManualClock(t0 + 100_000) });
        assert.equal(at100.acquired, false);
        assert.ok(!at100.acquired && at100.verdict.status === "held" && at100.verdict.holder === A);
        held.assertHeld();
        // A stops renewing (its clock stands still); at t0+111s B takes over and A learns it on its next renewal
        const at111 = await tryAcquireLease(kc, { holderIdentity: B }, { clock: new ManualClock(t0 + 111_000) });
        assert.equal(at111.acquired, true);
        clockA.advance(20_000);
        const err = await lost;
        assert.match(err.message, /^lease kube-system\/node-upgrade is now held by cli bob@laptop pid 77: we lost it$/);
        assert.throws(() => held.assertHeld(), /we lost it/);
        assert.equal(await held.release(), false, "not ours any more: release writes nothing");
        assert.equal(lease(c).spec.holderIdentity, B);
    });

    it("a renewal refused for good (403: the permission is gone) loses the Lease at once; a 503 is retried and keeps it", async () => {
        const { c, kc } = await sim();
        const ev = new Events();
        const lost: { with?: Error } = {};
        const held = await acquireLease(kc, { holderIdentity: A }, { onProgress: ev.push, onLost: (e) => (lost.with = e) });
        c.faults.add({ verb: "update", resource: "leases", status: 503, count: 1 });
        await held.renew();
        assert.ok(
            ev.all.some((e) => e.phase === "renew-failed"),
            "the 503 is reported as a failed renewal",
        );
        held.assertHeld();
        assert.equal(lost.with === undefined, true, "still held after the 503");
        c.faults.add({
            verb: "update",
            resource: "leases",
            status: 403,
            count: 1,
            message:
                'leases.coordination.k8s.io "node-upgrade" is forbidden: User "ci" cannot update resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"',
        });
        await held.renew();
        assert.match(
            lost.with?.message ?? "",
            /^lease kube-system\/node-upgrade cannot be renewed, and retrying cannot help: .*cannot update resource "leases".*HTTP 403/,
        );
        assert.throws(() => held.assertHeld(), /cannot be renewed, and retrying cannot help/);
        await held.release();
    });

    it("someone labels the Lease while we hold it: the renewal retries after the 409 and keeps the label", async () => {
        const { c, kc } = await sim();
        const held = await acquireLease(kc, { holderIdentity: A });
        const l = lease(c);
        c.apply({ ...l, metadata: { ...l.metadata, labels: { team: "platform" } } });
        c.clearRequestLog();
        await held.renew();
        assert.deepEqual(
            c.requestLog().map((r) => `${r.method} ${r.status}`),
            ["PUT 409", "GET 200", "PUT 200"],
        );
        assert.equal(lease(c).spec.holderIdentity, A);
        assert.deepEqual(lease(c).metadata.labels, { team: "platform" });
        held.assertHeld();
        await held.release();
        assert.deepEqual(lease(c).metadata.labels, { team: "platform" });
    });

    it("release only if we still hold it", async () => {
        const { c, kc } = await sim();
        const held = await acquireLease(kc, { holderIdentity: B });
        assert.equal(await releaseLease(kc, { holderIdentity: A }), false);
        assert.equal(lease(c).spec.holderIdentity, B);
        assert.equal(await held.release(), true);
        assert.equal(await releaseLease(kc, { holderIdentity: B }), false, "already released");
    });

    it("custom namespace/name and TTL; renewIntervalMs defaults to TTL/3", async () => {
        const { c, kc } = await sim();
        const clock = new ManualClock();
        const ev = new Events();
        const held = await acquireLease(
            kc,
            { holderIdentity: A, namespace: "default", name: "rolls", leaseDurationSeconds: 30 },
            { clock, onProgress: ev.push },
        );
        assert.equal(lease(c, "rolls", "default").spec.leaseDurationSeconds, 30);
        clock.advance(9_999);
        assert.equal(clock.sleeping, 1, "no renewal before TTL/3 (10 s)");
        clock.advance(1);
        await ev.next((e) => e.phase === "renewed");
        await held.release();
        assert.equal(lease(c, "rolls", "default").spec.holderIdentity, undefined);
    });
});
