// The planner's label selectors are kube-rules' (one parser and matcher for the whole package);
// this file only turns a parse error into a PlanInputError that names the flag.
import { PlanInputError } from "./types";
import { compileSelectorText, type CompiledSelector } from "../kube-rules";

/** Parses selector text; throws PlanInputError naming `what` (e.g. "--pod-selector") when it does not parse. */
export function parseSelectorText(text: string, what = "selector"): CompiledSelector {
    try {
        return compileSelectorText(text);
    } catch (err) {
        throw new PlanInputError(`${what}=${text} must be a valid label selector: ${(err as Error).message}`);
    }
}
