// The one clock of a simulated cluster.
//
// Simulated time starts at the real wall-clock time when the cluster starts and
// then runs `timeScale` times faster than real time. Everything time-based in the
// simulator (grace periods, start-up delays, upgrade downtime, PDB expiry,
// object timestamps) uses this clock, so a test can run a 30 s grace period in
// 0.3 s with timeScale 100.
//
// Timers are kept in one list ordered by their simulated due time, driven by a
// single real setTimeout for the earliest one. That makes `advance()` (jump the
// simulated clock forward) cheap and keeps timer firing order deterministic.

export interface SimTimer {
    id: number;
    due: number; // simulated epoch ms
    fn: () => void;
}

export class SimClock {
    readonly timeScale: number;
    private readonly realStart: number;
    private readonly simStart: number;
    private offsetMs = 0; // added by advance()
    private timers: SimTimer[] = [];
    private nextId = 1;
    private realTimer: NodeJS.Timeout | undefined;
    private realTimerDue = Infinity;
    private stopped = false;

    constructor(timeScale = 1, simStart: number = Date.now()) {
        if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`invalid timeScale ${timeScale}`);
        this.timeScale = timeScale;
        this.realStart = Date.now();
        this.simStart = simStart;
    }

    /** Simulated epoch milliseconds. */
    nowMs(): number {
        return this.simStart + (Date.now() - this.realStart) * this.timeScale + this.offsetMs;
    }

    now(): Date {
        return new Date(this.nowMs());
    }

    /** RFC 3339 timestamp with second precision, as Kubernetes writes them. */
    nowRfc3339(): string {
        return rfc3339(this.nowMs());
    }

    /** Real milliseconds that correspond to `simSeconds` of simulated time. */
    realMs(simSeconds: number): number {
        return (simSeconds * 1000) / this.timeScale;
    }

    /** Run `fn` after `simSeconds` of simulated time. */
    setTimeout(fn: () => void, simSeconds: number): number {
        return this.insert(fn, this.nowMs() + Math.max(0, simSeconds) * 1000);
    }

    /** Run `fn` at a given simulated epoch ms (at once if that has passed): due exactly then, read once. */
    setTimeoutAt(fn: () => void, simEpochMs: number): number {
        return this.insert(fn, Math.max(simEpochMs, this.nowMs()));
    }

    private insert(fn: () => void, due: number): number {
        const t: SimTimer = { id: this.nextId++, due, fn };
        // insert keeping the list sorted by due time (stable for equal due times)
        let i = this.timers.length;
        while (i > 0 && this.timers[i - 1].due > t.due) i--;
        this.timers.splice(i, 0, t);
        this.arm();
        return t.id;
    }

    clearTimeout(id: number | undefined): void {
        if (id === undefined) return;
        const i = this.timers.findIndex((t) => t.id === id);
        if (i >= 0) this.timers.splice(i, 1);
    }

    sleep(simSeconds: number): Promise<void> {
        return new Promise((resolve) => this.setTimeout(resolve, simSeconds));
    }

    /** Jump simulated time forward (fires every timer that becomes due). */
    advance(simSeconds: number): void {
        this.offsetMs += simSeconds * 1000;
        this.fireDue();
    }

    pendingTimers(): number {
        return this.timers.length;
    }

    /**
     * Simulated epoch ms of the earliest pending timer, or undefined when none is pending. Every delayed action
     * of the simulator (a kubelet finishing a grace period or a start-up, an upgrade's restart, a controller's
     * delayed re-queue) is such a timer, so a driver that wants to skip idle time can jump straight here.
     * May lie in the past: a timer whose real setTimeout has not fired yet.
     */
    nextDue(): number | undefined {
        return this.timers[0]?.due;
    }

    stop(): void {
        this.stopped = true;
        this.timers = [];
        if (this.realTimer) clearTimeout(this.realTimer);
        this.realTimer = undefined;
    }

    private arm(): void {
        if (this.stopped) return;
        const first = this.timers[0];
        if (!first) return;
        if (this.realTimer && this.realTimerDue <= first.due) return;
        if (this.realTimer) clearTimeout(this.realTimer);
        const delay = Math.max(0, (first.due - this.nowMs()) / this.timeScale);
        this.realTimerDue = first.due;
        this.realTimer = setTimeout(
            () => {
                this.realTimer = undefined;
                this.realTimerDue = Infinity;
                this.fireDue();
            },
            Math.min(delay, 2 ** 31 - 1),
        );
        // never keep the process alive just for simulated timers
        this.realTimer.unref?.();
    }

    private fireDue(): void {
        const now = this.nowMs();
        while (this.timers.length && this.timers[0].due <= now + 0.5) {
            const t = this.timers.shift()!;
            try {
                t.fn();
            } catch (e) {
                console.error("sim clock timer failed:", e);
            }
        }
        if (this.realTimer && this.timers.length === 0) {
            clearTimeout(this.realTimer);
            this.realTimer = undefined;
            this.realTimerDue = Infinity;
        }
        this.arm();
    }
}

export function rfc3339(ms: number): string {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
