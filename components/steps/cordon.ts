// NodeCordon: marks the node unschedulable (kubectl cordon) with our cordoned-by annotation, so the
// NodeUncordon at the end of the chain only ever undoes a cordon node-upgrade made.
import * as s from "./support";
import { StepLogic } from "./step-logic";
import { enabled, enterMaintenance } from "./shared-cluster";

export class CordonStep extends StepLogic {
    constructor() {
        super("NodeCordon", true);
    }

    protected async run(inputs: any): Promise<Record<string, any>> {
        const engine = s.engine();
        const kc = s.kube(inputs);
        const node = await s.readNode(inputs);
        const startedAt = s.nowIso();
        const atTarget = s.versionMatches(node.kubeletVersion, inputs.targetVersion);
        if (inputs.skipIfAtTarget !== false && atTarget && !node.cordonedByUs) {
            const message = `already at ${node.kubeletVersion}: not cordoning (nothing to upgrade)`;
            s.log(this.step, inputs.nodeName, message);
            return { versionBefore: node.kubeletVersion, alreadyAtTarget: true, cordoned: false, startedAt, message, runId: s.newRunId() };
        }
        // Safe in a shared cluster: the window, the roll lock, kured's lock and the gates, before anything is cordoned.
        if (enabled(inputs.sharedCluster))
            await enterMaintenance(kc, inputs.sharedCluster, inputs.stack, inputs.nodeName, (m) => s.log(this.step, inputs.nodeName, m));
        const result = await s.withTimeout(
            (signal) => engine.cordon(kc, inputs.nodeName, { onProgress: s.progressPrinter(this.step, inputs.nodeName), signal }),
            s.API_TIMEOUT_SECONDS,
            `cordoning node "${inputs.nodeName}"`,
        );
        const message = result.changed
            ? `cordoned (was at ${node.kubeletVersion})`
            : node.cordonedByUs
              ? "already cordoned by node-upgrade (resuming)"
              : "already cordoned by someone else: it will be drained and upgraded, and left cordoned afterwards";
        s.log(this.step, inputs.nodeName, message);
        return {
            versionBefore: node.kubeletVersion,
            alreadyAtTarget: false,
            cordoned: result.changed,
            startedAt,
            message,
            runId: s.newRunId(),
        };
    }

    /**
     * A node whose chain did not finish (not at the target, or still cordoned by us) goes through the whole chain
     * again, from this cordon: the new run id re-runs the drain, then the upgrade command (its trigger), so a
     * command only ever runs right after a cordon and drain of the same `pulumi up`, even if someone uncordoned
     * the node after a failed run. A finished node (at the target, not cordoned by us) reads "no change".
     */
    protected async mustRunAgain(inputs: any): Promise<boolean> {
        let node: s.NodeInfo;
        try {
            node = await s.readNode(inputs);
        } catch (err: any) {
            throw new Error(
                `${this.step} ${inputs.nodeName}: cannot tell whether the node finished its upgrade: ${s.safeMessage(err, inputs)}`,
            );
        }
        const unfinished = !s.versionMatches(node.kubeletVersion, inputs.targetVersion) || node.cordonedByUs;
        if (unfinished) {
            s.log(
                this.step,
                inputs.nodeName,
                `not finished (kubelet ${node.kubeletVersion}${node.cordonedByUs ? ", cordoned by node-upgrade" : ""}): its chain runs again from the cordon`,
            );
        }
        return unfinished;
    }

    protected observe(node: s.NodeInfo): Record<string, any> {
        return { observedUnschedulable: node.unschedulable, observedCordonedByUs: node.cordonedByUs };
    }
}
