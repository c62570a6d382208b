// The step implementations by resource type. This compiled module is what the serialized provider proxies
// `require` inside the dynamic-provider host (see ../providers/).
import { CordonStep } from "./cordon";
import { DrainStep } from "./drain";
import { ReadyStep } from "./ready";
import { UncordonStep } from "./uncordon";
import type { StepLogic, StepName } from "./step-logic";

export const steps: Record<StepName, StepLogic> = {
    NodeCordon: new CordonStep(),
    NodeDrain: new DrainStep(),
    NodeReady: new ReadyStep(),
    NodeUncordon: new UncordonStep(),
};

export type { StepName };

/** The stack configuration the engine gives the provider (see ../providers/step-provider.ts). */
export { configure } from "./support";
