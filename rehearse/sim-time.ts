// Simulated time for a rehearsal: sleeps and deadlines on the simulated cluster's clock, and the driver that
// fast-forwards that clock.
//
// Why not just a high time scale: the drain engine, the controllers and the API requests run at real speed, so
// at 200× every real millisecond of work costs 0.2 simulated seconds. Measured on a 100-node, 3,000-pod
// cluster, a 30-pod drain took 62-72 s at 200× against 32 s at 10× (its pods' 30 s grace period plus
// start-ups). So the clock runs at a low scale (1 by default: work costs what it costs) and jumps over waits:
// once nothing has moved for `quietMs` (no API request in flight, no store write, no controller with queued
// work), nothing can happen before the simulator's next timer (SimCluster.clock.nextDue(): a grace period
// ending, a start-up, an upgrade's restart, the rehearsal's own sleeps and deadlines), so the clock jumps to
// it. A jump takes along what falls due within `coalesceSeconds` of its target (unless a client became busy),
// and is at most `maxJumpSeconds` long. The drain engine's retry back-off is the one wait in real time, not on
// the simulated clock; `busy` holds the clock while a request is in flight or a client of the roll is about to
// act (client-waits.ts: a drain on a real-time retry, a wait for a node already Ready), so jumps do not run
// past such a wait. A rehearsal injects no API faults, so those retries are rare.
// Measured: a prediction within 1% of the same roll at time scale 2 (tests/rehearse/accuracy.test.ts).
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

const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SimTime {
    private lastActivity = performance.now();
    private running = false;
    private loopDone?: Promise<void>;
    /** Clock jumps made. */
    jumps = 0;

    constructor(
        private readonly cluster: Pick<SimCluster, "clock" | "idle">,
        private readonly o: SimTimeOptions,
    ) {}

    /** Simulated epoch milliseconds. */
    nowMs(): number {
        return this.cluster.clock.now().getTime();
    }

    /** Something moved (a byte on the wire, a store write, a step of the roll): no jump for quietMs. */
    activity(): void {
        this.lastActivity = performance.now();
    }

    /** Resolves after `seconds` of simulated time. */
    async sleep(seconds: number): Promise<void> {
        if (!(seconds > 0)) return;
        await this.cluster.clock.sleep(seconds);
        this.activity();
    }

    /**
     * An AbortSignal that fires after `seconds` of simulated time (0 or less: never). `fired` tells a deadline
     * from another cause; dispose() when done, so the driver no longer stops at its time.
     */
    deadline(seconds: number): { signal: AbortSignal; fired: () => boolean; dispose: () => void } {
        const controller = new AbortController();
        let fired = false;
        const timer =
            seconds > 0
                ? this.cluster.clock.setTimeout(() => {
                      fired = true;
                      this.activity();
                      controller.abort(new Error(`deadline of ${seconds}s (simulated) passed`));
                  }, seconds)
                : undefined;
        return {
            signal: controller.signal,
            fired: () => fired,
            dispose: () => this.cluster.clock.clearTimeout(timer),
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
        const clock = this.cluster.clock;
        while (this.running) {
            const quiet = performance.now() - this.lastActivity;
            if (quiet < this.o.quietMs) {
                await realDelay(Math.max(1, this.o.quietMs - quiet));
                continue;
            }
            if (this.o.busy()) {
                await realDelay(1);
                continue;
            }
            if (!this.cluster.idle()) {
                await nextTurn();
                continue;
            }
            const first = clock.nextDue();
            if (first === undefined) {
                // No timer at all: only real-time work (a drain's retry) can move the roll on.
                await realDelay(this.o.quietMs);
                continue;
            }
            const now = this.nowMs();
            const target = Math.min(first, now + this.o.maxJumpSeconds * 1000);
            // advance() fires what falls due, in due order (a timer already due but not yet fired by its real
            // setTimeout fires at once). Timers due soon after the first go in the same jump, those that the
            // fired ones set included; the bound keeps a timer that re-arms itself at once from looping here. It stops
            // as soon as a client of the roll has something to do (busy): a node that just turned Ready must end its
            // wait before that wait's deadline, due a moment later, may fire.
            let jumped = target > now;
            clock.advance(Math.max(0, target - now) / 1000);
            const until = target + this.o.coalesceSeconds * 1000;
            for (
                let i = 0, next = clock.nextDue();
                i < 1000 && next !== undefined && next <= until && !this.o.busy();
                i++, next = clock.nextDue()
            ) {
                const seconds = (next - this.nowMs()) / 1000;
                if (seconds > 0) jumped = true;
                clock.advance(Math.max(0, seconds));
            }
            if (jumped) this.jumps++;
            // Whatever the jump set off needs its turn before the next decision.
            this.activity();
        }
    }
}
