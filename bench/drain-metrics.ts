// The figures of one drain run (pure): from the server's request log (server clock = wall clock at time scale 1)
// and what the bench's watches saw (bench clock, late by the watch delivery delay).
import type { RequestLogEntry } from "../sim";
import type { BudgetSample } from "./drain-observer";

/** The eviction POSTs the server received, in arrival order (admitted: 201; refused by a budget: 429). */
export function evictionRequests(log: RequestLogEntry[]): RequestLogEntry[] {
    return log
        .filter((e) => e.verb === "create" && e.resource === "pods/eviction")
        .sort((a, b) => (a.received ?? a.time) - (b.received ?? b.time));
}

export const receivedAt = (e: RequestLogEntry) => e.received ?? e.time;

/** Eviction requests per second between the first and the last one, as the server received them. */
export function requestRate(requests: RequestLogEntry[]): number {
    if (requests.length < 2) return NaN;
    return (requests.length - 1) / ((receivedAt(requests[requests.length - 1]) - receivedAt(requests[0])) / 1000);
}

export interface BudgetTimings {
    /** per 0 → >0 change of disruptionsAllowed: ms until the server received the eviction that used the allowance */
    reactions: number[];
    /** per allowance used: ms from the server receiving the eviction to the bench seeing the budget drop (watch delay, upper bound) */
    watchDelays: number[];
    /** allowances used, as seen by the watch */
    consumed: number;
}

/**
 * One budget covering every evicted pod. The server admits an eviction only while disruptionsAllowed > 0 and
 * lowers it by one in the same write, so the k-th allowance used (the k-th drop seen by the watch, counting from
 * 0) is the k-th admitted eviction; after a 0 → >0 change the tool's next eviction request is admitted, and it
 * is the admitted eviction number `consumed so far`.
 */
export function budgetTimings(samples: BudgetSample[], admitted: RequestLogEntry[]): BudgetTimings {
    const out: BudgetTimings = { reactions: [], watchDelays: [], consumed: 0 };
    for (let i = 1; i < samples.length; i++) {
        const [prev, cur] = [samples[i - 1], samples[i]];
        if (cur.allowed < prev.allowed) {
            out.consumed += prev.allowed - cur.allowed;
            const by = admitted[out.consumed - 1];
            if (by) out.watchDelays.push(cur.at - receivedAt(by));
        } else if (prev.allowed === 0 && cur.allowed > 0 && admitted[out.consumed]) {
            out.reactions.push(receivedAt(admitted[out.consumed]) - cur.at);
        }
    }
    return out;
}

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    if (!s.length) return NaN;
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Nearest-rank 90th percentile. */
export function p90(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.ceil(0.9 * s.length) - 1] : NaN;
}
