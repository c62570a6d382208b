// Simulated time for a rehearsal: timers and deadlines on the simulated cluster's clock, and the driver that
// fast-forwards that clock.
//
// Why not just a high time scale: the drain engine, the controllers and the API requests run at real speed, so
// at 200× every real millisecond of work costs 0.2 simulated seconds. Measured on a 100-node, 3,000-pod
// cluster, a 30-pod drain took 62-72 s at 200× against 32 s at 10× (its pods' 30 s grace period plus
// start-ups). So the clock runs at a low scale (1 by default: work costs what it costs) and jumps over waits:
// once nothing has moved for `quietMs` (no API request in flight, no store write, every controller idle),
// nothing can happen before the next timer, so the clock jumps to it. The simulator does not expose its timer
// queue, so the driver keeps its own list of what is due and when: pods ending their grace period (their
// deletionTimestamp), pods becoming Ready (start-up delay after the kubelet's first status), node upgrades,
// and the rehearsal's own sleeps and deadlines. A jump takes along what falls due within `coalesceSeconds` of
// its target; an expectation that passed without its event (the simulator armed its timer a moment later) moves
// the clock on in NUDGE_MS steps; a jump is at most `maxJumpSeconds`, which bounds the error from any timer it
// does not know of. `busy` holds the clock while a request is in flight or a drain is about to act on a
// real-time retry (client-waits.ts). Measured: a prediction within 1% of the same roll at time scale 2
// (tests/rehearse/accuracy.test.ts).
import { performance } from "node:perf_hooks";
import type { SimCluster } from "../sim";

export interface SimTimeOptions {
    fastForward: boolean;
    quietMs: number;
    maxJumpSeconds: number;
    /** A jump also takes what falls due this soon after its target (fewer jumps; that much later at most). */
    coalesceSeconds: number;
    /** True while a request of the roll waits for its answer. */
    busy: () => boolean;
}

/** How long an overdue expectation keeps the clock moving in small steps, and the step (simulated ms). */
const OVERDUE_MS = 2000;
const NUDGE_MS = 20;

const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SimTime {
    /** key → simulated epoch ms at which something is due. */
    private readonly due = new Map<string, number>();
    private lastActivity = performance.now();
    private activityCount = 0;
    private running = false;
    private loopDone?: Promise<void>;
    private seq = 0;
    jumps = 0;
    /** Simulated seconds jumped over in total. */

    constructor(
        private readonly cluster: SimCluster,
        private readonly o: SimTimeOptions,
    ) {}

    /** Simulated epoch milliseconds. */
    nowMs(): number {
        return this.cluster.clock.now().getTime();
    }

    /** Something moved (a byte on the wire, a store write, a step of the roll): no jump for quietMs. */
    activity(): void {
        this.lastActivity = performance.now();
        this.activityCount++;
    }

    /** Something will happen at this simulated time: a jump stops there. */
    expect(key: string, dueMs: number): void {
        this.due.set(key, dueMs);
    }

    forget(key: string): void {
        this.due.delete(key);
    }

    /** Resolves after `seconds` of simulated time. */
    async sleep(seconds: number): Promise<void> {
        if (!(seconds > 0)) return;
        const key = `sleep:${++this.seq}`;
        this.expect(key, this.nowMs() + seconds * 1000);
        try {
            await this.cluster.clock.sleep(seconds);
        } finally {
            this.forget(key);
            this.activity();
        }
    }

    /**
     * An AbortSignal that fires after `seconds` of simulated time (0 or less: never). `fired` tells a deadline
     * from another cause; dispose() when done (the simulator's timer stays, harmless).
     */
    deadline(seconds: number): { signal: AbortSignal; fired: () => boolean; dispose: () => void } {
        const controller = new AbortController();
        let fired = false;
        let disposed = false;
        const key = `deadline:${++this.seq}`;
        if (seconds > 0) {
            this.expect(key, this.nowMs() + seconds * 1000);
            void this.cluster.clock.sleep(seconds).then(() => {
                this.forget(key);
                if (disposed) return;
                fired = true;
                this.activity();
                controller.abort(new Error(`deadline of ${seconds}s (simulated) passed`));
            });
        }
        return {
            signal: controller.signal,
            fired: () => fired,
            dispose: () => {
                disposed = true;
                this.forget(key);
            },
        };
    }

    start(): void {
        if (!this.o.fastForward || this.running) return;
        this.running = true;
        this.loopDone = this.loop();
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.loopDone;
    }

    private async loop(): Promise<void> {
        while (this.running) {
            const idle = performance.now() - this.lastActivity;
            if (idle < this.o.quietMs) {
                await realDelay(Math.max(1, this.o.quietMs - idle));
                continue;
            }
            if (this.o.busy()) {
                await realDelay(1);
                continue;
            }
            const mark = this.activityCount;
            await this.cluster.settle();
            if (!this.running) return;
            if (this.activityCount !== mark || this.o.busy()) continue;
            const now = this.nowMs();
            let next = Infinity;
            for (const [key, at] of this.due) {
                if (at > now) next = Math.min(next, at);
                // Past due and not done (its event removes it): the simulator's timer was armed a little later
                // than the driver's estimate. Nudge the clock on; give up on it after OVERDUE_MS.
                else if (now - at < OVERDUE_MS) next = Math.min(next, now + NUDGE_MS);
                else this.due.delete(key);
            }
            // Things due just after the first one go in the same jump.
            let last = next;
            if (next !== Infinity)
                for (const at of this.due.values()) if (at > last && at <= next + this.o.coalesceSeconds * 1000) last = at;
            const target = Math.min(last, now + this.o.maxJumpSeconds * 1000);
            const seconds = (target - now) / 1000;
            if (seconds > 0) {
                this.cluster.clock.advance(seconds);
                this.jumps++;
            }
            // Whatever the jump set off needs its turn before the next decision.
            this.activity();
        }
    }
}
