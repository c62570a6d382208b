// Kubelet and API server versions as the roll moves nodes to the target, so each batch is checked against
// the cluster as it will be then. The plan upgrades kubelets; the API server moves only with the control-plane
// nodes that host it (their upgrade is taken to run `kubeadm upgrade apply` / `upgrade node` first), so a roll
// of workers alone is checked against the API server as the snapshot found it, throughout.
import type { V1Node } from "@kubernetes/client-node";
import { displayVersion, parseKubeVersion, isControlPlane } from "../kube-rules";
import { compareCore, lowestVersion, type ApiServerVersions } from "./api-server-version";
import { checkNodeUpgrade, newerThanApiServer } from "./version-skew";

export class VersionTracker {
    private readonly versions = new Map<string, string | undefined>();
    private readonly controlPlanes: string[];
    /** API server version per host, moved to the target when the plan upgrades that host. */
    private readonly apiServers: Map<string, string>;
    private apiServerCache: string | undefined;

    constructor(
        nodes: V1Node[],
        private readonly apiServer: ApiServerVersions,
    ) {
        for (const n of nodes) this.versions.set(n.metadata?.name ?? "", n.status?.nodeInfo?.kubeletVersion);
        this.controlPlanes = nodes.filter(isControlPlane).map((n) => n.metadata?.name ?? "");
        this.apiServers = new Map(apiServer.byHost);
        this.apiServerCache = lowestVersion(this.apiServers);
    }

    /** Lowest API server version now; undefined when unknown. */
    apiServerVersion(): string | undefined {
        return this.apiServerCache;
    }

    /** Roll-level notes about the cluster as it is before the roll; where the API server version comes from only with a target. */
    warnings(target: string | undefined): string[] {
        const warnings: string[] = target && this.apiServer.warning ? [this.apiServer.warning] : [];
        const api = parseKubeVersion(this.apiServerVersion());
        if (!api) return warnings;
        // When control-plane kubelets are the stand-in, they are the reference and cannot be newer than it.
        const exempt = new Set(this.apiServer.from === "control-plane kubelets" ? this.controlPlanes : []);
        for (const [name, text] of this.versions) {
            const v = parseKubeVersion(text);
            if (v && !exempt.has(name) && newerThanApiServer(v, api)) {
                warnings.push(
                    `kubelet on ${name} (${displayVersion(text)}) is already newer than the API server (${displayVersion(this.apiServerVersion())})`,
                );
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
            apiServerVersion: this.apiServerVersion(),
            otherKubelets,
        });
    }

    /** The node runs the target now; an API server it hosts too, unless it was already newer. */
    upgraded(node: string, target: string): void {
        this.versions.set(node, target);
        const hosted = this.apiServers.get(node);
        if (hosted !== undefined && compareCore(target, hosted) > 0) {
            this.apiServers.set(node, displayVersion(target)!);
            this.apiServerCache = lowestVersion(this.apiServers);
        }
    }
}
