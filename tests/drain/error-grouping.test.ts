// A drain error names every cause but stays readable: pods grouped by cause, at most 5 causes and 3 pods each
// with "and N more" (as Cluster API's drain reports them), so 200 pods behind one budget are one line.
import * as assert from "assert";
import { remainingLines } from "../../drain/drain";

const budget = "PodDisruptionBudget shop/web allows no disruption (needs 200 healthy pods and has 200; 0 disruptions allowed)";

describe("drain: errors group the remaining pods by cause", () => {
    it("one pod keeps kubectl's line shape", () => {
        assert.strictEqual(remainingLines([{ pod: "default/a", reason: "r" }]), "\n  pod default/a: r");
    });

    it("200 pods behind one budget are one line with a count and three names", () => {
        const pods = Array.from({ length: 200 }, (_, i) => ({ pod: `shop/web-${i}`, reason: budget }));
        const text = remainingLines(pods);
        assert.strictEqual(text, `\n  200 pods (shop/web-0, shop/web-1, shop/web-2 and 197 more): ${budget}`);
    });

    it("at most five causes, the rest counted, in the order they were found", () => {
        const pods = Array.from({ length: 8 }, (_, cause) =>
            [0, 1].map((i) => ({ pod: `ns/p${cause}-${i}`, reason: `cause ${cause}` })),
        ).flat();
        const lines = remainingLines(pods).split("\n").filter(Boolean);
        assert.deepStrictEqual(lines, [
            "  2 pods (ns/p0-0, ns/p0-1): cause 0",
            "  2 pods (ns/p1-0, ns/p1-1): cause 1",
            "  2 pods (ns/p2-0, ns/p2-1): cause 2",
            "  2 pods (ns/p3-0, ns/p3-1): cause 3",
            "  2 pods (ns/p4-0, ns/p4-1): cause 4",
            "  and 3 more causes (6 pods)",
        ]);
    });
});
