// kured lock interop: kured's annotation format (pure), and wait / take / release on the simulated cluster.
import assert from "node:assert/strict";
import {
    acquireKuredLock,
    DEFAULT_KURED_ANNOTATION,
    DEFAULT_LOCK_POLL_MS,
    evaluateKuredLock,
    formatKuredLockValue,
    GateBlockedError,
    kuredGateResult,
    kuredLockGate,
    kuredNodeId,
    parseKuredLockValue,
    readKuredLock,
    releaseKuredLock,
    tryTakeKuredLock,
    type KuredLockState,
} from "../../shared-cluster";
import type { SimCluster } from "../../sim";
import { Events, JumpClock, ManualClock, kuredDaemonSet, simPerTest } from "./helpers";

const ME = "cli alice@laptop pid 42";
const NS_PER_S = 1e9;

const annotationOf = (c: SimCluster, name = "kured") =>
    c.get("DaemonSet", "kube-system", name)?.metadata?.annotations?.[DEFAULT_KURED_ANNOTATION];
const held = (node: string, created: string, ttlNs = 0) =>
    JSON.stringify({ nodeID: node, metadata: { unschedulable: false }, created, TTL: ttlNs });

describe("shared-cluster: kured lock", function () {
    describe("the annotation format (pure)", () => {
        it("parses kured's single format, Go nanosecond times and Duration TTLs", () => {
            const v = parseKuredLockValue(
                '{"nodeID":"worker2","metadata":{"unschedulable":true},"created":"2026-03-04T05:06:07.123456789Z","TTL":3600000000000}',
            );
            assert.deepEqual(v, {
                format: "single",
                locks: [{ nodeID: "worker2", created: new Date("2026-03-04T05:06:07.123Z"), ttlSeconds: 3600, unschedulable: true }],
            });
            const old = parseKuredLockValue('{"nodeID":"w1","metadata":{"unschedulable":false},"created":"2019-01-01T00:00:00Z"}');
            assert.equal(old.locks[0].ttlSeconds, 0, "kured before 1.5 wrote no TTL");
        });
        it("parses the multi-owner format (--concurrency > 1)", () => {
            const v = parseKuredLockValue(
                '{"maxOwners":2,"locks":[{"nodeID":"a","metadata":{"unschedulable":false},"created":"2026-01-01T00:00:00Z","TTL":0}]}',
            );
            assert.equal(v.format, "multi");
            assert.equal(v.maxOwners, 2);
            assert.deepEqual(
                v.locks.map((l) => l.nodeID),
                ["a"],
            );
        });
        it("names what is wrong with a bad value", () => {
            assert.throws(() => parseKuredLockValue("nope"), /not JSON/);
            assert.throws(() => parseKuredLockValue("[]"), /not a JSON object/);
            assert.throws(() => parseKuredLockValue('{"nodeID":"a","created":"yesterday"}'), /"created" is not an RFC 3339 time/);
            assert.throws(() => parseKuredLockValue('{"nodeID":"a","TTL":"1h"}'), /TTL is not a number of nanoseconds/);
        });
        it("formats exactly kured's fields and units", () => {
            const text = formatKuredLockValue({
                format: "single",
                locks: [{ nodeID: kuredNodeId(ME), created: new Date("2026-12-01T22:00:00Z"), ttlSeconds: 900, unschedulable: false }],
            });
            assert.equal(
                text,
                '{"nodeID":"node-upgrade:cli alice@laptop pid 42","metadata":{"unschedulable":false},"created":"2026-12-01T22:00:00.000Z","TTL":900000000000}',
            );
            assert.ok(!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(kuredNodeId(ME)), "our nodeID can never be a node name");
        });
        it("evaluates: TTL 0 never expires, a recorded TTL does (created + TTL), kured's --lock-ttl applies to TTL 0", () => {
            const now = Date.parse("2026-12-01T12:00:00Z");
            const st = (raw: string): KuredLockState => ({
                namespace: "kube-system",
                daemonSet: "kured",
                annotation: DEFAULT_KURED_ANNOTATION,
                daemonSetExists: true,
                raw,
                value: parseKuredLockValue(raw),
            });
            const noTtl = st(held("worker2", "2026-11-01T00:00:00Z"));
            assert.equal(evaluateKuredLock(noTtl, undefined, now).status, "held");
            assert.equal(evaluateKuredLock(noTtl, undefined, now, 3600).status, "free", "--lock-ttl=1h applies to a lock recording 0");
            const r = kuredGateResult(noTtl, evaluateKuredLock(noTtl, undefined, now));
            assert.equal(r.ok, false);
            assert.equal(
                (r as any).reason,
                "kured lock (weave.works/kured-node-lock on DaemonSet kube-system/kured) is held by node worker2 since 2026-11-01T00:00:00.000Z (no TTL)",
            );
            const ttl = st(held("worker2", "2026-12-01T11:30:00Z", 3600 * NS_PER_S));
            const v = evaluateKuredLock(ttl, undefined, now);
            assert.ok(v.status === "held" && v.holders[0].expiresAt?.toISOString() === "2026-12-01T12:30:00.000Z");
            assert.equal(
                evaluateKuredLock(ttl, undefined, Date.parse("2026-12-01T12:30:00Z")).status,
                "free",
                "kured: expired when since >= TTL",
            );
            assert.deepEqual(kuredGateResult({ ...ttl, daemonSetExists: false }, { status: "not-installed" }), {
                ok: true,
                detail: "DaemonSet kube-system/kured not found: kured is not installed, kured interop is a no-op",
            });
        });
    });

    describe("against the simulated cluster", () => {
        const sim = simPerTest();

        it("no kured DaemonSet: interop is a no-op and the status says so", async () => {
            const { c, kc } = await sim();
            const state = await readKuredLock(kc);
            assert.equal(state.daemonSetExists, false);
            const gate = await kuredLockGate(kc, {}).check();
            assert.deepEqual(gate, {
                ok: true,
                detail: "DaemonSet kube-system/kured not found: kured is not installed, kured interop is a no-op",
            });
            const ev = new Events();
            c.clearRequestLog();
            const h = await acquireKuredLock(kc, { holderIdentity: ME }, { onProgress: ev.push });
            assert.equal(h.noop, true);
            assert.deepEqual(ev.messages(), ["DaemonSet kube-system/kured not found: kured is not installed, nothing to coordinate with"]);
            assert.equal(await h.release(), false);
            assert.deepEqual(
                c.requestLog().map((r) => r.method),
                ["GET"],
                "one read, no write",
            );
        });

        it("waits while kured's lock names a node, then takes it in kured's format; release removes it", async () => {
            const { c, kc } = await sim();
            c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: held("worker2", new Date().toISOString()) }));
            const ev = new Events();
            const taking = acquireKuredLock(kc, { holderIdentity: ME }, { onProgress: ev.push, timeoutMs: 30_000, pollMs: 20 });
            const w = await ev.next((e) => e.phase === "waiting");
            assert.match(
                w.message,
                /^waiting: kured lock \(weave\.works\/kured-node-lock on DaemonSet kube-system\/kured\) is held by node worker2 since .* \(no TTL\) \(\d+s left\)$/,
            );
            // kured on worker2 finishes its reboot and releases (it deletes the annotation)
            const ds = c.get("DaemonSet", "kube-system", "kured");
            delete ds.metadata.annotations[DEFAULT_KURED_ANNOTATION];
            c.apply(ds);
            const h = await taking;
            assert.equal(h.noop, false);
            const raw = annotationOf(c);
            const v = JSON.parse(raw);
            assert.deepEqual(Object.keys(v), ["nodeID", "metadata", "created", "TTL"]);
            assert.equal(v.nodeID, "node-upgrade:cli alice@laptop pid 42");
            assert.deepEqual(v.metadata, { unschedulable: false });
            assert.equal(v.TTL, 900 * NS_PER_S);
            assert.ok(Math.abs(Date.parse(v.created) - Date.now()) < 10_000);
            assert.match(
                ev.messages("acquired")[0],
                /^took the kured lock on DaemonSet kube-system\/kured as node-upgrade:cli alice@laptop pid 42/,
            );
            // while we hold it, a kured node (or another node-upgrade) sees it held
            const other = await kuredLockGate(kc, { holderIdentity: "cli bob@x pid 1" }).check();
            assert.match((other as any).reason, /is held by node node-upgrade:cli alice@laptop pid 42 since .* \(expires at /);
            assert.equal(await h.release(), true);
            assert.equal(annotationOf(c), undefined, "released the way kured does: annotation deleted");
            assert.deepEqual(ev.messages("released"), ["released the kured lock on DaemonSet kube-system/kured"]);
        });

        it("notices kured's release within 1 s (DEFAULT_LOCK_POLL_MS): the wait re-checks every second", async () => {
            const { c, kc } = await sim();
            c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: held("worker2", new Date().toISOString()) }));
            const clock = new ManualClock();
            const ev = new Events();
            const taking = acquireKuredLock(kc, { holderIdentity: ME }, { onProgress: ev.push, timeoutMs: 10 * 60_000, clock });
            await ev.next((e) => e.phase === "waiting");
            assert.equal(clock.sleeping, 1);
            const ds = c.get("DaemonSet", "kube-system", "kured");
            delete ds.metadata.annotations[DEFAULT_KURED_ANNOTATION];
            c.apply(ds);
            const releasedAt = clock.now();
            clock.advance(DEFAULT_LOCK_POLL_MS - 1);
            assert.equal(clock.sleeping, 1, "no re-check before the poll interval is up");
            clock.advance(1);
            const h = await taking;
            assert.equal(clock.now() - releasedAt, 1000, "taken at the first re-check after the release");
            assert.equal(h.noop, false);
            assert.equal(JSON.parse(annotationOf(c)).nodeID, "node-upgrade:cli alice@laptop pid 42");
            assert.equal(await h.release(), true);
        });

        it("gives up after the timeout naming the node; an expired lock (created + TTL passed) is taken over", async () => {
            const { c, kc } = await sim();
            c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: held("worker1", new Date().toISOString()) }));
            await assert.rejects(
                acquireKuredLock(kc, { holderIdentity: ME }, { timeoutMs: 60_000, pollMs: 5000, clock: new JumpClock() }),
                (err: any) => {
                    assert.ok(err instanceof GateBlockedError);
                    assert.match(
                        err.message,
                        /^gave up after 1m0s waiting for kured lock kube-system\/kured: .* is held by node worker1 since /,
                    );
                    return true;
                },
            );
            const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
            const ds = c.get("DaemonSet", "kube-system", "kured");
            ds.metadata.annotations[DEFAULT_KURED_ANNOTATION] = held("worker1", twoHoursAgo, 3600 * NS_PER_S);
            c.apply(ds);
            const r = await tryTakeKuredLock(kc, { holderIdentity: ME });
            assert.equal(r.taken, true);
            assert.equal(JSON.parse(annotationOf(c)).nodeID, kuredNodeId(ME));
            assert.equal(await releaseKuredLock(kc, { holderIdentity: ME }), true);
        });

        it("two takers racing: the resourceVersion in the merge patch lets exactly one through", async () => {
            const { c, kc } = await sim();
            const other = "cli bob@laptop pid 77";
            let raced = false;
            // (as in the Lease race test: reads answered 300 ms late; a few rounds in case the machine is loaded)
            for (let round = 0; round < 5 && !raced; round++) {
                c.apply(kuredDaemonSet());
                c.faults.clear();
                c.clearRequestLog();
                c.faults.add({ type: "latency", verb: "get", resource: "daemonsets", ms: 300, count: 2 });
                const [a, b] = await Promise.all([
                    tryTakeKuredLock(kc, { holderIdentity: ME }),
                    tryTakeKuredLock(kc, { holderIdentity: other }),
                ]);
                assert.equal([a, b].filter((r) => r.taken).length, 1, "exactly one winner");
                assert.equal(JSON.parse(annotationOf(c)).nodeID, kuredNodeId(a.taken ? ME : other));
                raced = c.requestLog().some((r) => r.method === "PATCH" && r.resource === "daemonsets" && r.status === 409);
            }
            assert.ok(raced, "both wrote at the same time in at least one round");
        });

        it("release only removes our entry; multi-owner format fills every slot and keeps kured's maxOwners", async () => {
            const { c, kc } = await sim();
            c.apply(kuredDaemonSet({ [DEFAULT_KURED_ANNOTATION]: '{"maxOwners":3,"locks":[]}' }, "kured"));
            const r = await tryTakeKuredLock(kc, { holderIdentity: ME });
            assert.equal(r.taken, true);
            const v = JSON.parse(annotationOf(c));
            assert.equal(v.maxOwners, 3);
            assert.deepEqual(
                v.locks.map((l: any) => l.nodeID),
                [kuredNodeId(ME), kuredNodeId(ME), kuredNodeId(ME)],
            );
            assert.equal(await releaseKuredLock(kc, { holderIdentity: "cli someone@else pid 9" }), false, "not ours: nothing written");
            assert.equal(await releaseKuredLock(kc, { holderIdentity: ME }), true);
            assert.equal(annotationOf(c), undefined);
        });

        it("custom namespace / DaemonSet / annotation; refreshes `created` every TTL/3 while held", async () => {
            const { c, kc } = await sim();
            c.apply({ ...kuredDaemonSet({}, "reboots", "default") });
            const clock = new ManualClock(Date.now());
            const ev = new Events();
            const opts = {
                holderIdentity: ME,
                namespace: "default",
                daemonSet: "reboots",
                annotation: "example.com/lock",
                ttlSeconds: 300,
            };
            const h = await acquireKuredLock(kc, opts, { clock, onProgress: ev.push });
            const first = JSON.parse(c.get("DaemonSet", "default", "reboots").metadata.annotations["example.com/lock"]);
            assert.equal(first.TTL, 300 * NS_PER_S);
            clock.advance(99_999);
            assert.equal(clock.sleeping, 1, "no refresh before TTL/3 (100 s)");
            clock.advance(1);
            await ev.next((e) => e.phase === "renewed");
            const second = JSON.parse(c.get("DaemonSet", "default", "reboots").metadata.annotations["example.com/lock"]);
            assert.equal(Date.parse(second.created) - Date.parse(first.created), 100_000);
            assert.equal(await h.release(), true);
            assert.equal(c.get("DaemonSet", "default", "reboots").metadata.annotations?.["example.com/lock"], undefined);
        });

        it("a refresh refused for good (403: the patch permission is gone) loses the lock at once; a 503 is retried", async () => {
            const { c, kc } = await sim();
            c.apply(kuredDaemonSet());
            const clock = new ManualClock(Date.now());
            const ev = new Events();
            const h = await acquireKuredLock(kc, { holderIdentity: ME, ttlSeconds: 300 }, { clock, onProgress: ev.push });
            c.faults.add({ verb: "patch", resource: "daemonsets", status: 503, count: 1 });
            clock.advance(100_000);
            await ev.next((e) => e.phase === "renew-failed");
            assert.equal(h.lost, undefined, "a 503 is worth retrying: still held");
            c.faults.add({
                verb: "patch",
                resource: "daemonsets",
                status: 403,
                count: 1,
                message:
                    'daemonsets.apps "kured" is forbidden: User "ci" cannot patch resource "daemonsets" in API group "apps" in the namespace "kube-system"',
            });
            await clock.whenSleeping(); // the refresh loop waits for its next turn
            clock.advance(100_000);
            const lost = await ev.next((e) => e.phase === "lost");
            assert.match(
                lost.message,
                /^cannot keep the kured lock \(refreshing it again cannot help\): cannot write the kured lock on DaemonSet kube-system\/kured: .*cannot patch resource "daemonsets".*HTTP 403/,
            );
            await h.release();
        });
    });
});
