// Small hand-built clusters for planner tests. Defaults: nodes are Ready v1.29.0 workers with 4 cpu /
// 8Gi / 110 pods; pods are Running and Ready with 100m cpu / 128Mi memory.
import type {
    V1LabelSelector,
    V1Node,
    V1NodeSystemInfo,
    V1Pod,
    V1PodDisruptionBudget,
    V1Taint,
    V1Toleration,
} from "@kubernetes/client-node";
import type { ClusterSnapshot } from "../../planner/types";
import { emptySnapshot } from "../../planner/snapshot";

export interface NodeOptions {
    controlPlane?: boolean;
    version?: string;
    cpu?: string;
    memory?: string;
    pods?: number;
    unschedulable?: boolean;
    ready?: boolean;
    labels?: Record<string, string>;
    taints?: V1Taint[];
}

export interface PodOptions {
    labels?: Record<string, string>;
    ready?: boolean;
    phase?: string;
    cpu?: string;
    memory?: string;
    emptyDir?: boolean;
    terminating?: boolean;
    nodeSelector?: Record<string, string>;
    tolerations?: V1Toleration[];
    mirror?: boolean;
}

export interface PdbOptions {
    minAvailable?: number | string;
    maxUnavailable?: number | string;
    policy?: "IfHealthyBudget" | "AlwaysAllow";
    /** Overrides the selector (null = no selector at all). */
    selector?: V1LabelSelector | null;
}

let uidCounter = 0;
const uid = () => `uid-${++uidCounter}`;

export class ClusterBuilder {
    readonly snapshot: ClusterSnapshot = emptySnapshot("2026-01-01T00:00:00Z");

    node(name: string, o: NodeOptions = {}): V1Node {
        const labels: Record<string, string> = { "kubernetes.io/hostname": name, ...(o.labels ?? {}) };
        if (o.controlPlane) labels["node-role.kubernetes.io/control-plane"] = "";
        const node: V1Node = {
            apiVersion: "v1",
            kind: "Node",
            metadata: { name, uid: uid(), labels },
            spec: {
                unschedulable: o.unschedulable || undefined,
                taints: o.taints ?? (o.controlPlane ? [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] : undefined),
            },
            status: {
                allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: String(o.pods ?? 110) },
                conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
                nodeInfo: { kubeletVersion: o.version ?? "v1.29.0" } as V1NodeSystemInfo,
            },
        };
        this.snapshot.nodes.push(node);
        return node;
    }

    pod(
        namespace: string,
        name: string,
        node: string,
        o: PodOptions & { owner?: { kind: string; name: string; uid?: string } } = {},
    ): V1Pod {
        const pod: V1Pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
                name,
                namespace,
                uid: uid(),
                labels: o.labels,
                ownerReferences: o.owner
                    ? [
                          {
                              apiVersion:
                                  o.owner.kind === "ReplicaSet" || o.owner.kind === "StatefulSet" || o.owner.kind === "DaemonSet"
                                      ? "apps/v1"
                                      : "batch/v1",
                              kind: o.owner.kind,
                              name: o.owner.name,
                              uid: o.owner.uid ?? "",
                              controller: true,
                          },
                      ]
                    : undefined,
                annotations: o.mirror ? { "kubernetes.io/config.mirror": "x" } : undefined,
                deletionTimestamp: o.terminating ? ("2026-01-01T00:00:00Z" as unknown as Date) : undefined,
            },
            spec: {
                nodeName: node,
                containers: [
                    { name: "main", image: "img", resources: { requests: { cpu: o.cpu ?? "100m", memory: o.memory ?? "128Mi" } } },
                ],
                volumes: o.emptyDir ? [{ name: "scratch", emptyDir: {} }] : undefined,
                nodeSelector: o.nodeSelector,
                tolerations: o.tolerations,
            },
            status: {
                phase: o.phase ?? "Running",
                conditions: [{ type: "Ready", status: o.ready === false || (o.phase && o.phase !== "Running") ? "False" : "True" }],
            },
        };
        this.snapshot.pods.push(pod);
        return pod;
    }

    /** A Deployment with its ReplicaSet; call `.pod(node)` for each replica. */
    deployment(namespace: string, name: string, replicas: number, podOptions: PodOptions = {}) {
        const deployUid = uid();
        const rsName = `${name}-5d9c7`;
        const rsUid = uid();
        this.snapshot.deployments.push({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name, namespace, uid: deployUid },
            spec: { replicas, selector: {}, template: {} },
        });
        this.snapshot.replicaSets.push({
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            metadata: {
                name: rsName,
                namespace,
                uid: rsUid,
                ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: deployUid, controller: true }],
            },
            spec: { replicas, selector: {} },
        });
        const labels = podOptions.labels ?? { app: name };
        let n = 0;
        return {
            labels,
            pod: (node: string, extra: PodOptions = {}) =>
                this.pod(namespace, `${rsName}-${++n}`, node, {
                    ...podOptions,
                    ...extra,
                    labels,
                    owner: { kind: "ReplicaSet", name: rsName, uid: rsUid },
                }),
        };
    }

    statefulSet(namespace: string, name: string, replicas: number, podOptions: PodOptions = {}) {
        const stsUid = uid();
        this.snapshot.statefulSets.push({
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name, namespace, uid: stsUid },
            spec: { replicas, selector: {}, template: {}, serviceName: name },
        });
        const labels = podOptions.labels ?? { app: name };
        let n = 0;
        return {
            labels,
            pod: (node: string, extra: PodOptions = {}) =>
                this.pod(namespace, `${name}-${n++}`, node, {
                    ...podOptions,
                    ...extra,
                    labels,
                    owner: { kind: "StatefulSet", name, uid: stsUid },
                }),
        };
    }

    /** A DaemonSet with one pod on each node given. */
    daemonSet(namespace: string, name: string, nodes: string[]) {
        const dsUid = uid();
        this.snapshot.daemonSets.push({
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name, namespace, uid: dsUid },
            spec: { selector: {}, template: {} },
        });
        nodes.forEach((node, i) =>
            this.pod(namespace, `${name}-${i}x`, node, { labels: { app: name }, owner: { kind: "DaemonSet", name, uid: dsUid } }),
        );
    }

    pdb(namespace: string, name: string, matchLabels: Record<string, string>, o: PdbOptions): V1PodDisruptionBudget {
        const pdb: V1PodDisruptionBudget = {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name, namespace, uid: uid(), generation: 1 },
            spec: {
                selector: o.selector === null ? undefined : (o.selector ?? { matchLabels }),
                minAvailable: o.minAvailable,
                maxUnavailable: o.maxUnavailable,
                unhealthyPodEvictionPolicy: o.policy,
            },
        };
        this.snapshot.podDisruptionBudgets.push(pdb);
        return pdb;
    }
}

export const DRAIN = { ignoreDaemonSets: true, deleteEmptyDirData: true } as const;
