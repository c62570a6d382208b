// Helpers that build realistic, already-running objects for scenarios:
// nodes with Ready status, workloads (Deployment → ReplicaSet → pods,
// DaemonSets, StatefulSets) with pods placed on given nodes, and PDBs.

import { Prng } from "../random";
import { rfc3339 } from "../clock";
import { admitPodSpec, qosClass } from "../apiserver/defaults";
import { DAEMONSET_TOLERATIONS } from "../controllers/daemonset";

export interface BuildContext {
    rng: Prng;
    nowMs: number;
}

const DAY = 24 * 3600 * 1000;

export interface NodeSpec {
    name: string;
    labels?: Record<string, string>;
    version?: string;
    internalIP: string;
    podCIDR: string;
    ageMs?: number;
    cpu?: string;
    memory?: string;
    pods?: string;
    taints?: any[];
    annotations?: Record<string, string>;
}

export function buildNode(ctx: BuildContext, s: NodeSpec): any {
    const created = rfc3339(ctx.nowMs - (s.ageMs ?? 127 * DAY));
    const version = s.version ?? "v1.19.0";
    const now = rfc3339(ctx.nowMs);
    const cond = (type: string, status: string, reason: string, message: string) => ({
        type,
        status,
        lastHeartbeatTime: now,
        lastTransitionTime: created,
        reason,
        message,
    });
    return {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
            name: s.name,
            uid: ctx.rng.uuid(),
            creationTimestamp: created,
            labels: {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": s.name,
                "kubernetes.io/os": "linux",
                ...(s.labels ?? {}),
            },
            annotations: {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                ...(s.annotations ?? {}),
            },
        },
        spec: { podCIDR: s.podCIDR, podCIDRs: [s.podCIDR], ...(s.taints?.length ? { taints: s.taints } : {}) },
        status: {
            capacity: { cpu: s.cpu ?? "4", memory: s.memory ?? "8152308Ki", pods: s.pods ?? "110", "ephemeral-storage": "101445540Ki" },
            allocatable: { cpu: s.cpu ?? "4", memory: s.memory ?? "8049908Ki", pods: s.pods ?? "110", "ephemeral-storage": "93492209510" },
            conditions: [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            addresses: [
                { type: "InternalIP", address: s.internalIP },
                { type: "Hostname", address: s.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
            nodeInfo: {
                machineID: ctx.rng.hex(32),
                systemUUID: ctx.rng.uuid().toUpperCase(),
                bootID: ctx.rng.uuid(),
                kernelVersion: "4.15.0-128-generic",
                osImage: "Ubuntu 18.04.5 LTS",
                containerRuntimeVersion: "docker://19.3.11",
                kubeletVersion: version,
                kubeProxyVersion: version,
                operatingSystem: "linux",
                architecture: "amd64",
            },
        },
    };
}

/** NodeSpecs for `names`, the i-th at 10.0.0.(i+1) with pod CIDR 10.244.i.0/24, each with the fields of `o`. */
export function workerNodeSpecs(names: string[], o: Omit<NodeSpec, "name" | "internalIP" | "podCIDR"> = {}): NodeSpec[] {
    return names.map((name, i) => ({ name, internalIP: `10.0.0.${i + 1}`, podCIDR: `10.244.${i}.0/24`, ...o }));
}

export function buildNamespace(ctx: BuildContext, name: string, ageMs = 127 * DAY): any {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name,
            uid: ctx.rng.uuid(),
            creationTimestamp: rfc3339(ctx.nowMs - ageMs),
            labels: { "kubernetes.io/metadata.name": name },
        },
        spec: { finalizers: ["kubernetes"] },
        status: { phase: "Active" },
    };
}

export interface ContainerSpec {
    name: string;
    image: string;
    cpu?: string;
    memory?: string;
}

export interface PodTemplateOptions {
    labels: Record<string, string>;
    containers: ContainerSpec[];
    emptyDir?: boolean;
    hostNetwork?: boolean;
    annotations?: Record<string, string>;
    tolerations?: any[];
    nodeSelector?: Record<string, string>;
    terminationGracePeriodSeconds?: number;
}

export function buildTemplate(o: PodTemplateOptions): any {
    const spec: any = {
        containers: o.containers.map((c) => ({
            name: c.name,
            image: c.image,
            imagePullPolicy: /:[^/]+$/.test(c.image) && !c.image.endsWith(":latest") ? "IfNotPresent" : "Always",
            resources:
                c.cpu || c.memory ? { requests: { ...(c.cpu ? { cpu: c.cpu } : {}), ...(c.memory ? { memory: c.memory } : {}) } } : {},
            terminationMessagePath: "/dev/termination-log",
            terminationMessagePolicy: "File",
            ...(o.emptyDir ? { volumeMounts: [{ name: "data", mountPath: "/data" }] } : {}),
        })),
        restartPolicy: "Always",
        terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? 30,
        dnsPolicy: o.hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst",
        securityContext: {},
        schedulerName: "default-scheduler",
    };
    if (o.emptyDir) spec.volumes = [{ name: "data", emptyDir: {} }];
    if (o.hostNetwork) spec.hostNetwork = true;
    if (o.tolerations) spec.tolerations = o.tolerations;
    if (o.nodeSelector) spec.nodeSelector = o.nodeSelector;
    return {
        metadata: { labels: { ...o.labels }, ...(o.annotations ? { annotations: { ...o.annotations } } : {}) },
        spec,
    };
}

export interface PlacedPod {
    name: string;
    node: string;
    ip?: string; // defaults to the node IP for hostNetwork pods
    ageMs?: number;
    ready?: boolean;
}

/** A Running pod built from a template, owned by `owner`. */
export function buildPod(
    ctx: BuildContext,
    ns: string,
    template: any,
    owner: any | undefined,
    p: PlacedPod,
    node: any,
    extraLabels: Record<string, string> = {},
): any {
    const created = ctx.nowMs - (p.ageMs ?? 127 * DAY);
    const createdTs = rfc3339(created);
    const startedTs = rfc3339(created + 2000);
    const hostIP = (node?.status?.addresses ?? []).find((a: any) => a.type === "InternalIP")?.address ?? "10.0.0.1";
    const ip = p.ip ?? hostIP;
    const ready = p.ready ?? true;
    const spec = JSON.parse(JSON.stringify(template.spec));
    spec.nodeName = p.node;
    spec.enableServiceLinks ??= true;
    admitPodSpec(spec);
    spec.tolerations ??= [];
    for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
        if (!spec.tolerations.some((t: any) => t.key === key))
            spec.tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
    }
    const cond = (type: string, status = "True") => ({
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: status === "True" ? startedTs : createdTs,
    });
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name: p.name,
            namespace: ns,
            uid: ctx.rng.uuid(),
            creationTimestamp: createdTs,
            generation: 1,
            labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
            ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
            ...(owner
                ? {
                      ownerReferences: [
                          {
                              apiVersion: owner.apiVersion,
                              kind: owner.kind,
                              name: owner.metadata.name,
                              uid: owner.metadata.uid,
                              controller: true,
                              blockOwnerDeletion: true,
                          },
                      ],
                  }
                : {}),
        },
        spec,
        status: {
            phase: "Running",
            conditions: [
                cond("PodReadyToStartContainers"),
                cond("Initialized"),
                cond("Ready", ready ? "True" : "False"),
                cond("ContainersReady", ready ? "True" : "False"),
                cond("PodScheduled"),
            ],
            hostIP,
            hostIPs: [{ ip: hostIP }],
            podIP: ip,
            podIPs: [{ ip }],
            startTime: createdTs,
            containerStatuses: spec.containers.map((c: any) => ({
                name: c.name,
                state: { running: { startedAt: startedTs } },
                lastState: {},
                ready,
                restartCount: 0,
                image: c.image,
                imageID: `docker-pullable://${c.image}@sha256:${ctx.rng.hex(64)}`,
                containerID: `docker://${ctx.rng.hex(64)}`,
                started: true,
            })),
            qosClass: qosClass(spec),
        },
    };
}

export interface DeploymentSpec {
    namespace: string;
    name: string;
    rsHash: string;
    replicas?: number;
    template: PodTemplateOptions;
    /** labels on the Deployment object (default: template labels) */
    labels?: Record<string, string>;
    ageMs?: number;
    pods: PlacedPod[];
}

/** Deployment + its current ReplicaSet + running pods, consistent with each other. */
export function buildDeployment(ctx: BuildContext, s: DeploymentSpec, nodes: Map<string, any>): any[] {
    const created = rfc3339(ctx.nowMs - (s.ageMs ?? 127 * DAY));
    const replicas = s.replicas ?? s.pods.length;
    const template = buildTemplate(s.template);
    const labels = s.labels ?? { ...s.template.labels };
    const deploy = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: {
            name: s.name,
            namespace: s.namespace,
            uid: ctx.rng.uuid(),
            creationTimestamp: created,
            generation: 1,
            labels,
            annotations: { "deployment.kubernetes.io/revision": "1" },
        },
        spec: {
            replicas,
            selector: { matchLabels: { ...s.template.labels } },
            template,
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } },
            revisionHistoryLimit: 10,
            progressDeadlineSeconds: 600,
        },
        status: {
            observedGeneration: 1,
            replicas: s.pods.length,
            updatedReplicas: s.pods.length,
            readyReplicas: s.pods.length,
            availableReplicas: s.pods.length,
            conditions: [
                {
                    type: "Available",
                    status: "True",
                    lastUpdateTime: created,
                    lastTransitionTime: created,
                    reason: "MinimumReplicasAvailable",
                    message: "Deployment has minimum availability.",
                },
                {
                    type: "Progressing",
                    status: "True",
                    lastUpdateTime: created,
                    lastTransitionTime: created,
                    reason: "NewReplicaSetAvailable",
                    message: `ReplicaSet "${s.name}-${s.rsHash}" has successfully progressed.`,
                },
            ],
        },
    };
    const rsTemplate = JSON.parse(JSON.stringify(template));
    rsTemplate.metadata.labels["pod-template-hash"] = s.rsHash;
    const rs = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
            name: `${s.name}-${s.rsHash}`,
            namespace: s.namespace,
            uid: ctx.rng.uuid(),
            creationTimestamp: created,
            generation: 1,
            labels: { ...s.template.labels, "pod-template-hash": s.rsHash },
            annotations: {
                "deployment.kubernetes.io/desired-replicas": String(replicas),
                "deployment.kubernetes.io/max-replicas": String(replicas + Math.ceil(replicas / 4)),
                "deployment.kubernetes.io/revision": "1",
            },
            ownerReferences: [
                {
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    name: s.name,
                    uid: deploy.metadata.uid,
                    controller: true,
                    blockOwnerDeletion: true,
                },
            ],
        },
        spec: { replicas, selector: { matchLabels: { ...s.template.labels, "pod-template-hash": s.rsHash } }, template: rsTemplate },
        status: {
            replicas: s.pods.length,
            fullyLabeledReplicas: s.pods.length,
            readyReplicas: s.pods.length,
            availableReplicas: s.pods.length,
            observedGeneration: 1,
        },
    };
    const pods = s.pods.map((p) => buildPod(ctx, s.namespace, rsTemplate, rs, p, nodes.get(p.node)));
    return [deploy, rs, ...pods];
}

export interface DaemonSetSpec {
    namespace: string;
    name: string;
    template: PodTemplateOptions;
    ageMs?: number;
    pods: PlacedPod[];
}

export function buildDaemonSet(ctx: BuildContext, s: DaemonSetSpec, nodes: Map<string, any>): any[] {
    const created = rfc3339(ctx.nowMs - (s.ageMs ?? 127 * DAY));
    const template = buildTemplate(s.template);
    const ds = {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: {
            name: s.name,
            namespace: s.namespace,
            uid: ctx.rng.uuid(),
            creationTimestamp: created,
            generation: 1,
            labels: { ...s.template.labels },
        },
        spec: {
            selector: { matchLabels: { ...s.template.labels } },
            template,
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
            revisionHistoryLimit: 10,
        },
        status: {
            currentNumberScheduled: s.pods.length,
            desiredNumberScheduled: s.pods.length,
            numberMisscheduled: 0,
            numberReady: s.pods.length,
            observedGeneration: 1,
            updatedNumberScheduled: s.pods.length,
            numberAvailable: s.pods.length,
        },
    };
    const podTemplate = JSON.parse(JSON.stringify(template));
    const tol: any[] = (podTemplate.spec.tolerations ??= []);
    for (const t of DAEMONSET_TOLERATIONS) if (!tol.some((x) => x.key === t.key && x.effect === t.effect)) tol.push(t);
    const pods = s.pods.map((p) => {
        const pod = buildPod(ctx, s.namespace, podTemplate, ds, p, nodes.get(p.node), {
            "controller-revision-hash": "5d8b4d67d7",
            "pod-template-generation": "1",
        });
        pod.spec.affinity = {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [p.node] }] }],
                },
            },
        };
        return pod;
    });
    return [ds, ...pods];
}

export interface StatefulSetSpec {
    namespace: string;
    name: string;
    template: PodTemplateOptions;
    ageMs?: number;
    podManagementPolicy?: "OrderedReady" | "Parallel";
    /** The pods in ordinal order: pods[i] is <name>-i. */
    pods: Omit<PlacedPod, "name">[];
}

/** A StatefulSet (serviceName = its name) and its running pods <name>-0, <name>-1, … */
export function buildStatefulSet(ctx: BuildContext, s: StatefulSetSpec, nodes: Map<string, any>): any[] {
    const template = buildTemplate(s.template);
    const n = s.pods.length;
    const sts = {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: {
            name: s.name,
            namespace: s.namespace,
            uid: ctx.rng.uuid(),
            creationTimestamp: rfc3339(ctx.nowMs - (s.ageMs ?? 127 * DAY)),
            generation: 1,
            labels: { ...s.template.labels },
        },
        spec: {
            replicas: n,
            serviceName: s.name,
            selector: { matchLabels: { ...s.template.labels } },
            template,
            podManagementPolicy: s.podManagementPolicy ?? "OrderedReady",
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
        },
        status: { replicas: n, readyReplicas: n, currentReplicas: n, updatedReplicas: n, availableReplicas: n, observedGeneration: 1 },
    };
    const pods = s.pods.map((p, i) =>
        buildPod(ctx, s.namespace, template, sts, { ...p, name: `${s.name}-${i}` }, nodes.get(p.node), {
            "statefulset.kubernetes.io/pod-name": `${s.name}-${i}`,
            "apps.kubernetes.io/pod-index": String(i),
        }),
    );
    return [sts, ...pods];
}

export interface BaseClusterOptions {
    /** Namespaces, created in this order after the nodes (default: default, kube-system). */
    namespaces?: string[];
    /** The kube-proxy DaemonSet in kube-system, one pod per node. */
    kubeProxy: {
        image: string;
        cpu?: string;
        terminationGracePeriodSeconds?: number;
        /** The pod on `node` (default: named kube-proxy-<node>); called for each node in order, before the DaemonSet is built. */
        pod?: (node: string) => Omit<PlacedPod, "node">;
    };
}

export interface BaseCluster {
    /** Namespaces, nodes, the kube-proxy DaemonSet and its pods, in that order. */
    items: any[];
    /** The nodes by name, in the order given. */
    nodes: Map<string, any>;
}

/**
 * The cluster most scenarios start from: the nodes, the namespaces, and a kube-proxy DaemonSet with a pod on
 * every node. A NodeSpec is built with buildNode; a Node object already built (by a caller that draws from
 * ctx.rng between its nodes) is used as it is. ctx.rng is drawn from in the order: nodes, namespaces, pods'
 * names (kubeProxy.pod), DaemonSet and pods.
 */
export function buildBaseCluster(
    ctx: BuildContext,
    nodeSpecs: Array<NodeSpec | { metadata: { name: string } }>,
    o: BaseClusterOptions,
): BaseCluster {
    const built = nodeSpecs.map((s) => ("metadata" in s ? s : buildNode(ctx, s)));
    const nodes = new Map<string, any>(built.map((n) => [n.metadata.name, n]));
    const items: any[] = [...(o.namespaces ?? ["default", "kube-system"]).map((n) => buildNamespace(ctx, n)), ...built];
    const pod = o.kubeProxy.pod ?? ((node: string) => ({ name: `kube-proxy-${node}` }));
    const pods = built.map((n) => ({ ...pod(n.metadata.name), node: n.metadata.name }));
    const template: PodTemplateOptions = {
        labels: { "k8s-app": "kube-proxy" },
        hostNetwork: true,
        containers: [{ name: "kube-proxy", image: o.kubeProxy.image, cpu: o.kubeProxy.cpu }],
        terminationGracePeriodSeconds: o.kubeProxy.terminationGracePeriodSeconds,
    };
    items.push(...buildDaemonSet(ctx, { namespace: "kube-system", name: "kube-proxy", template, pods }, nodes));
    return { items, nodes };
}

export function buildPdb(
    ctx: BuildContext,
    ns: string,
    name: string,
    selector: Record<string, string>,
    spec: { minAvailable?: number | string; maxUnavailable?: number | string },
    ageMs = 30 * DAY,
): any {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace: ns, uid: ctx.rng.uuid(), creationTimestamp: rfc3339(ctx.nowMs - ageMs), generation: 1 },
        spec: { ...spec, selector: { matchLabels: selector } },
        status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, observedGeneration: 0 },
    };
}

export const DAYS = DAY;
