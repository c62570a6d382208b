// The simulated "upgrade this node" action: the kubelet restarts at a new
// version. The node goes NotReady for downSeconds (pods on it are untouched),
// then the kubelet posts Ready with status.nodeInfo.kubeletVersion (and
// kubeProxyVersion) set to the new version. A node annotated
// sim.node-upgrade.dev/never-returns-after-upgrade: "true" (or matched by a
// nodeNeverReturns fault) stays NotReady.

import * as semver from "semver";
import { resourceByPlural } from "../apiserver/resources";
import { ApiError, notFound } from "../apiserver/status-errors";
import type { ControllerContext } from "./controller";
import { knobSeconds, knobTrue, setCondition } from "./controller";
import type { KubeletManager } from "./kubelet";

const NODES = resourceByPlural("nodes")!;

/** Accepts "v1.20.0" or "1.20.0"; returns "v1.20.0". Throws a 400 ApiError when invalid. */
export function normalizeVersion(version: string): string {
    const v = semver.valid(String(version ?? "").trim());
    if (!v)
        throw new ApiError(400, "BadRequest", `invalid version ${JSON.stringify(version)}: expected a semantic version such as v1.20.0`);
    return `v${v}`;
}

export class NodeUpgrader {
    /** node name → state of an upgrade in progress */
    private inProgress = new Map<string, { version: string; timer: number }>();

    constructor(
        private readonly ctx: ControllerContext,
        private readonly kubelets: KubeletManager,
    ) {}

    upgrading(node: string): boolean {
        return this.inProgress.has(node);
    }

    /**
     * Start an upgrade; returns once it is accepted (the node is NotReady).
     * Throws 404 for an unknown node, 400 for a bad version, 409 if one is running.
     */
    upgrade(
        nodeName: string,
        version: string,
        opts: { downSeconds?: number } = {},
    ): { node: string; version: string; downSeconds: number } {
        const v = normalizeVersion(version);
        const node = this.ctx.registry.tryGet(NODES, undefined, nodeName);
        if (!node) throw notFound(NODES, nodeName);
        if (this.inProgress.has(nodeName)) {
            throw new ApiError(
                409,
                "Conflict",
                `node "${nodeName}" is already being upgraded to ${this.inProgress.get(nodeName)!.version}`,
            );
        }
        const down = opts.downSeconds ?? knobSeconds(node, "upgrade-down-seconds") ?? this.ctx.options.upgradeDownSeconds;
        if (!(down >= 0)) throw new ApiError(400, "BadRequest", `invalid downSeconds ${down}`);

        this.kubelets.stopKubelet(nodeName);
        const now = this.ctx.clock.nowRfc3339();
        const updated = this.ctx.registry.mutate(
            NODES,
            undefined,
            nodeName,
            (o) => {
                o.status ??= {};
                setCondition(
                    (o.status.conditions ??= []),
                    {
                        type: "Ready",
                        status: "False",
                        lastHeartbeatTime: now,
                        reason: "KubeletNotReady",
                        message: `kubelet is restarting: upgrading to ${v}`,
                    },
                    now,
                );
            },
            { subresource: "status" },
        );
        this.ctx.events.record(updated, "Normal", "NodeNotReady", `Node ${nodeName} status is now: NodeNotReady`, "node-controller");

        const timer = this.ctx.clock.setTimeout(() => {
            this.inProgress.delete(nodeName);
            const n = this.ctx.registry.tryGet(NODES, undefined, nodeName);
            if (!n) return;
            if (knobTrue(n, "never-returns-after-upgrade") || this.ctx.faults.nodeNeverReturns(nodeName)) return;
            if (knobTrue(n, "dead")) return;
            this.kubelets.startKubelet(nodeName, v);
        }, down);
        this.inProgress.set(nodeName, { version: v, timer });
        return { node: nodeName, version: v, downSeconds: down };
    }
}
