// What the simulator tells a driver of its clock (rehearse/ jumps over waits with it): SimClock.nextDue(), the
// earliest pending timer, and SimCluster.idle(), no controller with queued work.
import assert from "node:assert/strict";
import { startCluster, type SimCluster } from "../../sim";
import { SimClock } from "../../sim/clock";
import { addBarePod, baseCluster, list } from "./fixtures";

describe("sim: nextDue and idle", function () {
    describe("SimClock.nextDue", () => {
        const clocks: SimClock[] = [];
        // Time scale 1: the timers below (10 s and more) do not fire on their own during a test.
        const clock = () => {
            const c = new SimClock(1);
            clocks.push(c);
            return c;
        };
        afterEach(() => {
            while (clocks.length) clocks.pop()!.stop();
        });

        it("is undefined without timers, else the earliest due time, whatever order the timers were set in", () => {
            const c = clock();
            assert.equal(c.nextDue(), undefined);
            // Absolute due times (setTimeoutAt): the answers are exact however long the machine takes between lines.
            const start = Math.round(c.nowMs());
            c.setTimeoutAt(() => undefined, start + 300_000);
            const early = c.setTimeoutAt(() => undefined, start + 100_000);
            c.setTimeoutAt(() => undefined, start + 200_000);
            assert.equal(c.nextDue(), start + 100_000);
            c.clearTimeout(early);
            assert.equal(c.nextDue(), start + 200_000);
        });

        it("moves on as advance() fires timers, and is undefined once all have fired or the clock stopped", () => {
            const c = clock();
            const fired: number[] = [];
            // Far enough ahead (at time scale 1) that only advance() fires them.
            c.setTimeout(() => fired.push(1), 1000);
            c.setTimeout(() => fired.push(2), 2000);
            c.advance((c.nextDue()! - c.nowMs()) / 1000);
            assert.deepEqual(fired, [1]);
            c.advance((c.nextDue()! - c.nowMs()) / 1000);
            assert.deepEqual(fired, [1, 2]);
            assert.equal(c.nextDue(), undefined);
            c.setTimeout(() => fired.push(3), 1000);
            c.stop();
            assert.equal(c.nextDue(), undefined);
        });
    });

    describe("SimCluster", () => {
        let c: SimCluster | undefined;
        afterEach(async () => {
            await c?.stop();
            c = undefined;
        });

        it("a graceful delete: busy until the kubelet has armed its timer, which nextDue shows; jumping there ends the pod", async () => {
            const f = baseCluster();
            addBarePod(f, "lone", "w1", { grace: 30 });
            c = await startCluster({ scenario: list(f), timeScale: 1, recordEvents: false });
            await c.settle();
            assert.equal(c.idle(), true);
            const before = c.clock.nextDue();

            c.delete("pods", "default", "lone");
            // The store write queued work for the controllers (the kubelet among them) synchronously.
            assert.equal(c.idle(), false);
            await c.settle();
            assert.equal(c.idle(), true);
            const deletionTimestamp = Date.parse(c.get("pods", "default", "lone").metadata.deletionTimestamp);
            const due = c.clock.nextDue();
            assert.ok(before === undefined || before > deletionTimestamp, `a timer before the delete was due at ${before}`);
            assert.equal(due, deletionTimestamp, "the kubelet finishes the pod at its deletionTimestamp");

            c.clock.advance((due! - c.clock.now().getTime()) / 1000);
            await c.settle();
            assert.equal(c.get("pods", "default", "lone"), undefined);
        });

        it("setTimeout/clearTimeout on the cluster's clock show in nextDue", async () => {
            c = await startCluster({ scenario: list(baseCluster()), timeScale: 1, recordEvents: false });
            await c.settle();
            const before = c.clock.nextDue();
            const id = c.clock.setTimeout(() => undefined, 0);
            const after = c.clock.now().getTime();
            // Mine is due at once, so nothing is due later than now: mine, or a timer already due before it.
            const due = c.clock.nextDue();
            assert.ok(due !== undefined && due <= after, `due ${due === undefined ? "never" : `${due - after} ms after now`}`);
            c.clock.clearTimeout(id);
            assert.equal(c.clock.nextDue(), before);
        });
    });
});
