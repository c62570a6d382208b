// In-memory object storage ("etcd") with the indexes the simulator needs.
//
// Stored objects are frozen and never mutated: every write stores a new object.
// That lets list responses and watch events share objects safely, and lets us
// cache each object's JSON text.
//
// Every write gets the next value of one global resourceVersion counter and is
// reported synchronously to listeners (the watch hub and the controllers).
// Listeners must not write back synchronously; controllers queue work instead.

export type K8sObject = any;

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
    type: EventType;
    resource: string; // plural, e.g. "pods"
    object: K8sObject; // new state (for DELETED: the last state, with the delete's resourceVersion)
    old?: K8sObject; // previous state for MODIFIED/DELETED
    rv: number;
}

export type StoreListener = (e: StoreEvent) => void;

class ResourceTable {
    byKey = new Map<string, K8sObject>();
    byNamespace = new Map<string, Set<string>>();
    sortedKeys: string[] | null = null;
}

export function objectKey(namespace: string | undefined, name: string): string {
    return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: K8sObject): string {
    return objectKey(obj.metadata?.namespace, obj.metadata?.name);
}

const jsonCache = new WeakMap<object, string>();

/** JSON text of a stored (frozen) object, computed once. */
export function jsonOf(obj: K8sObject): string {
    let s = jsonCache.get(obj);
    if (s === undefined) {
        s = JSON.stringify(obj);
        jsonCache.set(obj, s);
    }
    return s;
}

export function deepFreeze<T>(o: T): T {
    if (o && typeof o === "object" && !Object.isFrozen(o)) {
        Object.freeze(o);
        for (const v of Object.values(o as any)) deepFreeze(v);
    }
    return o;
}

/** A mutable deep copy of a (possibly frozen) object. */
export function clone<T>(o: T): T {
    return o === undefined ? o : JSON.parse(jsonOf(o as any));
}

export class Store {
    private rv = 0;
    private tables = new Map<string, ResourceTable>();
    /** pod keys per spec.nodeName ("" = unscheduled) */
    private podsByNode = new Map<string, Set<string>>();
    /** "resource|key" of objects per controller/owner UID */
    private byOwnerUid = new Map<string, Set<string>>();
    private listeners: StoreListener[] = [];

    currentRv(): number {
        return this.rv;
    }

    /** Reserve the next resourceVersion without writing (used for dry-run-free no-ops). */
    nextRv(): number {
        return ++this.rv;
    }

    subscribe(l: StoreListener): () => void {
        this.listeners.push(l);
        return () => {
            this.listeners = this.listeners.filter((x) => x !== l);
        };
    }

    private table(resource: string): ResourceTable {
        let t = this.tables.get(resource);
        if (!t) {
            t = new ResourceTable();
            this.tables.set(resource, t);
        }
        return t;
    }

    get(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
        return this.tables.get(resource)?.byKey.get(objectKey(namespace, name));
    }

    count(resource: string): number {
        return this.tables.get(resource)?.byKey.size ?? 0;
    }

    /** Objects sorted by namespace/name, like etcd key order. */
    list(resource: string, namespace?: string): K8sObject[] {
        const t = this.tables.get(resource);
        if (!t) return [];
        if (namespace) {
            const keys = t.byNamespace.get(namespace);
            if (!keys) return [];
            return [...keys].sort().map((k) => t.byKey.get(k));
        }
        if (!t.sortedKeys) t.sortedKeys = [...t.byKey.keys()].sort();
        return t.sortedKeys.map((k) => t.byKey.get(k));
    }

    /** Pods bound to a node ("" = not yet scheduled). */
    podsOnNode(nodeName: string): K8sObject[] {
        const keys = this.podsByNode.get(nodeName);
        if (!keys) return [];
        const t = this.table("pods");
        return [...keys].sort().map((k) => t.byKey.get(k));
    }

    /** Objects of `resource` that list `ownerUid` in their ownerReferences. */
    ownedBy(ownerUid: string, resource?: string): { resource: string; object: K8sObject }[] {
        const refs = this.byOwnerUid.get(ownerUid);
        if (!refs) return [];
        const out: { resource: string; object: K8sObject }[] = [];
        for (const ref of refs) {
            const i = ref.indexOf("|");
            const res = ref.slice(0, i);
            if (resource && res !== resource) continue;
            const o = this.tables.get(res)?.byKey.get(ref.slice(i + 1));
            if (o) out.push({ resource: res, object: o });
        }
        return out.sort((a, b) => (keyOf(a.object) < keyOf(b.object) ? -1 : 1));
    }

    /**
     * Store a new version of an object. Assigns metadata.resourceVersion.
     * `quiet` skips listeners (bulk scenario loading).
     */
    put(resource: string, obj: K8sObject, opts: { quiet?: boolean } = {}): K8sObject {
        const rv = ++this.rv;
        obj.metadata.resourceVersion = String(rv);
        deepFreeze(obj);
        const t = this.table(resource);
        const key = keyOf(obj);
        const old = t.byKey.get(key);
        t.byKey.set(key, obj);
        if (!old) {
            t.sortedKeys = null;
            const ns = obj.metadata.namespace ?? "";
            let s = t.byNamespace.get(ns);
            if (!s) t.byNamespace.set(ns, (s = new Set()));
            s.add(key);
        }
        this.reindex(resource, key, old, obj);
        if (!opts.quiet) this.emit({ type: old ? "MODIFIED" : "ADDED", resource, object: obj, old, rv });
        return obj;
    }

    /** Remove an object; the DELETED event carries the last state with a fresh resourceVersion. */
    remove(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
        const t = this.tables.get(resource);
        const key = objectKey(namespace, name);
        const old = t?.byKey.get(key);
        if (!t || !old) return undefined;
        t.byKey.delete(key);
        t.sortedKeys = null;
        t.byNamespace.get(old.metadata.namespace ?? "")?.delete(key);
        this.reindex(resource, key, old, undefined);
        const rv = ++this.rv;
        const last = clone(old);
        last.metadata.resourceVersion = String(rv);
        deepFreeze(last);
        this.emit({ type: "DELETED", resource, object: last, old, rv });
        return last;
    }

    private reindex(resource: string, key: string, old: K8sObject | undefined, obj: K8sObject | undefined): void {
        if (resource === "pods") {
            const oldNode = old ? (old.spec?.nodeName ?? "") : undefined;
            const newNode = obj ? (obj.spec?.nodeName ?? "") : undefined;
            if (oldNode !== newNode) {
                if (oldNode !== undefined) this.podsByNode.get(oldNode)?.delete(key);
                if (newNode !== undefined) {
                    let s = this.podsByNode.get(newNode);
                    if (!s) this.podsByNode.set(newNode, (s = new Set()));
                    s.add(key);
                }
            }
        }
        const oldOwners = ownerUids(old);
        const newOwners = ownerUids(obj);
        if (oldOwners.join() !== newOwners.join()) {
            const ref = `${resource}|${key}`;
            for (const u of oldOwners) this.byOwnerUid.get(u)?.delete(ref);
            for (const u of newOwners) {
                let s = this.byOwnerUid.get(u);
                if (!s) this.byOwnerUid.set(u, (s = new Set()));
                s.add(ref);
            }
        }
    }

    private emit(e: StoreEvent): void {
        for (const l of this.listeners) {
            try {
                l(e);
            } catch (err) {
                console.error("store listener failed:", err);
            }
        }
    }
}

function ownerUids(o: K8sObject | undefined): string[] {
    const refs = o?.metadata?.ownerReferences;
    if (!Array.isArray(refs) || refs.length === 0) return [];
    return refs.map((r: any) => r.uid).filter(Boolean);
}
