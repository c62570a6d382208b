import * as assert from "assert";
import {
    durationSeconds,
    nodeNameProblem,
    percentProblem,
    positiveIntegerProblem,
    throwIfProblems,
    versionProblem,
} from "../../components/validate";
import { NodeCordon } from "../../components/node-cordon";
import { plainArgsProblems } from "../../components/node-upgrade";

const parse = (t: string) => {
    const m = /^(\d+)(s|m|h)$/.exec(t);
    if (!m) throw new Error(`invalid duration "${t}"`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
};

describe("input validation", () => {
    it("accepts DNS-1123 subdomain node names and rejects others", () => {
        for (const ok of ["master", "worker1", "ip-10-0-0-1.ec2.internal", "a", "0abc", "a-b.c-d"])
            assert.strictEqual(nodeNameProblem(ok), undefined, ok);
        for (const bad of ["", "Worker1", "worker_1", "-worker", "worker-", "a..b", "a b", "a;b", "x".repeat(254), ".a", "a/b", "$(id)"]) {
            assert.ok(nodeNameProblem(bad), bad);
        }
        assert.match(nodeNameProblem("Worker1")!, /not a valid DNS-1123 subdomain/);
        assert.ok(nodeNameProblem(undefined));
    });

    it("accepts semantic versions with or without v and rejects others", () => {
        for (const ok of ["v1.29.3", "1.29.3", "v1.28.3+k3s1", "1.27.4-eks-2d98532"]) assert.strictEqual(versionProblem(ok), undefined, ok);
        for (const bad of ["", "1.29", "v1", "latest", "1.29.3; reboot", "vv1.2.3"]) assert.ok(versionProblem(bad), bad);
        assert.match(versionProblem("1.29")!, /not a semantic version/);
    });

    it("parses durations as numbers or text and rejects bad ones", () => {
        assert.deepStrictEqual(durationSeconds("timeout", 30, parse), { seconds: 30 });
        assert.deepStrictEqual(durationSeconds("timeout", "5m", parse), { seconds: 300 });
        assert.deepStrictEqual(durationSeconds("timeout", "45", parse), { seconds: 45 });
        assert.match(durationSeconds("timeout", "5 minutes", parse).problem!, /timeout: invalid duration/);
        assert.match(durationSeconds("timeout", -1, parse).problem!, /must not be negative/);
        assert.deepStrictEqual(durationSeconds("grace", -1, parse, { allowNegative: true }), { seconds: -1 });
        assert.match(durationSeconds("timeout", true, parse).problem!, /must be a duration/);
    });

    it("checks batch sizes and percentages", () => {
        assert.strictEqual(positiveIntegerProblem("maxUnavailable", 2), undefined);
        for (const bad of [0, -1, 1.5, NaN, "2"])
            assert.match(positiveIntegerProblem("maxUnavailable", bad)!, /maxUnavailable must be a whole number of at least 1/);
        assert.strictEqual(percentProblem("p", 25), undefined);
        for (const bad of [0, 101, -5]) assert.ok(percentProblem("p", bad));
    });

    it("reports all problems at once", () => {
        assert.doesNotThrow(() => throwIfProblems("x", [undefined]));
        assert.throws(() => throwIfProblems("ctx", ["one"]), /^Error: ctx: one$/);
        assert.throws(() => throwIfProblems("ctx", ["one", undefined, "two"]), /ctx:\n {2}- one\n {2}- two/);
    });

    it("sharedCluster is checked at construction, with shared-cluster's rules: window, selector, lock name, all at once", () => {
        const problems = plainArgsProblems({
            sharedCluster: {
                lock: { namespace: "Kube-System" },
                gates: [{ type: "pods", selector: "" }],
                maintenanceWindow: "mon-fir 22:00-04:00",
            },
        }).filter(Boolean);
        assert.deepStrictEqual(problems, [
            'sharedCluster window: unknown day "fir" in "mon-fir": use mon … sun (or 0–6, 0 = Sunday), a range like mon-fri, a list like mon,wed,fri, or *',
            'sharedCluster lock: namespace "Kube-System" is not a valid namespace name (lower-case letters, digits and "-", at most 63 characters)',
            "sharedCluster gates[0] (pods): blocking pods: the label selector is empty (it would match every pod)",
        ]);
        // lock and kured's lock are on by default, and fine
        assert.deepStrictEqual(plainArgsProblems({ sharedCluster: {} }).filter(Boolean), []);
    });

    it("a NodeCordon built directly with bad sharedCluster options fails at construction, not at its cordon", () => {
        assert.throws(
            () =>
                new NodeCordon("c", {
                    nodeName: "worker1",
                    targetVersion: "v1.20.0",
                    sharedCluster: { lock: true, window: "mon-fri 22:00-04:00 Mars/Olympus" },
                }),
            /^Error: NodeCordon c: sharedCluster window: .*Mars\/Olympus/,
        );
    });
});
