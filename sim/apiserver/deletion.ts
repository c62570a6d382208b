// DELETE semantics (drain-spec §7): preconditions, the pod grace-period rules,
// finalizers, namespaces going Terminating, and orphaning dependents.

import type { Registry } from "./registry";
import { ResourceInfo } from "./resources";
import { preconditionRv, preconditionUid } from "./status-errors";
import { K8sObject, clone } from "./store";
import { rfc3339 } from "../clock";

export interface DeleteOptions {
    gracePeriodSeconds?: number;
    preconditions?: { uid?: string; resourceVersion?: string };
    propagationPolicy?: "Orphan" | "Background" | "Foreground";
    orphanDependents?: boolean;
    dryRun?: string[];
}

export interface DeleteResult {
    /** what the HTTP response body is: the object (pods, pending deletions) or a Status */
    body: any;
    /** true when the object left storage */
    deleted: boolean;
    object: K8sObject;
}

/** The grace period a pod deletion gets (podStrategy.CheckGracefulDelete). */
export function podGracePeriod(pod: K8sObject, requested: number | undefined): number {
    let period = requested !== undefined ? requested : (pod.spec?.terminationGracePeriodSeconds ?? 0);
    if (!pod.spec?.nodeName) period = 0;
    const phase = pod.status?.phase;
    if (phase === "Failed" || phase === "Succeeded") period = 0;
    if (period < 0) period = 1;
    return period;
}

export function deleteObject(
    reg: Registry,
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
    dryRun: boolean,
): DeleteResult {
    const current = reg.get(r, namespace, name);
    const meta = current.metadata;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== meta.uid) throw preconditionUid(r, name, pre.uid, meta.uid);
    if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
        throw preconditionRv(r, name, pre.resourceVersion, meta.resourceVersion);
    }
    const returnsObject = r.plural === "pods";
    const now = reg.clock.nowMs();

    if (r.plural === "namespaces") return deleteNamespace(reg, r, current, dryRun);

    const orphan = options.propagationPolicy === "Orphan" || options.orphanDependents === true;
    const finalizers: string[] = meta.finalizers ?? [];

    // Decide: graceful (stays with a deletionTimestamp), pending no-op, or immediate.
    let graceful = false;
    let period = 0;
    let shortenedTs: number | undefined;
    if (meta.deletionTimestamp) {
        const existing = meta.deletionGracePeriodSeconds;
        if (existing === undefined || existing === 0) {
            // deletion already due: remove now (unless finalizers keep it)
        } else if (options.gracePeriodSeconds === undefined || options.gracePeriodSeconds >= existing) {
            // graceful deletion is pending and may only be shortened: nothing changes
            return { body: current, deleted: false, object: current };
        } else {
            period = Math.max(0, options.gracePeriodSeconds);
            const newTs = Math.max(now, Date.parse(meta.deletionTimestamp) - (existing - period) * 1000);
            shortenedTs = newTs;
            if (period > 0) {
                const updated = clone(current);
                updated.metadata.deletionTimestamp = rfc3339(newTs);
                updated.metadata.deletionGracePeriodSeconds = period;
                const stored = dryRun ? updated : reg.store.put(r.plural, updated);
                return { body: stored, deleted: false, object: stored };
            }
        }
    } else if (r.plural === "pods") {
        period = podGracePeriod(current, options.gracePeriodSeconds);
        graceful = period > 0;
    }

    if (orphan && !dryRun) orphanDependents(reg, meta.uid);

    if (graceful || finalizers.length) {
        const updated = clone(current);
        if (!updated.metadata.deletionTimestamp) {
            updated.metadata.deletionTimestamp = rfc3339(now + period * 1000);
            updated.metadata.deletionGracePeriodSeconds = period;
            if (updated.metadata.generation !== undefined && r.plural === "pods") updated.metadata.generation += 1;
        } else {
            if (shortenedTs !== undefined) updated.metadata.deletionTimestamp = rfc3339(shortenedTs);
            updated.metadata.deletionGracePeriodSeconds = period;
        }
        if (JSON.stringify(updated) === JSON.stringify(current)) return { body: current, deleted: false, object: current };
        const stored = dryRun ? updated : reg.store.put(r.plural, updated);
        return { body: stored, deleted: false, object: stored };
    }

    // immediate removal
    if (dryRun) {
        return { body: returnsObject ? current : deletedStatus(r, current), deleted: true, object: current };
    }
    const last = reg.store.remove(r.plural, meta.namespace, name)!;
    return {
        body: returnsObject ? last : deletedStatus(r, current),
        deleted: true,
        object: last,
    };
}

/** The Status body kube-apiserver returns for an immediate delete of a non-pod object. */
function deletedStatus(r: ResourceInfo, o: K8sObject): any {
    return {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name: o.metadata.name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: o.metadata.uid },
    };
}

function deleteNamespace(reg: Registry, r: ResourceInfo, current: K8sObject, dryRun: boolean): DeleteResult {
    if (current.metadata.deletionTimestamp) return { body: current, deleted: false, object: current };
    const updated = clone(current);
    updated.metadata.deletionTimestamp = reg.clock.nowRfc3339();
    updated.metadata.deletionGracePeriodSeconds = 0;
    updated.status = { ...(updated.status ?? {}), phase: "Terminating" };
    const stored = dryRun ? updated : reg.store.put(r.plural, updated);
    return { body: stored, deleted: false, object: stored };
}

/** propagationPolicy=Orphan: dependents lose their ownerReference to the deleted owner. */
function orphanDependents(reg: Registry, ownerUid: string): void {
    for (const { resource, object } of reg.store.ownedBy(ownerUid)) {
        reg.mutate(resource, object.metadata.namespace, object.metadata.name, (o) => {
            o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((ref: any) => ref.uid !== ownerUid);
            if (!o.metadata.ownerReferences.length) delete o.metadata.ownerReferences;
        });
    }
}
