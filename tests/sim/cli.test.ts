// The sim CLI: runs in the foreground, writes the kubeconfig once serving,
// prints one ready line, exits 0 on SIGTERM; `upgrade-node` from a shell.

import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { kubectl, requireKubectl } from "../helpers/sim-kubectl";

const CLI = path.resolve(__dirname, "../../sim/cli.js");

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("sim: CLI", function () {
    let server: ChildProcess;
    let out = "";
    let kc: string;
    let exit: Promise<number | null>;

    before(async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-cli-"));
        kc = path.join(dir, "kubeconfig");
        server = spawn(process.execPath, [CLI, "--scenario", "seed", "--kubeconfig", kc, "--time-scale", "50"], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        exit = new Promise((r) => server.on("exit", (code) => r(code)));
        // wait for the ready line (or for the process to end without it)
        await new Promise<void>((resolve) => {
            const onData = (d: Buffer) => {
                out += d;
                if (out.includes("ready at")) resolve();
            };
            server.stdout!.on("data", onData);
            server.stderr!.on("data", onData);
            void exit.then(() => resolve());
        });
    });
    after(() => {
        if (server && server.exitCode === null) server.kill("SIGKILL");
    });

    it("prints the ready line and writes the kubeconfig", async function () {
        assert.match(out, /^simulated cluster "seed" ready at https:\/\/127\.0\.0\.1:\d+ \(kubeconfig: .*kubeconfig\)\n$/);
        assert.ok(fs.existsSync(kc));
        assert.match(fs.readFileSync(kc, "utf8"), /current-context: sim/);
    });

    it("the kubeconfig works for real kubectl", async function () {
        requireKubectl(this);
        const r = await kubectl(kc, ["get", "nodes"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /worker1\s+Ready\s+<none>\s+127d\s+v1\.19\.0/);
    });

    it("upgrade-node: exit 0 when accepted, 1 with a clear error otherwise", async () => {
        let r = await run(["upgrade-node", "--kubeconfig", kc, "--node", "worker1", "--version", "1.20.0", "--down-seconds", "5"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /node\/worker1 upgrade to v1\.20\.0 accepted/);
        r = await run(["upgrade-node", "--kubeconfig", kc, "--node", "ghost", "--version", "v1.20.0"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /error: upgrade of node "ghost" refused \(HTTP 404\): nodes "ghost" not found/);
        r = await run(["upgrade-node", "--kubeconfig", kc, "--node", "worker1", "--version", "latest"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /error: invalid version "latest"/);
    });

    it("after upgrade-node, real kubectl sees worker1 come back Ready at v1.20.0", async function () {
        requireKubectl(this);
        // kubectl wait watches the node until the condition holds (or its timeout passes)
        let k = await kubectl(kc, ["wait", "node/worker1", "--for=jsonpath={.status.nodeInfo.kubeletVersion}=v1.20.0", "--timeout=25s"]);
        assert.equal(k.code, 0, k.stderr);
        k = await kubectl(kc, ["wait", "node/worker1", "--for=condition=Ready", "--timeout=25s"]);
        assert.equal(k.code, 0, k.stderr);
        k = await kubectl(kc, ["get", "node", "worker1"]);
        assert.equal(k.code, 0, k.stderr);
        assert.match(k.stdout, /worker1\s+Ready\s+<none>\s+127d\s+v1\.20\.0/);
    });

    it("exits 0 on SIGTERM", async () => {
        server.kill("SIGTERM");
        assert.equal(await exit, 0);
    });

    it("rejects an unknown scenario", async () => {
        const r = await run(["--scenario", "/nonexistent/file.json", "--kubeconfig", path.join(os.tmpdir(), "x-kc")]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /unknown scenario/);
    });
});
