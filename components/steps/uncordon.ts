// NodeUncordon: makes the node schedulable again, but only when the cordon is ours (our annotation): a node
// an operator cordoned for another reason stays cordoned.
import * as s from "./support";
import { StepLogic } from "./step-logic";
import { enabled, leaveMaintenance } from "./shared-cluster";

export class UncordonStep extends StepLogic {
    constructor() {
        super("NodeUncordon", true);
    }

    protected async run(inputs: any): Promise<Record<string, any>> {
        const engine = s.engine();
        const kc = s.kube(inputs);
        const before = await s.readNode(inputs);
        const result = await s.withTimeout(
            (signal) =>
                engine.uncordon(kc, inputs.nodeName, {
                    onlyIfCordonedByUs: inputs.onlyIfCordonedByUs !== false,
                    onProgress: s.progressPrinter(this.step, inputs.nodeName),
                    signal,
                }),
            s.API_TIMEOUT_SECONDS,
            `uncordoning node "${inputs.nodeName}"`,
        );
        const message = result.changed
            ? "uncordoned"
            : before.unschedulable
              ? "left cordoned: the cordon was not made by node-upgrade"
              : "already schedulable: nothing to do";
        s.log(this.step, inputs.nodeName, message);
        if (enabled(inputs.sharedCluster))
            await leaveMaintenance(inputs.sharedCluster, inputs.nodeName, (m) => s.log(this.step, inputs.nodeName, m));
        return { uncordoned: result.changed, finishedAt: s.nowIso(), message };
    }

    protected observe(node: s.NodeInfo): Record<string, any> {
        return { observedUnschedulable: node.unschedulable };
    }
}
