// Waiting on the simulated cluster by its own change events (sim.subscribe: called synchronously for every
// store write), instead of polling on a timer or sleeping.

import type { SimCluster, StoreEvent } from "../../sim";

/**
 * Resolves as soon as `pred()` holds: at once if it holds now, else right after the store change that makes
 * it hold. Nothing but a store change can change what the simulator serves, so no change is missed.
 */
export function whenStore(sim: Pick<SimCluster, "subscribe">, pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
        const stop = sim.subscribe(() => {
            let ok: boolean;
            try {
                ok = pred();
            } catch (e) {
                stop();
                reject(e);
                return;
            }
            if (ok) {
                stop();
                resolve();
            }
        });
    });
}

/** Resolves with the next store event that `match` accepts. */
export function nextStoreEvent(sim: Pick<SimCluster, "subscribe">, match: (e: StoreEvent) => boolean): Promise<StoreEvent> {
    return new Promise((resolve) => {
        const stop = sim.subscribe((e) => {
            if (!match(e)) return;
            stop();
            resolve(e);
        });
    });
}
