// Label selectors compiled once into predicates, so matching thousands of pods is cheap.
// Two sources: a selector object (PodDisruptionBudget.spec.selector, policy/v1 semantics) and
// selector text (`-l`, `--pod-selector`), as kubectl and the API server parse them.
import type { V1LabelSelector } from "@kubernetes/client-node";
import { PlanInputError } from "./types";

export type Labels = Record<string, string> | undefined;

interface Requirement {
    key: string;
    op: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values: string[];
}

export interface CompiledSelector {
    matches(labels: Labels): boolean;
    /**
     * One "key=value" every matching object must carry, if there is one. Lets callers index selectors
     * by label instead of testing each against every object.
     */
    requiredPair?: string;
    /** True for `{}`: everything matches. */
    matchesAll: boolean;
}

const NOTHING: CompiledSelector = { matches: () => false, matchesAll: false };

function fromRequirements(reqs: Requirement[]): CompiledSelector {
    if (reqs.length === 0) return { matches: () => true, matchesAll: true };
    const first = reqs.find((r) => r.op === "In" && r.values.length === 1);
    return {
        matchesAll: false,
        requiredPair: first ? `${first.key}=${first.values[0]}` : undefined,
        matches(labels) {
            const l = labels ?? {};
            for (const r of reqs) {
                const has = Object.prototype.hasOwnProperty.call(l, r.key);
                switch (r.op) {
                    case "In":
                        if (!has || !r.values.includes(l[r.key])) return false;
                        break;
                    case "NotIn":
                        if (has && r.values.includes(l[r.key])) return false;
                        break;
                    case "Exists":
                        if (!has) return false;
                        break;
                    case "DoesNotExist":
                        if (has) return false;
                        break;
                }
            }
            return true;
        },
    };
}

/**
 * policy/v1 semantics: a null selector matches nothing, `{}` matches everything in the namespace,
 * and a selector that does not parse (unknown operator) is ignored, i.e. matches nothing.
 */
export function compileSelector(selector: V1LabelSelector | null | undefined): CompiledSelector {
    if (!selector) return NOTHING;
    const reqs: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
        key,
        op: "In" as const,
        values: [String(value)],
    }));
    for (const e of selector.matchExpressions ?? []) {
        if (e.operator !== "In" && e.operator !== "NotIn" && e.operator !== "Exists" && e.operator !== "DoesNotExist") {
            return NOTHING;
        }
        if ((e.operator === "In" || e.operator === "NotIn") && !(e.values ?? []).length) return NOTHING;
        reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
    }
    return fromRequirements(reqs);
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let current = "";
    for (const ch of text) {
        if (ch === "(") depth++;
        if (ch === ")") depth--;
        if (depth < 0) throw new Error("unbalanced parenthesis");
        if (ch === "," && depth === 0) {
            parts.push(current);
            current = "";
        } else current += ch;
    }
    if (depth !== 0) throw new Error("unbalanced parenthesis");
    parts.push(current);
    return parts;
}

const KEY = /^([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid label key "${key}"`);
    return key;
}
function checkValue(value: string): string {
    if (!VALUE.test(value)) throw new Error(`invalid label value "${value}"`);
    return value;
}

/**
 * Parses selector text: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
 * Throws PlanInputError naming `what` (e.g. "--pod-selector") when it does not parse.
 */
export function parseSelectorText(text: string, what = "selector"): CompiledSelector {
    const reqs: Requirement[] = [];
    try {
        const trimmed = text.trim();
        if (trimmed !== "") {
            for (const raw of splitTopLevel(trimmed)) {
                const p = raw.trim();
                let m: RegExpMatchArray | null;
                if (p === "") throw new Error("empty requirement");
                if ((m = p.match(/^!\s*([^\s=!(),]+)$/))) reqs.push({ key: checkKey(m[1]), op: "DoesNotExist", values: [] });
                else if ((m = p.match(/^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/))) {
                    const values = m[3].split(",").map((v) => checkValue(v.trim()));
                    reqs.push({ key: checkKey(m[1]), op: m[2] === "in" ? "In" : "NotIn", values });
                } else if ((m = p.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/)))
                    reqs.push({ key: checkKey(m[1]), op: m[2] === "!=" ? "NotIn" : "In", values: [checkValue(m[3])] });
                else if ((m = p.match(/^([^=!\s()]+)$/))) reqs.push({ key: checkKey(m[1]), op: "Exists", values: [] });
                else throw new Error(`cannot parse "${p}"`);
            }
        }
    } catch (err) {
        throw new PlanInputError(`${what}=${text} must be a valid label selector: ${(err as Error).message}`);
    }
    return fromRequirements(reqs);
}
