// Every example in examples/ type-checks against the package's own sources (examples/tsconfig.json maps
// "pulumi-node-upgrade" to components/index.ts), so an API change that breaks an example fails the suite fast.
// tests/package/consumer.test.ts then copies each example out, installs the packed tarball there and
// type-checks it with the example's own tsconfig.json.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findPackageRoot } from "../../components/package-root";

const ROOT = findPackageRoot(__dirname);

describe("examples: type-check", function () {
    this.timeout(120_000);

    it("every example is a project of its own: Pulumi.yaml, index.ts, README.md, package.json, tsconfig.json", () => {
        const dirs = fs
            .readdirSync(path.join(ROOT, "examples"), { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .map((d) => d.name);
        assert.deepStrictEqual(dirs.sort(), ["kubeadm", "reboot", "seed-practice"]);
        for (const d of dirs) {
            for (const f of ["Pulumi.yaml", "index.ts", "README.md", "package.json", "tsconfig.json"])
                assert.ok(fs.existsSync(path.join(ROOT, "examples", d, f)), `examples/${d}/${f} is missing`);
            assert.match(fs.readFileSync(path.join(ROOT, "examples", d, "index.ts"), "utf8"), /from "pulumi-node-upgrade"/);
            const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", d, "package.json"), "utf8"));
            assert.ok(manifest.dependencies?.["pulumi-node-upgrade"], `examples/${d}/package.json does not depend on pulumi-node-upgrade`);
        }
    });

    it("tsc -p examples/tsconfig.json reports no errors", async () => {
        const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
            execFile(
                process.execPath,
                [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "examples/tsconfig.json"],
                { cwd: ROOT },
                (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, output: stdout + stderr }),
            );
        });
        assert.strictEqual(output.trim(), "", output);
        assert.strictEqual(code, 0);
    });
});
