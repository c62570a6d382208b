// The order in which the API lists pods, which is the order in which a drain evicts them: by storage key
// "namespace/name", byte by byte. It matters because each eviction's replacement is placed in turn.
import type { V1Pod } from "@kubernetes/client-node";

const SLASH = 47;

/** Compares two pods' "namespace/name" without building it ("kube-system-x/a" before "kube-system/b": '-' < '/'). */
export function listingOrder(a: V1Pod, b: V1Pod): number {
    const na = a.metadata?.namespace ?? "default";
    const nb = b.metadata?.namespace ?? "default";
    if (na !== nb) {
        const n = Math.min(na.length, nb.length);
        for (let i = 0; i < n; i++) {
            const d = na.charCodeAt(i) - nb.charCodeAt(i);
            if (d !== 0) return d;
        }
        return (na.length > n ? na.charCodeAt(n) : SLASH) - (nb.length > n ? nb.charCodeAt(n) : SLASH);
    }
    const ma = a.metadata?.name ?? "";
    const mb = b.metadata?.name ?? "";
    return ma < mb ? -1 : ma > mb ? 1 : 0;
}
