// What the measuring process sees of a drain through watches (client-node), stamped with its own wall clock: when
// the node's pods are deleted, and every change of each PodDisruptionBudget's status.disruptionsAllowed.
// Each stamp is late by the watch delivery delay (server write → event here), the same for both tools.
import { Watch, type KubeConfig } from "@kubernetes/client-node";

export interface BudgetSample {
    at: number;
    allowed: number;
}

export interface Observed {
    /** wall-clock ms of each DELETED event of a pod on the node */
    deletedAt: number[];
    /** per budget ("ns/name"): its disruptionsAllowed, one sample per change, the initial value first */
    budgets: Map<string, BudgetSample[]>;
}

export interface Observer {
    observed: Observed;
    /** Resolves once `pred` holds (checked on every event); rejects after `timeoutMs` or when a watch fails. */
    until(pred: (o: Observed) => boolean, timeoutMs: number, what: string): Promise<void>;
    stop(): void;
}

/** Watch the node's pods (and all budgets, when `budgets`), resolving once every watch delivered its initial state. */
export async function observe(kc: KubeConfig, node: string, budgets: boolean): Promise<Observer> {
    const observed: Observed = { deletedAt: [], budgets: new Map() };
    const waiters = new Set<() => void>();
    let failure: Error | undefined;
    let stopped = false;
    const changed = () => waiters.forEach((w) => w());
    const watch = new Watch(kc);
    const done = (err: any) => {
        if (stopped) return;
        failure = new Error(`bench watch ended: ${err?.message ?? err ?? "closed by the server"}`);
        changed();
    };
    // A watch without resourceVersion starts with an ADDED event per existing object: the first one says it is live.
    const primed: Promise<void>[] = [];
    const start = (apiPath: string, query: Record<string, string>, onEvent: (type: string, obj: any) => void) => {
        let first!: () => void;
        primed.push(new Promise<void>((r) => (first = r)));
        return watch.watch(apiPath, query, (type, obj) => (onEvent(type, obj), first(), changed()), done);
    };
    const controllers = [
        await start("/api/v1/pods", { fieldSelector: `spec.nodeName=${node}` }, (type) => {
            if (type === "DELETED") observed.deletedAt.push(Date.now());
        }),
    ];
    if (budgets) {
        controllers.push(
            await start("/apis/policy/v1/poddisruptionbudgets", {}, (type, pdb) => {
                const key = `${pdb.metadata.namespace}/${pdb.metadata.name}`;
                const samples = observed.budgets.get(key) ?? [];
                const allowed = pdb.status?.disruptionsAllowed ?? 0;
                if (type !== "DELETED" && samples[samples.length - 1]?.allowed !== allowed) samples.push({ at: Date.now(), allowed });
                observed.budgets.set(key, samples);
            }),
        );
    }
    await Promise.all(primed);
    return {
        observed,
        until: (pred, timeoutMs, what) =>
            new Promise<void>((resolve, reject) => {
                const check = () => {
                    if (failure || pred(observed)) {
                        waiters.delete(check);
                        clearTimeout(timer);
                        if (failure) reject(failure);
                        else resolve();
                    }
                };
                // a guard against a hang, not a synchronization: the condition is checked on every event
                const timer = setTimeout(() => {
                    waiters.delete(check);
                    reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
                }, timeoutMs);
                waiters.add(check);
                check();
            }),
        stop: () => {
            stopped = true;
            controllers.forEach((c) => c.abort());
        },
    };
}
