// Label selectors: matching a PodDisruptionBudget's selector object against pod labels (as the eviction
// handler does), and checking the --pod-selector text before it is sent (as kubectl does).
import type { V1LabelSelector } from "@kubernetes/client-node";

/** One requirement of a textual selector. */
export interface Requirement {
    key: string;
    op: "=" | "!=" | "in" | "notin" | "exists" | "!";
    values: string[];
}

const NAME = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Parses a textual label selector ("app=web,tier!=db,env in (a,b),!legacy").
 * Throws an Error naming the problem; returns the requirements otherwise.
 */
export function parseLabelSelector(text: string): Requirement[] {
    const out: Requirement[] = [];
    const s = text.trim();
    if (s === "") return out;
    // Split on commas that are not inside parentheses.
    const parts: string[] = [];
    let depth = 0;
    let cur = "";
    for (const ch of s) {
        if (ch === "(") depth++;
        if (ch === ")") depth--;
        if (depth < 0) throw new Error(`unbalanced ")" in "${text}"`);
        if (ch === "," && depth === 0) {
            parts.push(cur);
            cur = "";
        } else cur += ch;
    }
    if (depth !== 0) throw new Error(`unbalanced "(" in "${text}"`);
    parts.push(cur);
    for (const raw of parts) {
        const p = raw.trim();
        if (p === "") throw new Error(`empty requirement in "${text}"`);
        let m: RegExpMatchArray | null;
        let req: Requirement;
        if ((m = p.match(/^!\s*(\S+)$/))) req = { key: m[1], op: "!", values: [] };
        else if ((m = p.match(/^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/)))
            req = { key: m[1], op: m[2] as "in" | "notin", values: m[3].split(",").map((v) => v.trim()) };
        else if ((m = p.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) req = { key: m[1], op: m[2] === "!=" ? "!=" : "=", values: [m[3]] };
        else if ((m = p.match(/^([^=!\s()]+)$/))) req = { key: m[1], op: "exists", values: [] };
        else throw new Error(`cannot parse requirement "${p}"`);
        if (!NAME.test(req.key)) throw new Error(`invalid label key "${req.key}"`);
        for (const v of req.values) if (v.length > 63 || !VALUE.test(v)) throw new Error(`invalid label value "${v}"`);
        out.push(req);
    }
    return out;
}

/** A selector turned into a predicate once, so matching thousands of objects is cheap. */
export interface CompiledSelector {
    matches(labels: Record<string, string> | undefined): boolean;
    /** One "key=value" every matching object must carry, if there is one: lets callers index selectors by label. */
    requiredPair?: string;
    /** True for `{}` (or empty text): everything matches. */
    matchesAll: boolean;
}

const MATCHES_NOTHING: CompiledSelector = { matches: () => false, matchesAll: false };

function compileRequirements(reqs: Requirement[]): CompiledSelector {
    if (reqs.length === 0) return { matches: () => true, matchesAll: true };
    const pinned = reqs.find((r) => (r.op === "=" || r.op === "in") && r.values.length === 1);
    return {
        matchesAll: false,
        requiredPair: pinned ? `${pinned.key}=${pinned.values[0]}` : undefined,
        matches: (labels) => requirementsMatch(reqs, labels),
    };
}

/**
 * policy/v1 semantics: a missing (null) selector matches nothing, an empty `{}` selector matches every pod.
 * Unknown operators make the selector match nothing (the server ignores selectors that fail to parse).
 */
export function compileSelector(selector: V1LabelSelector | undefined | null): CompiledSelector {
    if (!selector) return MATCHES_NOTHING;
    const reqs: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
        key,
        op: "=" as const,
        values: [String(value)],
    }));
    const ops: Record<string, Requirement["op"]> = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" };
    for (const e of selector.matchExpressions ?? []) {
        const op = ops[e.operator];
        if (!op) return MATCHES_NOTHING;
        if ((op === "in" || op === "notin") && !(e.values ?? []).length) return MATCHES_NOTHING;
        reqs.push({ key: e.key, op, values: e.values ?? [] });
    }
    return compileRequirements(reqs);
}

/** Parses selector text (`-l`, `--pod-selector`) into a predicate; throws like parseLabelSelector. */
export function compileSelectorText(text: string): CompiledSelector {
    return compileRequirements(parseLabelSelector(text));
}

/** Does a selector object (a PodDisruptionBudget's, a workload's) match these labels? */
export function selectorMatches(selector: V1LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
    return compileSelector(selector).matches(labels);
}

/** Evaluates parsed requirements against labels. */
export function requirementsMatch(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
    const l = labels ?? {};
    return reqs.every((r) => {
        const has = Object.prototype.hasOwnProperty.call(l, r.key);
        switch (r.op) {
            case "=":
                return has && l[r.key] === r.values[0];
            case "!=":
                return !has || l[r.key] !== r.values[0];
            case "in":
                return has && r.values.includes(l[r.key]);
            case "notin":
                return !has || !r.values.includes(l[r.key]);
            case "exists":
                return has;
            case "!":
                return !has;
        }
    });
}
