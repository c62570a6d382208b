// Who owns a pod, and how many replicas its owner wants. The disruption controller needs the replica
// count ("scale") for percentage and maxUnavailable budgets; the planner needs to know whether an
// evicted pod comes back (a controller recreates it) or is gone for good.
import type { V1DaemonSet, V1ObjectMeta, V1OwnerReference, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import type { ClusterSnapshot } from "./types";
import { controllerOf, isFinished } from "../kube-rules";

/** The workload that decides how many copies of a pod exist: a Deployment for ReplicaSet pods. */
export interface Workload {
    kind: string;
    namespace: string;
    name: string;
    /** UID when known; otherwise "kind/ns/name", so each workload is still counted once. */
    id: string;
    /** spec.replicas (default 1); undefined when the owner object is not in the snapshot or has no scale. */
    replicas?: number;
    /** "Deployment default/web" */
    description: string;
}

type Meta = { metadata?: V1ObjectMeta };

function byNamespacedName<T extends Meta>(items: T[]): Map<string, T> {
    const map = new Map<string, T>();
    for (const item of items) map.set(`${item.metadata?.namespace ?? "default"}/${item.metadata?.name}`, item);
    return map;
}

/** The owner ref points at this object (by UID when both sides have one). */
function sameObject(ref: V1OwnerReference, obj: Meta | undefined): boolean {
    if (!obj) return false;
    return !ref.uid || !obj.metadata?.uid || ref.uid === obj.metadata.uid;
}

export class Workloads {
    private readonly replicaSets: Map<string, V1ReplicaSet>;
    private readonly deployments: Map<string, Meta & { spec?: { replicas?: number } }>;
    private readonly statefulSets: Map<string, Meta & { spec?: { replicas?: number } }>;
    private readonly daemonSets: Map<string, V1DaemonSet>;
    /** With no DaemonSets listed at all we cannot tell a deleted one from an unlisted one: assume they exist. */
    private readonly daemonSetsListed: boolean;
    private readonly resolved = new Map<string, Workload>();

    constructor(snapshot: ClusterSnapshot) {
        this.replicaSets = byNamespacedName(snapshot.replicaSets);
        this.deployments = byNamespacedName(snapshot.deployments);
        this.statefulSets = byNamespacedName(snapshot.statefulSets);
        this.daemonSets = byNamespacedName(snapshot.daemonSets);
        this.daemonSetsListed = snapshot.daemonSets.length > 0;
    }

    daemonSetExists(namespace: string, name: string): boolean {
        return !this.daemonSetsListed || this.daemonSets.has(`${namespace}/${name}`);
    }

    /** Resolves a pod's controller to the workload that owns the replica count (Deployment via ReplicaSet). */
    workloadOf(pod: V1Pod): Workload | undefined {
        const ref = controllerOf(pod);
        if (!ref) return undefined;
        const namespace = pod.metadata?.namespace ?? "default";
        // UIDs are unique in a cluster; hand-made objects may lack them.
        const cacheKey = ref.uid || `${ref.kind}/${namespace}/${ref.name}`;
        let workload = this.resolved.get(cacheKey);
        if (!workload) {
            workload = this.resolve(ref, namespace);
            this.resolved.set(cacheKey, workload);
        }
        return workload;
    }

    private resolve(ref: V1OwnerReference, namespace: string): Workload {
        const key = `${namespace}/${ref.name}`;
        const plain = (kind: string, name: string, uid: string | undefined, replicas?: number): Workload => ({
            kind,
            namespace,
            name,
            id: uid || `${kind}/${namespace}/${name}`,
            replicas,
            description: `${kind} ${namespace}/${name}`,
        });
        if (ref.kind === "ReplicaSet") {
            const rs = this.replicaSets.get(key);
            if (!sameObject(ref, rs)) return plain("ReplicaSet", ref.name, ref.uid);
            const deploymentRef = controllerOf(rs!);
            if (deploymentRef?.kind === "Deployment") {
                const deployment = this.deployments.get(`${namespace}/${deploymentRef.name}`);
                if (sameObject(deploymentRef, deployment)) {
                    return plain(
                        "Deployment",
                        deploymentRef.name,
                        deployment!.metadata?.uid ?? deploymentRef.uid,
                        deployment!.spec?.replicas ?? 1,
                    );
                }
                return plain("Deployment", deploymentRef.name, deploymentRef.uid);
            }
            return plain("ReplicaSet", ref.name, rs!.metadata?.uid ?? ref.uid, rs!.spec?.replicas ?? 1);
        }
        if (ref.kind === "StatefulSet") {
            const sts = this.statefulSets.get(key);
            return sameObject(ref, sts)
                ? plain("StatefulSet", ref.name, sts!.metadata?.uid ?? ref.uid, sts!.spec?.replicas ?? 1)
                : plain("StatefulSet", ref.name, ref.uid);
        }
        // DaemonSets, Jobs and custom controllers: no scale we can read from the snapshot.
        return plain(ref.kind, ref.name, ref.uid);
    }

    /** "Deployment default/web", "StatefulSet db/pg", or "no controller". */
    describeOwner(pod: V1Pod): string {
        return this.workloadOf(pod)?.description ?? "no controller";
    }

    /** One key per controller object (its UID when known), e.g. to spread its pods; undefined without one. */
    controllerKey(pod: V1Pod): string | undefined {
        const ref = controllerOf(pod);
        if (!ref) return undefined;
        return ref.uid || `${ref.kind}/${pod.metadata?.namespace ?? "default"}/${ref.name}`;
    }

    /**
     * spec.replicas of the pod's own controller (the ReplicaSet, not its Deployment), as the drain engine's
     * workload pacing reads it; undefined when the controller is not in the snapshot.
     */
    controllerReplicas(pod: V1Pod): number | undefined {
        const ref = controllerOf(pod);
        if (!ref) return undefined;
        const key = `${pod.metadata?.namespace ?? "default"}/${ref.name}`;
        const owner =
            ref.kind === "ReplicaSet" ? this.replicaSets.get(key) : ref.kind === "StatefulSet" ? this.statefulSets.get(key) : undefined;
        return owner && sameObject(ref, owner) ? (owner.spec?.replicas ?? 1) : undefined;
    }

    /**
     * Whether a controller recreates the pod once it is evicted. DaemonSet pods are bound to their node,
     * finished pods are not restarted, and bare pods are gone for good.
     */
    isReplaced(pod: V1Pod): boolean {
        const ref = controllerOf(pod);
        if (!ref || ref.kind === "DaemonSet" || isFinished(pod)) return false;
        // A pod already terminating has had its replacement created when its deletion began.
        return !pod.metadata?.deletionTimestamp;
    }
}
