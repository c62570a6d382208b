// Kubernetes version-skew rules that a node-by-node upgrade must respect:
// - a kubelet is never newer than the control plane (so control-plane nodes go first);
// - upgrades go one minor version at a time;
// - no downgrades;
// - a kubelet may lag the control plane by at most 3 minor versions (2 before v1.28).
// The apiserver version is not in the snapshot; the lowest control-plane kubelet stands in for it
// (kubeadm-style clusters run both at the same version).
import * as semver from "semver";

export function parseVersion(text: string | undefined): semver.SemVer | null {
    if (!text) return null;
    return semver.coerce(text);
}

/** "v1.30.2" from "1.30.2", "v1.30.2+k3s1", ... */
export function displayVersion(text: string | undefined): string | undefined {
    const v = parseVersion(text);
    return v ? `v${v.version}` : text;
}

export function sameVersion(a: string | undefined, b: string | undefined): boolean {
    const va = parseVersion(a);
    const vb = parseVersion(b);
    return !!va && !!vb && semver.eq(va, vb);
}

const minorOf = (v: semver.SemVer) => `v${v.major}.${v.minor}`;

/** Minor versions between two versions of one major (b − a); NaN across majors. */
function minorDistance(a: semver.SemVer, b: semver.SemVer): number {
    return a.major === b.major ? b.minor - a.minor : Number.NaN;
}

/** How many minor versions a kubelet may lag an apiserver of this version. */
export function maxKubeletLag(apiserver: semver.SemVer): number {
    return apiserver.major === 1 && apiserver.minor < 28 ? 2 : 3;
}

export interface NodeUpgradeCheck {
    node: string;
    controlPlane: boolean;
    from: string | undefined;
    to: string;
    /** Lowest control-plane version when this node's batch starts; undefined when no control-plane node is known. */
    controlPlaneVersion: string | undefined;
    /** Kubelet versions of the nodes that stay behind while a control-plane node moves to `to`. */
    otherKubelets: { node: string; version: string | undefined }[];
}

/** Returns the skew-policy problems of upgrading one node; empty when the upgrade is allowed. */
export function checkNodeUpgrade(check: NodeUpgradeCheck): string[] {
    const problems: string[] = [];
    const from = parseVersion(check.from);
    const to = parseVersion(check.to);
    if (!to) return [`target version "${check.to}" is not a version`];
    if (!from) return [`cannot read the kubelet version of ${check.node} ("${check.from ?? ""}")`];
    if (semver.lt(to, from)) {
        problems.push(`target v${to.version} is older than the node's v${from.version}: downgrades are not supported`);
    } else {
        const steps = minorDistance(from, to);
        if (Number.isNaN(steps)) problems.push(`v${from.version} -> v${to.version} changes the major version`);
        else if (steps > 1) {
            problems.push(
                `v${from.version} -> v${to.version} skips ${steps - 1} minor version${steps > 2 ? "s" : ""}: upgrade one minor version at a time (${minorOf(from)} -> v${from.major}.${from.minor + 1} first)`,
            );
        }
    }
    if (!check.controlPlane && check.controlPlaneVersion) {
        const cp = parseVersion(check.controlPlaneVersion);
        if (cp && (to.major > cp.major || (to.major === cp.major && to.minor > cp.minor))) {
            problems.push(
                `kubelet v${to.version} would be newer than the control plane (v${cp.version}): upgrade the control-plane nodes first`,
            );
        }
    }
    if (check.controlPlane) {
        const lag = maxKubeletLag(to);
        const tooOld = check.otherKubelets.filter((k) => {
            const v = parseVersion(k.version);
            return v && minorDistance(v, to) > lag;
        });
        if (tooOld.length > 0) {
            const names = tooOld.slice(0, 5).map((k) => `${k.node} (${displayVersion(k.version)})`).join(", ");
            problems.push(
                `after this control-plane node moves to v${to.version}, kubelets more than ${lag} minor versions older would be unsupported: ${names}${tooOld.length > 5 ? ` and ${tooOld.length - 5} more` : ""}`,
            );
        }
    }
    return problems;
}
