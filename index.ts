// The root Pulumi program: rolls the node upgrade described by the stack configuration (see Pulumi.yaml for
// every key). Run `npm run build` first: the dynamic providers load the compiled package from dist/.
import { rollFromConfig } from "./components";

const { roll, report } = rollFromConfig();

/** Per node: versions before and after, evicted pods, durations. Never contains credentials. */
export const nodeUpgradeReport = report;
/** Node names per batch, in roll order. */
export const rollBatches = roll.batches;
