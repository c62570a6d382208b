// Kubernetes resource quantities ("100m", "128Mi", "1.5G", "2") as numbers.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parse a quantity into base units (cores for cpu, bytes for memory). Invalid → 0. */
export function parseQuantity(q: string | number | undefined | null): number {
    if (q === undefined || q === null) return 0;
    if (typeof q === "number") return q;
    const m = String(q)
        .trim()
        .match(/^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/);
    if (!m) return 0;
    const n = Number(m[1]);
    const suffix = m[2];
    if (suffix in BINARY) return n * BINARY[suffix];
    if (suffix in DECIMAL) return n * DECIMAL[suffix];
    return 0;
}

// Stored objects are immutable, so a pod's requests can be cached per object.
const cache = new WeakMap<object, { cpu: number; memory: number }>();

/** Sum of container requests of a pod for one resource (max with init containers). */
export function podRequest(pod: any, resource: "cpu" | "memory"): number {
    if (pod && Object.isFrozen(pod)) {
        let c = cache.get(pod);
        if (!c) cache.set(pod, (c = { cpu: computeRequest(pod, "cpu"), memory: computeRequest(pod, "memory") }));
        return c[resource];
    }
    return computeRequest(pod, resource);
}

function computeRequest(pod: any, resource: "cpu" | "memory"): number {
    let sum = 0;
    for (const c of pod.spec?.containers ?? []) sum += parseQuantity(c.resources?.requests?.[resource]);
    let initMax = 0;
    for (const c of pod.spec?.initContainers ?? []) initMax = Math.max(initMax, parseQuantity(c.resources?.requests?.[resource]));
    return Math.max(sum, initMax);
}
