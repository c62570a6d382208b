// Kubernetes version-skew rules that a node-by-node upgrade must respect:
// - a kubelet is never newer than kube-apiserver (so the control plane goes first);
// - upgrades go one minor version at a time;
// - no downgrades;
// - a kubelet may lag kube-apiserver by at most 3 minor versions (2 before v1.28).
// Versions are read with kube-rules' parseKubeVersion; the arithmetic here is on major and minor numbers.
import type { SemVer } from "semver";
import { displayVersion, parseKubeVersion } from "../kube-rules";

const minorOf = (v: SemVer) => `v${v.major}.${v.minor}`;
const show = (v: SemVer) => displayVersion(v.raw) ?? v.raw;

/** Minor versions between two versions of one major (b − a); NaN across majors. */
function minorDistance(a: SemVer, b: SemVer): number {
    return a.major === b.major ? b.minor - a.minor : Number.NaN;
}

/** major.minor.patch order; distribution suffixes ("-eks-1a2b", "+k3s1") are builds, not older versions. */
function coreLess(a: SemVer, b: SemVer): boolean {
    return a.major !== b.major ? a.major < b.major : a.minor !== b.minor ? a.minor < b.minor : a.patch < b.patch;
}

/** How many minor versions a kubelet may lag an apiserver of this version. */
export function maxKubeletLag(apiserver: SemVer): number {
    return apiserver.major === 1 && apiserver.minor < 28 ? 2 : 3;
}

/** Whether kubelet version `v` is newer (by minor version) than the API server's. */
export function newerThanApiServer(v: SemVer, apiServer: SemVer): boolean {
    return v.major > apiServer.major || (v.major === apiServer.major && v.minor > apiServer.minor);
}

export interface NodeUpgradeCheck {
    node: string;
    controlPlane: boolean;
    from: string | undefined;
    to: string;
    /** Lowest API server version when this node's batch starts; undefined when unknown (no check). */
    apiServerVersion: string | undefined;
    /** Kubelet versions of the nodes that stay behind while a control-plane node moves to `to`. */
    otherKubelets: { node: string; version: string | undefined }[];
}

/** Returns the skew-policy problems of upgrading one node; empty when the upgrade is allowed. */
export function checkNodeUpgrade(check: NodeUpgradeCheck): string[] {
    const problems: string[] = [];
    const from = parseKubeVersion(check.from);
    const to = parseKubeVersion(check.to);
    if (!to) return [`target version "${check.to}" is not a version`];
    if (!from) return [`cannot read the kubelet version of ${check.node} ("${check.from ?? ""}")`];
    if (coreLess(to, from)) {
        problems.push(`target ${show(to)} is older than the node's ${show(from)}: downgrades are not supported`);
    } else {
        const steps = minorDistance(from, to);
        if (Number.isNaN(steps)) problems.push(`${show(from)} -> ${show(to)} changes the major version`);
        else if (steps > 1) {
            problems.push(
                `${show(from)} -> ${show(to)} skips ${steps - 1} minor version${steps > 2 ? "s" : ""}: upgrade one minor version at a time (${minorOf(from)} -> v${from.major}.${from.minor + 1} first)`,
            );
        }
    }
    // A control-plane node's upgrade is taken to upgrade the API server it hosts first (kubeadm upgrade apply /
    // upgrade node), so only other nodes are held to the API server's version.
    const apiServer = parseKubeVersion(check.apiServerVersion);
    if (!check.controlPlane && apiServer && newerThanApiServer(to, apiServer)) {
        problems.push(`kubelet ${show(to)} would be newer than the API server (${show(apiServer)}): upgrade the control plane first`);
    }
    if (check.controlPlane) {
        const lag = maxKubeletLag(to);
        const tooOld = check.otherKubelets.filter((k) => {
            const v = parseKubeVersion(k.version);
            return v && minorDistance(v, to) > lag;
        });
        if (tooOld.length > 0) {
            const names = tooOld
                .slice(0, 5)
                .map((k) => `${k.node} (${displayVersion(k.version)})`)
                .join(", ");
            problems.push(
                `after this control-plane node moves to ${show(to)}, kubelets more than ${lag} minor versions older would be unsupported: ${names}${tooOld.length > 5 ? ` and ${tooOld.length - 5} more` : ""}`,
            );
        }
    }
    return problems;
}
