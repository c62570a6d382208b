// Event timestamps as clients read them. kubectl computes an event's age from its own wall clock (the Age column
// of `kubectl describe`, `kubectl events`), but a simulator running N× faster stamps events with simulated time,
// which runs ahead of the wall clock: those ages came out "<invalid>".
//
// Moving the simulated clock itself cannot fix it: running faster than kubectl's clock, it must overtake it sooner
// or later, and a clock held far behind makes every age wrong. So stored events keep simulated time (tests,
// controllers and server-side tables agree with every other object), and when an Event is *served* its times are
// moved back by how far the simulated clock is ahead of the wall clock at that moment. kubectl's wall-clock age then
// equals the simulated age: never in the future, and the same age `kubectl get events` and `kubectl get pods` AGE
// (server-side tables, simulated clock) show. At time scale 1 nothing moves. Other kinds are served unchanged:
// their timestamps are compared by clients with cluster.clock (README, "Time scale and client clocks").

import { rfc3339 } from "../clock";
import type { K8sObject } from "./store";

/** Whole seconds (in ms) the simulated clock is ahead of the wall clock; 0 when it is not. */
export function aheadOfWallMs(simNowMs: number, wallNowMs = Date.now()): number {
    return Math.max(0, Math.floor((simNowMs - wallNowMs) / 1000) * 1000);
}

const shift = (ts: unknown, ms: number) => (typeof ts === "string" && ts ? rfc3339(Date.parse(ts) - ms) : ts);
const shiftMicro = (ts: unknown, ms: number) =>
    typeof ts === "string" && ts ? new Date(Date.parse(ts) - ms).toISOString().replace(/Z$/, "000Z") : ts;

/** The Event as served: its times in wall-clock terms (a copy; `e` itself is stored and frozen). */
export function eventAsServed(e: K8sObject, aheadMs: number): K8sObject {
    if (aheadMs <= 0) return e;
    const out = {
        ...e,
        metadata: { ...e.metadata, creationTimestamp: shift(e.metadata?.creationTimestamp, aheadMs) },
    };
    for (const k of ["firstTimestamp", "lastTimestamp"]) if (e[k]) out[k] = shift(e[k], aheadMs);
    if (e.eventTime) out.eventTime = shiftMicro(e.eventTime, aheadMs);
    if (e.series?.lastObservedTime) out.series = { ...e.series, lastObservedTime: shiftMicro(e.series.lastObservedTime, aheadMs) };
    return out;
}
