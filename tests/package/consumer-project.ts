// A Pulumi project of a user of this package, made on this machine without the registry: `npm pack` of this
// repository, a fresh project directory whose dependencies come from this repository's node_modules (hard links,
// or copies across file systems), then `npm install --offline <tarball>` as the user would run it.
//
// Why not `npm install` from the npm cache: npm fetches the packuments of a new package's peer dependencies
// even when node_modules already satisfies them, and `npm ci` leaves no packuments in the cache (the lockfile
// pins the tarballs by integrity), so an offline install of the tarball fails with ENOTCACHED on a clean CI
// machine. The dependencies are placed first instead, and the install runs with --legacy-peer-deps (it then
// fetches nothing); `npm ls` afterwards checks the peer dependencies like a normal install would.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findPackageRoot } from "../../components/package-root";

export const REPO_ROOT = findPackageRoot(__dirname);

export interface ProcessResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** The environment without what `npm test` / `npx` set for their child (npm_config_local_prefix etc.). */
export function cleanEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|INIT_CWD$)/i.test(k)) env[k] = v;
    return env;
}

export function run(file: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<ProcessResult> {
    return new Promise((resolve) => {
        execFile(file, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as any).code === "number" ? (err as any).code : 1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === 1 && !stderr ? String(err.message) : "") });
        });
    });
}

export const npm = (args: string[], cwd: string) => run(process.platform === "win32" ? "npm.cmd" : "npm", args, cwd);

/** package.json of this repository. */
export function repoManifest(): {
    name: string;
    version: string;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    files: string[];
} {
    return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
}

/** The version of a package installed in this repository's node_modules. */
export function installedVersion(name: string): string {
    return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")).version;
}

/** `npm pack` of this repository as built (dist/ must be current: the suite runs from it), into `dest`. */
export async function packRepo(dest: string): Promise<{ tarball: string; files: string[] }> {
    const r = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dest], REPO_ROOT);
    if (r.code !== 0) throw new Error(`npm pack failed (${r.code}): ${r.stderr}`);
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
    return { tarball: path.join(dest, info.filename), files: info.files.map((f: { path: string }) => f.path).sort() };
}

interface LockEntry {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/**
 * The top-level node_modules entries (e.g. "@pulumi/pulumi", "semver") that `roots` need, with everything they
 * depend on, from this repository's package-lock.json (Node's lookup: nested node_modules first, then upwards).
 */
export function dependencyClosure(roots: string[]): string[] {
    const packages: Record<string, LockEntry> = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")).packages;
    const resolve = (from: string, name: string): string | undefined => {
        for (let base = from; ;) {
            const key = `${base ? `${base}/` : ""}node_modules/${name}`;
            if (packages[key]) return key;
            if (!base) return undefined;
            const i = base.lastIndexOf("/node_modules/");
            base = i < 0 ? "" : base.slice(0, i);
        }
    };
    const seen = new Set<string>();
    const queue = roots.map((r) => {
        const key = resolve("", r);
        if (!key) throw new Error(`${r} is not in this repository's package-lock.json`);
        return key;
    });
    while (queue.length > 0) {
        const key = queue.pop()!;
        if (seen.has(key)) continue;
        seen.add(key);
        const e = packages[key];
        const optionalPeers = Object.entries(e.peerDependenciesMeta ?? {})
            .filter(([, m]) => m.optional)
            .map(([n]) => n);
        const names = [
            ...Object.keys(e.dependencies ?? {}),
            ...Object.keys(e.optionalDependencies ?? {}),
            ...Object.keys(e.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n)),
        ];
        for (const n of names) {
            const dep = resolve(key, n);
            if (dep) queue.push(dep); // an optional dependency for another platform is not installed
        }
    }
    return [...new Set([...seen].map((k) => k.slice("node_modules/".length).split("/node_modules/")[0]))].sort();
}

/** Hard-links (or, across file systems, copies) a directory tree. npm replaces files, never writes into them. */
function linkTree(src: string, dst: string): void {
    const st = fs.lstatSync(src);
    if (st.isSymbolicLink()) return fs.symlinkSync(fs.readlinkSync(src), dst);
    if (st.isDirectory()) {
        fs.mkdirSync(dst, { recursive: true });
        for (const e of fs.readdirSync(src)) linkTree(path.join(src, e), path.join(dst, e));
        return;
    }
    try {
        fs.linkSync(src, dst);
    } catch (err: any) {
        if (err?.code !== "EXDEV" && err?.code !== "EPERM") throw err;
        fs.copyFileSync(src, dst);
    }
}

/** Places these packages (from this repository's node_modules) into `project`/node_modules. */
export function placeDependencies(project: string, names: string[]): void {
    for (const name of names) linkTree(path.join(REPO_ROOT, "node_modules", name), path.join(project, "node_modules", name));
    // Their commands too: npm reinstalls (from the registry) a package whose bin links are missing.
    const bin = path.join(REPO_ROOT, "node_modules", ".bin");
    fs.mkdirSync(path.join(project, "node_modules", ".bin"), { recursive: true });
    for (const cmd of fs.existsSync(bin) ? fs.readdirSync(bin) : []) {
        const target = fs.readlinkSync(path.join(bin, cmd)); // e.g. ../typescript/bin/tsc
        const parts = target.split(/[\\/]/).slice(1);
        const owner = parts[0]?.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
        if (names.includes(owner)) fs.symlinkSync(target, path.join(project, "node_modules", ".bin", cmd));
    }
}

/**
 * Installs the tarball into `project` (whose package.json is written), as `npm install <tarball>`: dependencies
 * placed first (see the top of this file), then npm offline. Returns npm's output; throws when npm fails or
 * `npm ls` finds a missing or invalid dependency, peer dependencies included.
 */
export async function installTarball(project: string, tarball: string): Promise<string> {
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8"));
    const own = repoManifest();
    const roots = [
        ...Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((n) => n !== own.name),
        ...Object.keys(own.dependencies),
        ...Object.keys(own.peerDependencies),
    ];
    placeDependencies(project, dependencyClosure([...new Set(roots)]));
    const r = await npm(["install", "--offline", "--legacy-peer-deps", "--ignore-scripts", "--no-audit", "--no-fund", tarball], project);
    if (r.code !== 0) throw new Error(`npm install ${path.basename(tarball)} in ${project} failed (${r.code}):\n${r.stdout}${r.stderr}`);
    const ls = await npm(["ls", "--all"], project);
    if (ls.code !== 0 || /UNMET (PEER )?DEPENDENCY|invalid:|missing:/.test(ls.stdout + ls.stderr)) {
        throw new Error(
            `npm ls in ${project} reports problems (${ls.code}):\n${(ls.stdout + ls.stderr)
                .split("\n")
                .filter((l) => /UNMET|invalid|missing|ERR/i.test(l))
                .join("\n")}`,
        );
    }
    return r.stdout + r.stderr;
}

/** The tsconfig.json of `pulumi new kubernetes-typescript` (pulumi/templates, 2026): strict, nodenext. */
export const TEMPLATE_TSCONFIG = {
    compilerOptions: {
        strict: true,
        outDir: "bin",
        target: "es2020",
        module: "nodenext",
        moduleResolution: "nodenext",
        sourceMap: true,
        experimentalDecorators: true,
        pretty: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
    },
    files: ["index.ts"],
};

/** The same template before it moved to nodenext (2024-2026): commonjs, node resolution. */
export const OLDER_TEMPLATE_TSCONFIG = {
    ...TEMPLATE_TSCONFIG,
    compilerOptions: { ...TEMPLATE_TSCONFIG.compilerOptions, module: "commonjs", moduleResolution: "node" },
};

/** The project's package.json as `pulumi new kubernetes-typescript` writes it (with this machine's versions). */
export function templateManifest(name: string): Record<string, unknown> {
    const v = (n: string) => `^${installedVersion(n)}`;
    return {
        name,
        main: "index.ts",
        devDependencies: { "@types/node": v("@types/node"), typescript: v("typescript") },
        dependencies: {
            "@pulumi/kubernetes": v("@pulumi/kubernetes"),
            "@pulumi/pulumi": v("@pulumi/pulumi"),
            "@pulumi/command": v("@pulumi/command"),
        },
    };
}

/** `tsc -p <project>` with the project's own TypeScript; output without colours. */
export function typeCheck(project: string, extra: string[] = []): Promise<ProcessResult> {
    return run(
        process.execPath,
        [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", project, "--pretty", "false", ...extra],
        project,
    );
}

/** The TypeScript code blocks of README.md, in order. */
export function readmeTypeScript(): string[] {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    return [...readme.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

export function writeJson(file: string, value: unknown): void {
    fs.writeFileSync(file, JSON.stringify(value, null, 4) + "\n");
}
