// Kubelet versions as the roll moves nodes to the target, so each batch is checked against the
// cluster as it will be then (e.g. workers after the control plane has been upgraded).
import type { V1Node } from "@kubernetes/client-node";
import * as semver from "semver";
import { isControlPlane } from "./scheduling";
import { checkNodeUpgrade, parseVersion } from "./version-skew";

export class VersionTracker {
    private readonly versions = new Map<string, string | undefined>();
    private readonly controlPlanes: string[];

    constructor(nodes: V1Node[]) {
        for (const n of nodes) this.versions.set(n.metadata?.name ?? "", n.status?.nodeInfo?.kubeletVersion);
        this.controlPlanes = nodes.filter(isControlPlane).map((n) => n.metadata?.name ?? "");
    }

    /** Lowest control-plane kubelet version: our stand-in for the oldest apiserver. */
    controlPlaneVersion(): string | undefined {
        let lowest: semver.SemVer | undefined;
        let text: string | undefined;
        for (const name of this.controlPlanes) {
            const v = parseVersion(this.versions.get(name));
            if (v && (!lowest || semver.lt(v, lowest))) {
                lowest = v;
                text = this.versions.get(name);
            }
        }
        return text;
    }

    /** Roll-level notes about the cluster as it is before the roll. */
    warnings(target: string | undefined): string[] {
        const warnings: string[] = [];
        if (target && this.controlPlanes.length === 0) {
            warnings.push("no control-plane node in the snapshot (managed control plane?): cannot check that kubelets stay at or below the control-plane version");
        }
        const cp = parseVersion(this.controlPlaneVersion());
        if (!cp) return warnings;
        const controlPlanes = new Set(this.controlPlanes);
        for (const [name, text] of this.versions) {
            const v = parseVersion(text);
            if (v && !controlPlanes.has(name) && (v.major > cp.major || (v.major === cp.major && v.minor > cp.minor))) {
                warnings.push(`kubelet on ${name} (v${v.version}) is already newer than the control plane (v${cp.version})`);
            }
        }
        return warnings;
    }

    /** Skew problems of moving one node of a batch to the target, with the cluster as it is when the batch starts. */
    check(node: string, controlPlane: boolean, target: string, batch: Set<string>): string[] {
        const otherKubelets: { node: string; version: string | undefined }[] = [];
        if (controlPlane) {
            for (const [name, version] of this.versions) if (!batch.has(name)) otherKubelets.push({ node: name, version });
        }
        return checkNodeUpgrade({
            node,
            controlPlane,
            from: this.versions.get(node),
            to: target,
            controlPlaneVersion: this.controlPlaneVersion(),
            otherKubelets,
        });
    }

    upgraded(node: string, target: string): void {
        this.versions.set(node, target);
    }
}
