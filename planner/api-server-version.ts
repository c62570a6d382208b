// Which API server version the kubelets are checked against. The skew rule is "a kubelet is never newer than
// kube-apiserver", so the reference is the API server itself: its GET /version when the snapshot was read from
// the cluster, otherwise the image tags of the kube-apiserver static pods (the lowest: an HA control plane in the
// middle of an upgrade runs two versions). Only when neither exists do the control-plane kubelets stand in, with
// a warning: `kubeadm upgrade apply` upgrades the API server before any kubelet, so they may lag it.
//
// The answer is kept per host, so that the roll can move it: a control-plane node's upgrade is taken to upgrade
// the API server it hosts (kubeadm upgrade apply / upgrade node do so before the kubelet). See version-tracker.ts.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { displayVersion, parseKubeVersion, isControlPlane } from "../kube-rules";
import type { ApiServerVersionSource, ClusterSnapshot } from "./types";

export interface ApiServerVersions {
    /** API server version per hosting node; "" when the host is unknown (GET /version on a managed control plane). */
    byHost: Map<string, string>;
    from?: ApiServerVersionSource;
    /** Why the reference is a stand-in, or missing. */
    warning?: string;
}

/** An image reference split into repository and tag ("registry:5000/kube-apiserver", "v1.20.0"); no digest. */
function splitImage(image: string): { repository: string; tag?: string } {
    const name = image.split("@")[0];
    const colon = name.lastIndexOf(":");
    return colon > name.lastIndexOf("/") ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name };
}

/** "v1.20.0" from "registry.k8s.io/kube-apiserver:v1.20.0" (a registry port or a digest is not a tag). */
export function imageTag(image: string | undefined): string | undefined {
    return image ? splitImage(image).tag : undefined;
}

/** Compares major.minor.patch only: distribution suffixes ("-eks-1a2b", "+k3s1") name builds, not versions. */
export function compareCore(a: string, b: string): number {
    const va = parseKubeVersion(a);
    const vb = parseKubeVersion(b);
    if (!va || !vb) return 0;
    return va.major - vb.major || va.minor - vb.minor || va.patch - vb.patch;
}

function lower(current: string | undefined, candidate: string): string {
    return current === undefined || compareCore(candidate, current) < 0 ? candidate : current;
}

function isApiServerPod(pod: V1Pod): boolean {
    return (
        pod.metadata?.namespace === "kube-system" &&
        pod.metadata?.labels?.component === "kube-apiserver" &&
        !pod.metadata?.deletionTimestamp
    );
}

/** The version a kube-apiserver pod runs, from its kube-apiserver container's image tag. */
function podVersion(pod: V1Pod): string | undefined {
    const containers = pod.spec?.containers ?? [];
    const isApiServerImage = (image: string | undefined) => !!image && /(^|\/)kube-apiserver[^/]*$/.test(splitImage(image).repository);
    const main = containers.find((c) => c.name === "kube-apiserver") ?? containers.find((c) => isApiServerImage(c.image)) ?? containers[0];
    const tag = imageTag(main?.image);
    return tag && parseKubeVersion(tag) ? displayVersion(tag) : undefined;
}

export function apiServerVersions(snapshot: ClusterSnapshot): ApiServerVersions {
    const controlPlanes = snapshot.nodes.filter(isControlPlane);
    const name = (n: V1Node) => n.metadata?.name ?? "";
    if (snapshot.serverVersion && parseKubeVersion(snapshot.serverVersion)) {
        // One answer for the whole control plane; its hosts are the control-plane nodes, when there are any.
        const version = displayVersion(snapshot.serverVersion)!;
        const hosts = controlPlanes.length > 0 ? controlPlanes.map(name) : [""];
        return { byHost: new Map(hosts.map((h) => [h, version])), from: "/version" };
    }

    const byHost = new Map<string, string>();
    for (const pod of snapshot.pods) {
        if (!isApiServerPod(pod)) continue;
        const version = podVersion(pod);
        if (version) byHost.set(pod.spec?.nodeName ?? "", lower(byHost.get(pod.spec?.nodeName ?? ""), version));
    }
    if (byHost.size > 0) return { byHost, from: "kube-apiserver pods" };

    for (const n of controlPlanes) {
        const version = n.status?.nodeInfo?.kubeletVersion;
        if (version && parseKubeVersion(version)) byHost.set(name(n), displayVersion(version)!);
    }
    if (byHost.size > 0) {
        const lowest = [...byHost.values()].reduce(lower);
        return {
            byHost,
            from: "control-plane kubelets",
            warning:
                `the API server version is unknown (no GET /version in the snapshot, no kube-apiserver pods in kube-system): the lowest control-plane kubelet, ${lowest}, ` +
                "stands in for it; if the control plane was upgraded before its kubelets (kubeadm upgrade apply), plan from the cluster itself",
        };
    }
    return {
        byHost,
        warning:
            "the API server version is unknown (no GET /version in the snapshot, no kube-apiserver pods, no control-plane nodes): " +
            "cannot check that kubelets stay at or below it; plan from the cluster itself to read GET /version",
    };
}

/** The lowest version of the map, or undefined when empty. */
export function lowestVersion(byHost: ReadonlyMap<string, string>): string | undefined {
    let lowest: string | undefined;
    for (const v of byHost.values()) lowest = lower(lowest, v);
    return lowest;
}
