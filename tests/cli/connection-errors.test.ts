// Issue 13: the CLI fails fast and names the cause. No kubeconfig, a missing kubeconfig file, a closed port, an
// unknown host and refused credentials each end the command at once with one line that says what and where;
// errors that can heal are retried, and each retry is said on stderr. Processes against the simulator, plus one
// in-process test (through a TCP proxy that can be shut) for the first-contact rule.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { SimCluster } from "../../sim";
import { clientFor, cordon, loadKubeConfig, readNode, uncordon } from "../../drain";
import { KUBECTL, NODE_UPGRADE, runProcess, startSim, type ProcessResult } from "../drain/fixtures";

type Sim = SimCluster & { kubeconfigPath: string };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-connection-errors-"));
let files = 0;

/** Writes a kubeconfig file: the simulator's, with the server address or token replaced. */
function kubeconfigFile(c: Sim, change: { server?: string; token?: string }): string {
    let text = c.kubeconfig;
    if (change.server) text = text.replace(/server: \S+/, `server: ${change.server}`);
    if (change.token) text = text.replace(c.token, change.token);
    const file = path.join(tmp, `kubeconfig-${++files}`);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
}

/** node-upgrade with the given environment (undefined removes a variable) and no --kubeconfig added. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
    return runProcess(process.execPath, [NODE_UPGRADE, ...args], env);
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** A TCP proxy in front of the simulator that can be shut (connections refused) and opened again on its port. */
class Proxy {
    private server?: net.Server;
    private readonly sockets = new Set<net.Socket>();
    port = 0;
    constructor(private readonly target: number) {}

    async open(): Promise<void> {
        this.server = net.createServer((client) => {
            const upstream = net.connect(this.target, "127.0.0.1");
            for (const s of [client, upstream]) {
                this.sockets.add(s);
                s.on("close", () => this.sockets.delete(s));
                s.on("error", () => undefined);
            }
            client.on("close", () => upstream.destroy());
            upstream.on("close", () => client.destroy());
            client.pipe(upstream).pipe(client);
        });
        await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
        this.port = (this.server.address() as net.AddressInfo).port;
    }

    /** Stops listening and cuts every open connection: the next connect is refused. */
    async shut(): Promise<void> {
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
}

/** The retry lines node-upgrade printed. */
const retryLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("retrying in "));

describe("cli: connection errors fail fast and name the cause (issue 13)", function () {
    this.timeout(120_000);
    let c: Sim;
    before(async () => {
        c = await startSim("seed", { timeScale: 10 });
    });
    after(async () => {
        await c?.stop();
    });

    const COMMANDS = [
        ["cordon", "worker1"],
        ["drain", "worker1"],
        ["wait", "worker1"],
        ["plan", "--all"],
        ["drain", "-l", "x=y"],
    ];

    it("no kubeconfig anywhere: fails, listing where it looked and how to fix it", async () => {
        // Before: client-node fell back to http://localhost:8080, retried ~22 s, then said "HTTP protocol is not
        // allowed when skipTLSVerify is not set". kubectl says "The connection to the server localhost:8080 was refused".
        const home = fs.mkdtempSync(path.join(tmp, "home-"));
        // KUBERNETES_SERVICE_HOST emptied so that a test run inside a pod does not find the pod's own cluster.
        const env = { HOME: home, KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: "" };
        for (const args of COMMANDS) {
            const r = await run(args, env);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stdout, "");
            const lines = r.stderr.trimEnd().split("\n");
            assert.equal(lines[0], "error: no kubeconfig found; looked at:", r.stderr);
            assert.equal(lines[1], "  --kubeconfig FILE: not given");
            assert.equal(lines[2], "  $KUBECONFIG: not set");
            assert.equal(lines[3], `  ${home}/.kube/config: no such file`);
            assert.match(lines[4], /^ {2}the in-cluster service account: /);
            assert.match(
                lines[5],
                /^Give one with --kubeconfig FILE or KUBECONFIG=FILE, or copy the cluster's kubeconfig to ~\/\.kube\/config/,
            );
        }
    });

    it("a missing --kubeconfig or $KUBECONFIG file is named with where it came from", async () => {
        const missing = path.join(tmp, "no-such-kubeconfig");
        const flag = await run(["cordon", "worker1", "--kubeconfig", missing]);
        assert.equal(flag.code, 1);
        assert.equal(flag.stderr, `error: --kubeconfig ${missing}: no such file\n`);
        const relative = await run(["cordon", "worker1", "--kubeconfig", "no-such-dir/kubeconfig"]);
        assert.equal(
            relative.stderr,
            `error: --kubeconfig no-such-dir/kubeconfig: no such file (${path.resolve("no-such-dir/kubeconfig")})\n`,
        );
        // Before: "the default kubeconfig: file not found", the path not named.
        const env = await run(["cordon", "worker1"], { KUBECONFIG: missing });
        assert.equal(env.code, 1);
        assert.equal(
            env.stderr,
            `error: $KUBECONFIG=${missing}: no such file; point KUBECONFIG at an existing kubeconfig, or unset it to use ~/.kube/config\n`,
        );
        const list = `${c.kubeconfigPath}${path.delimiter}${missing}`;
        const several = await run(["cordon", "worker1"], { KUBECONFIG: list });
        assert.match(several.stderr, new RegExp(`^error: \\$KUBECONFIG=${escape(list)}: ${escape(missing)}: no such file;`));
    });

    it("a closed port: every command fails at the first refusal, naming the server, without retrying", async () => {
        const port = await closedPort();
        const file = kubeconfigFile(c, { server: `https://127.0.0.1:${port}` });
        for (const args of COMMANDS) {
            const r = await run([...args, "--kubeconfig", file]);
            assert.equal(r.code, 1, r.stderr);
            assert.match(
                r.stderr,
                new RegExp(
                    `^error: .*cannot reach the API server https://127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\); ` +
                        `check the server address in --kubeconfig ${escape(file)} \\(context "sim"\\) and that the API server is running\\n$`,
                ),
            );
            // Before: ~19 s of silent retries (10 attempts). Every retry of the CLI is said on stderr (see the
            // "can heal" test below), so no retry line means one attempt: checked without a wall-clock limit.
            assert.deepEqual(retryLines(r.stderr), []);
        }
    });

    it("kubectl, the reference, fails at once on the closed port too", async function () {
        if (!fs.existsSync(KUBECTL)) this.skip();
        const port = await closedPort();
        const file = kubeconfigFile(c, { server: `https://127.0.0.1:${port}` });
        const r = await runProcess(KUBECTL, ["get", "nodes", "--kubeconfig", file, "--cache-dir", path.join(tmp, "kcache")]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`The connection to the server 127\\.0\\.0\\.1:${port} was refused`));
    });

    it("an unknown host fails at the first lookup, naming the server", async () => {
        const file = kubeconfigFile(c, { server: "https://no-such-host.invalid:6443" });
        for (const args of [
            ["cordon", "worker1"],
            ["wait", "worker1"],
            ["plan", "--all"],
        ]) {
            const r = await run([...args, "--kubeconfig", file]);
            assert.equal(r.code, 1, r.stderr);
            // ENOTFOUND with a resolver that answers; EAI_AGAIN on a machine without DNS.
            assert.match(
                r.stderr,
                /^error: .*cannot reach the API server https:\/\/no-such-host\.invalid:6443: (host not found \(ENOTFOUND\)|DNS lookup failed \(EAI_AGAIN\)); check the server address in --kubeconfig /,
            );
            // Before: ~19 s of silent retries. No retry line: one attempt.
            assert.deepEqual(retryLines(r.stderr), []);
        }
    });

    it("a plain http:// server (which client-node refuses without insecure-skip-tls-verify) is not retried", async () => {
        // Before: "HTTP protocol is not allowed when skipTLSVerify is not set or false" after ~20 s of retries.
        const file = kubeconfigFile(c, { server: `http://127.0.0.1:${await closedPort()}` });
        const r = await run(["cordon", "worker1", "--kubeconfig", file]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /^error: get node "worker1": the API server address http:\/\/127\.0\.0\.1:\d+ is plain http:\/\/, which /);
        assert.deepEqual(retryLines(r.stderr), []);
    });

    it("refused credentials (401): one line naming the server, the kubeconfig and its context", async () => {
        const file = kubeconfigFile(c, { token: "wrong-token-0123456789" });
        for (const args of [
            ["cordon", "worker1"],
            ["drain", "worker1"],
            ["wait", "worker1"],
            ["plan", "--all"],
        ]) {
            c.clearRequestLog();
            const r = await run([...args, "--kubeconfig", file]);
            assert.equal(r.code, 1, r.stderr);
            // Before: 'the server responded with HTTP 401 (HTTP 401); the API server did not accept ...'.
            assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
            assert.match(
                r.stderr,
                new RegExp(
                    `^error: .*the API server ${escape(c.url)}: 401 Unauthorized: the credentials in ${escape(file)} ` +
                        `\\(context "sim", user "sim-admin"\\) were refused; `,
                ),
            );
            assert.equal(r.stderr.match(/401/g)?.length, 1, r.stderr);
            assert.doesNotMatch(r.stderr, /wrong-token/);
            // A 401 is not retried (plan reads several lists at once, so it may get several).
            if (args[0] !== "plan") assert.equal(c.requestLog().filter((e) => e.status === 401).length, 1);
        }
    });

    it("errors that can heal are retried, and each retry is said on stderr", async () => {
        c.faults.add({ verb: "get", resource: "nodes", name: "worker1", status: 503, count: 2 });
        const r = await run(["cordon", "worker1", "--kubeconfig", c.kubeconfigPath]);
        try {
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, "node/worker1 cordoned\n");
            const lines = retryLines(r.stderr);
            assert.equal(lines.length, 2, r.stderr);
            lines.forEach((l, i) =>
                assert.match(
                    l,
                    new RegExp(
                        `^retrying in \\d+(\\.\\d)?m?s: get node "worker1": .*\\(HTTP 503 ServiceUnavailable\\), attempt ${i + 2} of 10$`,
                    ),
                ),
            );
        } finally {
            await run(["uncordon", "worker1", "--kubeconfig", c.kubeconfigPath]);
        }
    });

    it("after the first answer, a refused connection is retried (the API server restarting mid-run)", async () => {
        const proxy = new Proxy(Number(new URL(c.url).port));
        await proxy.open();
        try {
            const text = fs.readFileSync(kubeconfigFile(c, { server: `https://127.0.0.1:${proxy.port}` }), "utf8");
            const notices: string[] = [];
            let onRefused: (() => void) | undefined;
            const kc = loadKubeConfig({ kubeconfig: text });
            clientFor(kc, {
                failFastUntilReached: true,
                onRetry: (n) => {
                    notices.push(`${n.what}: ${n.message}`);
                    if (!/connection refused/.test(n.message)) return; // a reset of the kept-alive connection comes first
                    const f = onRefused;
                    onRefused = undefined;
                    f?.();
                },
            });
            await readNode(kc, "worker1"); // the first contact: the server has answered this client

            await proxy.shut();
            // The proxy opens again as soon as a refused connection's retry is announced: no fixed wait.
            const reopened = new Promise<void>((resolve, reject) => (onRefused = () => proxy.open().then(resolve, reject)));
            const done = cordon(kc, "worker1");
            await reopened;
            assert.deepEqual(await done, { changed: true });
            assert.ok(
                notices.some((l) =>
                    /^get node "worker1": cannot reach the API server https:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/.test(
                        l,
                    ),
                ),
                notices.join("\n"),
            );
            await uncordon(kc, "worker1");

            // The same refusal before any answer fails at once, without a retry.
            await proxy.shut();
            const fresh = loadKubeConfig({ kubeconfig: text });
            const freshNotices: string[] = [];
            clientFor(fresh, { failFastUntilReached: true, onRetry: (n) => freshNotices.push(n.message) });
            await assert.rejects(readNode(fresh, "worker1"), /get node "worker1": cannot reach the API server .*: connection refused/);
            assert.deepEqual(freshNotices, []);
            await proxy.open();
        } finally {
            await proxy.shut().catch(() => undefined);
        }
    });
});

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
