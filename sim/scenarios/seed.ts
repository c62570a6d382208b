// The "seed" scenario: the cluster of the Korean node-upgrade walkthrough
// (/work/shared/docs/seed/000_177f37426c7c7c26.txt).
//
//   master   Ready  master  127d  v1.19.0   (label node-role.kubernetes.io/master="", no NoSchedule taint)
//   worker1  Ready  <none>  127d  v1.19.0
//   worker2  Ready  <none>  127d  v1.19.0
//
// DaemonSets kube-proxy and weave-net (kube-system) run on every node; on
// worker1 their pods are kube-proxy-587jv and weave-net-p964j. Deployment
// http-go (default, 10 replicas, 2 containers, RS http-go-568f649bb) has the
// walkthrough's pod names, placement and weave IPs. worker1 also runs the
// walkthrough's other workloads (several with emptyDir volumes), each owned by
// a Deployment/ReplicaSet so evicted pods are replaced on master/worker2.

import { Prng } from "../random";
import { BuildContext, buildDaemonSet, buildDeployment, buildNamespace, buildNode, buildPod, buildTemplate, DAYS } from "./builders";

export const SEED_SERVER_VERSION = "v1.20.0";

export function seedScenario(nowMs: number, seed = 1): any {
    const ctx: BuildContext = { rng: new Prng(seed * 7919 + 17), nowMs };
    const age = 127 * DAYS + 5 * 3600 * 1000;
    const nodes = [
        buildNode(ctx, {
            name: "master",
            internalIP: "10.1.11.7",
            podCIDR: "10.38.0.0/24",
            ageMs: age,
            labels: { "node-role.kubernetes.io/master": "" },
        }),
        buildNode(ctx, { name: "worker1", internalIP: "10.1.11.8", podCIDR: "10.40.0.0/24", ageMs: age }),
        buildNode(ctx, { name: "worker2", internalIP: "10.1.11.9", podCIDR: "10.32.0.0/24", ageMs: age }),
    ];
    const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
    const items: any[] = [
        ...["default", "kube-system", "kube-public", "kube-node-lease", "blue", "istio-system", "gitlab-managed-apps"].map((n) =>
            buildNamespace(ctx, n, n.startsWith("kube") || n === "default" ? age : 60 * DAYS),
        ),
        ...nodes,
    ];
    const small = { cpu: "50m", memory: "64Mi" };

    // --- DaemonSets on every node
    items.push(
        ...buildDaemonSet(
            ctx,
            {
                namespace: "kube-system",
                name: "kube-proxy",
                ageMs: age,
                template: {
                    labels: { "k8s-app": "kube-proxy" },
                    hostNetwork: true,
                    containers: [{ name: "kube-proxy", image: "k8s.gcr.io/kube-proxy:v1.19.0" }],
                },
                pods: [
                    { name: "kube-proxy-7mxzw", node: "master", ageMs: age },
                    { name: "kube-proxy-587jv", node: "worker1", ageMs: age },
                    { name: "kube-proxy-h2qbv", node: "worker2", ageMs: age },
                ],
            },
            byName,
        ),
    );
    items.push(
        ...buildDaemonSet(
            ctx,
            {
                namespace: "kube-system",
                name: "weave-net",
                ageMs: age,
                template: {
                    labels: { name: "weave-net" },
                    hostNetwork: true,
                    containers: [
                        { name: "weave", image: "docker.io/weaveworks/weave-kube:2.7.0" },
                        { name: "weave-npc", image: "docker.io/weaveworks/weave-npc:2.7.0" },
                    ],
                },
                pods: [
                    { name: "weave-net-tsk8c", node: "master", ageMs: age },
                    { name: "weave-net-p964j", node: "worker1", ageMs: age },
                    { name: "weave-net-9xwqf", node: "worker2", ageMs: age },
                ],
            },
            byName,
        ),
    );

    // --- control-plane static (mirror) pods on master
    for (const [component, image] of [
        ["etcd", "k8s.gcr.io/etcd:3.4.9-1"],
        ["kube-apiserver", "k8s.gcr.io/kube-apiserver:v1.19.0"],
        ["kube-controller-manager", "k8s.gcr.io/kube-controller-manager:v1.19.0"],
        ["kube-scheduler", "k8s.gcr.io/kube-scheduler:v1.19.0"],
    ]) {
        const tpl = buildTemplate({
            labels: { component, tier: "control-plane" },
            hostNetwork: true,
            containers: [{ name: component, image, cpu: "100m" }],
            annotations: {
                "kubernetes.io/config.mirror": ctx.rng.hex(32),
                "kubernetes.io/config.source": "file",
                "kubernetes.io/config.hash": ctx.rng.hex(32),
            },
        });
        tpl.spec.priorityClassName = "system-node-critical";
        const owner = { apiVersion: "v1", kind: "Node", metadata: byName.get("master").metadata };
        items.push(
            buildPod(ctx, "kube-system", tpl, owner, { name: `${component}-master`, node: "master", ageMs: age }, byName.get("master")),
        );
    }

    // --- http-go: exactly what `kubectl create deployment http-go --image=gasbugs/http-go` makes, scaled to 10.
    // The walkthrough shows READY 2/2, so the template carries a second container.
    const recent = (s: number) => s * 1000;
    items.push(
        ...buildDeployment(
            ctx,
            {
                namespace: "default",
                name: "http-go",
                rsHash: "568f649bb",
                replicas: 10,
                ageMs: recent(4 * 60 + 13),
                labels: { app: "http-go" },
                template: {
                    labels: { app: "http-go" },
                    containers: [
                        { name: "http-go", image: "gasbugs/http-go" },
                        { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.8.1", ...small },
                    ],
                },
                pods: [
                    { name: "http-go-568f649bb-4npss", node: "worker1", ip: "10.40.0.1", ageMs: recent(241) },
                    { name: "http-go-568f649bb-fb77f", node: "worker1", ip: "10.40.0.4", ageMs: recent(121) },
                    { name: "http-go-568f649bb-fvksv", node: "worker1", ip: "10.40.0.5", ageMs: recent(121) },
                    { name: "http-go-568f649bb-j2mqp", node: "worker2", ip: "10.32.0.20", ageMs: recent(121) },
                    { name: "http-go-568f649bb-jpjck", node: "worker1", ip: "10.40.0.2", ageMs: recent(121) },
                    { name: "http-go-568f649bb-n7w9l", node: "master", ip: "10.38.0.7", ageMs: recent(121) },
                    { name: "http-go-568f649bb-pcvr2", node: "worker1", ip: "10.40.0.6", ageMs: recent(121) },
                    { name: "http-go-568f649bb-phpgq", node: "worker1", ip: "10.40.0.3", ageMs: recent(121) },
                    { name: "http-go-568f649bb-v4fzb", node: "worker2", ip: "10.32.0.19", ageMs: recent(121) },
                    { name: "http-go-568f649bb-vj6bn", node: "master", ip: "10.38.0.8", ageMs: recent(121) },
                ],
            },
            byName,
        ),
    );

    // --- the walkthrough's other workloads on worker1 (one Deployment each)
    const others: {
        ns: string;
        name: string;
        hash: string;
        suffix: string;
        ip: string;
        emptyDir?: boolean;
        labels: Record<string, string>;
        image: string;
        extra?: { name: string; node: string; ip: string }[];
        replicas?: number;
    }[] = [
        {
            ns: "default",
            name: "ratings-v1",
            hash: "7d99676f7f",
            suffix: "7x8nl",
            ip: "10.40.0.7",
            emptyDir: true,
            labels: { app: "ratings", version: "v1" },
            image: "docker.io/istio/examples-bookinfo-ratings-v1:1.16.2",
        },
        {
            ns: "default",
            name: "reviews-v2",
            hash: "6c5bf657cf",
            suffix: "n5vwl",
            ip: "10.40.0.8",
            emptyDir: true,
            labels: { app: "reviews", version: "v2" },
            image: "docker.io/istio/examples-bookinfo-reviews-v2:1.16.2",
        },
        {
            ns: "blue",
            name: "pod-jenkins-deploy",
            hash: "6c8f5b65cb",
            suffix: "gmg8k",
            ip: "10.40.0.9",
            labels: { app: "jenkins" },
            image: "jenkins/jenkins:lts",
        },
        {
            ns: "istio-system",
            name: "grafana",
            hash: "784c89f4cf",
            suffix: "zksvs",
            ip: "10.40.0.10",
            emptyDir: true,
            labels: { app: "grafana" },
            image: "grafana/grafana:7.2.1",
        },
        {
            ns: "istio-system",
            name: "jaeger",
            hash: "7f78b6fb65",
            suffix: "76mk8",
            ip: "10.40.0.11",
            emptyDir: true,
            labels: { app: "jaeger" },
            image: "docker.io/jaegertracing/all-in-one:1.18",
        },
        {
            ns: "istio-system",
            name: "kiali",
            hash: "7476977cf9",
            suffix: "x8zlr",
            ip: "10.40.0.12",
            labels: { app: "kiali" },
            image: "quay.io/kiali/kiali:v1.26",
        },
        {
            ns: "kube-system",
            name: "coredns",
            hash: "f9fd979d6",
            suffix: "79vc6",
            ip: "10.40.0.13",
            labels: { "k8s-app": "kube-dns" },
            image: "k8s.gcr.io/coredns:1.7.0",
            replicas: 2,
            extra: [{ name: "coredns-f9fd979d6-5h9rb", node: "master", ip: "10.38.0.2" }],
        },
        {
            ns: "kube-system",
            name: "metrics-server",
            hash: "75f98fdbd5",
            suffix: "mfb2k",
            ip: "10.40.0.14",
            emptyDir: true,
            labels: { "k8s-app": "metrics-server" },
            image: "k8s.gcr.io/metrics-server/metrics-server:v0.3.7",
        },
        {
            ns: "gitlab-managed-apps",
            name: "runner-gitlab-runner",
            hash: "69779496d5",
            suffix: "5xjzp",
            ip: "10.40.0.15",
            emptyDir: true,
            labels: { app: "runner-gitlab-runner" },
            image: "gitlab/gitlab-runner:alpine-v13.7.0",
        },
    ];
    for (const o of others) {
        items.push(
            ...buildDeployment(
                ctx,
                {
                    namespace: o.ns,
                    name: o.name,
                    rsHash: o.hash,
                    replicas: o.replicas ?? 1,
                    ageMs: 60 * DAYS,
                    template: {
                        labels: o.labels,
                        emptyDir: o.emptyDir,
                        containers: [{ name: o.name.replace(/-v\d+$/, ""), image: o.image, ...small }],
                    },
                    pods: [
                        { name: `${o.name}-${o.hash}-${o.suffix}`, node: "worker1", ip: o.ip, ageMs: 60 * DAYS },
                        ...(o.extra ?? []).map((x) => ({ ...x, ageMs: age })),
                    ],
                },
                byName,
            ),
        );
    }
    return { kind: "List", apiVersion: "v1", metadata: { resourceVersion: "" }, items };
}
