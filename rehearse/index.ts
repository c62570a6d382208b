// Public entry point of the roll rehearsal: the roll `pulumi up` would run, on a simulated copy of a cluster
// snapshot, timed node by node. See rehearse.ts.
export { rehearse } from "./rehearse";
export { formatReport } from "./format";
export { readTimingsFile, mergeTimings } from "./timing-overrides";
export { snapshotListOf } from "./snapshot-dump";
export { RehearsalInputError } from "./types";
export type {
    RehearsalOptions,
    RehearsalDrainOptions,
    RehearsalReport,
    RehearsalStop,
    NodeReport,
    WorkloadReport,
    WaitReport,
    TimingOverrides,
    StepName,
} from "./types";
