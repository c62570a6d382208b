// The annotation that records that node-upgrade (not a human) cordoned a node. The roll re-runs a node that
// carries it even at the target version (it was left cordoned by a stopped roll), and uncordon
// --only-if-cordoned-by-us leaves a human's cordon alone.
export const CORDONED_BY_ANNOTATION = "node-upgrade.pulumi.com/cordoned-by";
