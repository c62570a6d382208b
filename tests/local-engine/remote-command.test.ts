// The remote.Command model (local-engine/remote-command.ts) against a real sshd, and its local transport.
// Expected texts are the ones @pulumi/command v1.2.1 and golang.org/x/crypto/ssh produce.
import * as assert from "assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { goQuote } from "../../local-engine/go-quote";
import {
    CommandInputs,
    CommandState,
    ConnectionInputs,
    LogSeverity,
    RemoteCommandProvider,
    diffCommand,
} from "../../local-engine/remote-command";
import { Sshd, startSshd } from "../helpers/sshd";

interface Recorded {
    provider: RemoteCommandProvider;
    lines: string[];
    logs: { severity: LogSeverity; message: string }[];
}

function provider(opts: { transport: "ssh" | "local"; localCwd?: string; localEnv?: NodeJS.ProcessEnv } = { transport: "ssh" }): Recorded {
    const lines: string[] = [];
    const logs: { severity: LogSeverity; message: string }[] = [];
    const p = new RemoteCommandProvider({
        ...opts,
        onOutput: (_name, line) => lines.push(line),
        onLog: (_name, severity, message) => logs.push({ severity, message }),
    });
    return { provider: p, lines, logs };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected the operation to fail");
}

/** A port nothing listens on: bound, read, closed. */
function closedPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Node code for a listener that never accepts: print the port, then block the event loop for good. */
const BLACKHOLE = `
const server = require("net").createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
    require("fs").writeSync(1, String(server.address().port));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

const SETENV_HINT =
    "This only works if your SSH server is configured to accept\n" +
    "\tthese variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could\n" +
    "\tprefix the command itself with the variables in the form 'VAR=value command'";

describe("local-engine: remote.Command model", function () {
    describe("diffCommand (infer's default diff + the SDK's replaceOnChanges)", () => {
        const base: CommandInputs = {
            connection: { host: "10.0.0.1", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 },
            create: "upgrade",
            triggers: ["v1"],
        };

        it("no change: nothing to do, and missing, undefined and null are the same", () => {
            assert.deepStrictEqual(diffCommand(base, { ...base }), { changes: false, replace: false, changedKeys: [], paths: [] });
            const withUndefined = { ...base, update: undefined, connection: { ...base.connection, proxy: undefined } };
            assert.strictEqual(diffCommand(base, withUndefined).changes, false);
            assert.strictEqual(diffCommand({ ...base, stdin: null as unknown as string }, base).changes, false);
        });

        it("a connection-only change is an update, not a replace", () => {
            const d = diffCommand(base, { ...base, connection: { ...base.connection, host: "10.0.0.2" } });
            assert.deepStrictEqual(d, { changes: true, replace: false, changedKeys: ["connection"], paths: ["connection.host"] });
        });

        it("a triggers change is a replace (element change, addition, removal)", () => {
            assert.deepStrictEqual(diffCommand(base, { ...base, triggers: ["v2"] }), {
                changes: true,
                replace: true,
                changedKeys: ["triggers"],
                paths: ["triggers[0]"],
            });
            assert.strictEqual(diffCommand(base, { ...base, triggers: ["v1", "x"] }).replace, true);
            assert.strictEqual(diffCommand(base, { ...base, triggers: undefined }).replace, true);
            assert.strictEqual(diffCommand({ ...base, triggers: undefined }, base).replace, true);
        });

        it("a create, environment or logging change is an update", () => {
            assert.deepStrictEqual(diffCommand(base, { ...base, create: "upgrade --force" }), {
                changes: true,
                replace: false,
                changedKeys: ["create"],
                paths: ["create"],
            });
            const env = diffCommand({ ...base, environment: { A: "1" } }, { ...base, environment: { A: "2", B: "3" } });
            assert.deepStrictEqual(env.paths, ["environment.A", "environment.B"]);
            assert.strictEqual(env.replace, false);
            assert.deepStrictEqual(diffCommand(base, { ...base, logging: "none" }).changedKeys, ["logging"]);
        });

        it("compares inputs only: a state's stdout/stderr are not inputs", () => {
            const state: CommandState = { ...base, stdout: "out", stderr: "" };
            assert.strictEqual(diffCommand(state, base).changes, false);
        });
    });

    describe("goQuote (Go's %q)", () => {
        it("escapes like strconv.Quote", () => {
            assert.strictEqual(goQuote(`echo "a" 'b' \\ $X`), `"echo \\"a\\" 'b' \\\\ $X"`);
            assert.strictEqual(goQuote("a\nb\tc\rd\x07\x08\x0c\x0b"), '"a\\nb\\tc\\rd\\a\\b\\f\\v"');
            assert.strictEqual(goQuote("\x00\x1b\x7f"), '"\\x00\\x1b\\x7f"');
            assert.strictEqual(goQuote("é 日本 😀"), '"é 日本 😀"');
            assert.strictEqual(goQuote("\u00a0\u200b\ue000\u{1d173}"), '"\\u00a0\\u200b\\ue000\\U0001d173"');
            assert.strictEqual(goQuote(""), '""');
        });
    });

    describe("over SSH to a real sshd", () => {
        let sshd: Sshd;
        let conn: ConnectionInputs;
        let work: string;

        before(async function () {
            const started = await startSshd();
            if ("skipped" in started) {
                console.log(`      skipped: ${started.skipped}`);
                this.skip();
            }
            sshd = started;
            conn = { host: sshd.host, port: sshd.port, user: sshd.user, privateKey: sshd.privateKey, dialErrorLimit: 0 };
            work = fs.mkdtempSync(path.join(os.tmpdir(), "remote-command-"));
        });

        after(async () => {
            await sshd?.stop();
            if (work) {
                fs.rmSync(work, { recursive: true, force: true });
            }
        });

        it("create runs the command over SSH as the user and stores stdout/stderr with one trailing newline trimmed", async () => {
            const { provider: p, lines } = provider();
            const state = await p.create("who", {
                connection: conn,
                create: "id -un; echo \"$SSH_CONNECTION\"; printf 'warn\\n\\n' >&2",
            });
            const [user, sshConnection] = state.stdout.split("\n");
            assert.strictEqual(user, sshd.user);
            assert.match(sshConnection, new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}$`));
            assert.strictEqual(state.stderr, "warn\n", "only one trailing newline is trimmed");
            assert.strictEqual(state.create, "id -un; echo \"$SSH_CONNECTION\"; printf 'warn\\n\\n' >&2");
            assert.deepStrictEqual([...lines].sort(), [user, sshConnection, "warn", ""].sort(), "each output line is logged");
        });

        it("create without a create command runs nothing", async () => {
            const { provider: p } = provider();
            // An unreachable connection proves that nothing dials.
            const state = await p.create("noop", { connection: { host: "127.0.0.1", port: await closedPort(), dialErrorLimit: 0 } });
            assert.deepStrictEqual({ stdout: state.stdout, stderr: state.stderr }, { stdout: "", stderr: "" });
        });

        it('update without `update` re-runs create; with `update` runs it instead; `update: ""` still runs', async () => {
            const { provider: p } = provider();
            const file = path.join(work, "runs.log");
            const create = `echo create >> ${file}; wc -l < ${file}`;
            const s1 = await p.create("u", { connection: conn, create });
            assert.strictEqual(s1.stdout, "1");
            const s2 = await p.update("u", s1, { connection: conn, create, triggers: [] });
            assert.deepStrictEqual(fs.readFileSync(file, "utf8").split("\n"), ["create", "create", ""]);
            assert.strictEqual(s2.stdout, "2");
            assert.deepStrictEqual(s2.triggers, [], "the state carries the new inputs");

            const s3 = await p.update("u", s2, { connection: conn, create, update: `echo update >> ${file}; echo updated` });
            assert.deepStrictEqual(fs.readFileSync(file, "utf8").split("\n"), ["create", "create", "update", ""]);
            assert.strictEqual(s3.stdout, "updated");

            // Go runs a non-nil pointer to "": the empty command succeeds and its (empty) output replaces the old.
            const s4 = await p.update("u", s3, { connection: conn, create, update: "" });
            assert.strictEqual(s4.stdout, "");
            assert.strictEqual(fs.readFileSync(file, "utf8").split("\n").length, 4, "create did not run");
        });

        it("update with neither update nor create keeps the old outputs", async () => {
            const { provider: p } = provider();
            const old: CommandState = { connection: conn, create: "echo x", stdout: "old out", stderr: "old err" };
            const s = await p.update("keep", old, { connection: { ...conn, port: await closedPort() } });
            assert.deepStrictEqual({ stdout: s.stdout, stderr: s.stderr }, { stdout: "old out", stderr: "old err" });
        });

        it("delete runs `delete` when set, and nothing (no dial) when not", async () => {
            const { provider: p } = provider();
            const file = path.join(work, "deleted");
            const state = await p.create("d", { connection: conn, create: "echo made", delete: `echo gone > ${file}` });
            await p.delete("d", state);
            assert.strictEqual(fs.readFileSync(file, "utf8"), "gone\n");
            fs.rmSync(file);
            await p.delete("d", { ...state, delete: undefined, connection: { ...conn, port: await closedPort() } });
            assert.strictEqual(fs.existsSync(file), false);
        });

        it("a non-zero exit fails with Go's exact text: status, %q of the command, then the output", async () => {
            const { provider: p } = provider();
            const cmd = `echo "out put"; printf 'tab\\there\\n'; exit 3`;
            const err = await rejection(p.create("fail", { connection: conn, create: cmd }));
            assert.strictEqual(
                err.message,
                `Process exited with status 3: running "echo \\"out put\\"; printf 'tab\\\\there\\\\n'; exit 3":\nout put\ntab\there\n`,
            );

            const errOnly = await rejection(p.create("fail", { connection: conn, create: "echo oops >&2; exit 42" }));
            assert.strictEqual(errOnly.message, 'Process exited with status 42: running "echo oops >&2; exit 42":\noops\n');

            const killed = await rejection(p.create("fail", { connection: conn, create: "kill -9 $$" }));
            assert.strictEqual(killed.message, 'Process exited with status 137 from signal KILL: running "kill -9 $$":\n');
        });

        it("stdin reaches the command, and EOF follows it", async () => {
            const { provider: p } = provider();
            const s = await p.create("in", { connection: conn, create: "cat; echo end", stdin: "line 1\nline 2\n" });
            assert.strictEqual(s.stdout, "line 1\nline 2\nend");
            const empty = await p.create("in", { connection: conn, create: "cat; echo end" });
            assert.strictEqual(empty.stdout, "end", "without stdin the command sees EOF at once");
        });

        it("logging chooses which streams are logged, not which are stored", async () => {
            const cmd = "echo to-out; echo to-err >&2";
            for (const [logging, expected] of [
                ["none", []],
                ["stderr", ["to-err"]],
                ["stdout", ["to-out"]],
            ] as const) {
                const { provider: p, lines } = provider();
                const s = await p.create("log", { connection: conn, create: cmd, logging });
                assert.deepStrictEqual(lines, expected, logging);
                assert.deepStrictEqual([s.stdout, s.stderr], ["to-out", "to-err"]);
            }
        });

        describe("host key and authentication", () => {
            it("a pinned, matching host key connects", async () => {
                const { provider: p } = provider();
                const s = await p.create("hk", { connection: { ...conn, hostKey: `${sshd.hostKeyLine} comment` }, create: "echo pinned" });
                assert.strictEqual(s.stdout, "pinned");
            });

            it("a different pinned host key fails with host key mismatch", async () => {
                const { provider: p } = provider();
                const err = await rejection(p.create("hk", { connection: { ...conn, hostKey: sshd.otherHostKeyLine }, create: "echo no" }));
                assert.strictEqual(err.message, "after 0 failed attempts: ssh: handshake failed: ssh: host key mismatch");
            });

            it("an unparsable host key fails before dialling", async () => {
                const { provider: p } = provider();
                const err = await rejection(p.create("hk", { connection: { ...conn, hostKey: "not a key" }, create: "echo no" }));
                assert.strictEqual(err.message, "failed to parse host key: ssh: no key found");
            });

            it("a key the server does not know fails to authenticate", async () => {
                const { provider: p } = provider();
                const err = await rejection(
                    p.create("auth", { connection: { ...conn, privateKey: sshd.unauthorizedKey }, create: "echo no" }),
                );
                assert.strictEqual(
                    err.message,
                    "after 0 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain",
                );
            });

            it("no credentials, or a password the server does not accept, tries only none", async () => {
                const { provider: p } = provider();
                const bare = { host: sshd.host, port: sshd.port, user: sshd.user, dialErrorLimit: 0 };
                for (const connection of [bare, { ...bare, password: "secret" }]) {
                    const err = await rejection(p.create("auth", { connection, create: "echo no" }));
                    assert.strictEqual(
                        err.message,
                        "after 0 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none], no supported methods remain",
                    );
                }
            });

            it("an encrypted key works with its passphrase, and fails like Go without it or with a wrong one", async () => {
                const { provider: p } = provider();
                const enc = { ...conn, privateKey: sshd.encryptedKey };
                const s = await p.create("enc", { connection: { ...enc, privateKeyPassword: sshd.passphrase }, create: "id -un" });
                assert.strictEqual(s.stdout, sshd.user);
                assert.strictEqual(
                    (await rejection(p.create("enc", { connection: enc, create: "true" }))).message,
                    "ssh: this private key is passphrase protected",
                );
                assert.strictEqual(
                    (await rejection(p.create("enc", { connection: { ...enc, privateKeyPassword: "wrong" }, create: "true" }))).message,
                    "x509: decryption password incorrect",
                );
                assert.strictEqual(
                    (await rejection(p.create("enc", { connection: { ...conn, privateKeyPassword: "x" }, create: "true" }))).message,
                    "ssh: key is not password protected",
                );
            });
        });

        describe("environment", () => {
            it("a stock sshd (no AcceptEnv) refuses `environment`: the provider's error, and its hint logged as an error", async () => {
                const { provider: p, logs } = provider();
                const err = await rejection(
                    p.create("env", { connection: conn, create: "echo $NODE_NAME", environment: { NODE_NAME: "w1" } }),
                );
                assert.strictEqual(err.message, 'could not set environment variable "NODE_NAME": ssh: setenv failed');
                assert.deepStrictEqual(logs, [{ severity: "error", message: `Unable to set 'NODE_NAME'. ${SETENV_HINT}` }]);
            });

            it("the VAR='value' prefix form works on the stock sshd", async () => {
                const { provider: p } = provider();
                const s = await p.create("env", { connection: conn, create: "NODE_NAME='w 1' sh -c 'echo \"$NODE_NAME\"'" });
                assert.strictEqual(s.stdout, "w 1");
            });

            it("previous outputs are offered best effort: refused is only a warning", async () => {
                const { provider: p, logs } = provider();
                const s1 = await p.create("prev", { connection: conn, create: "echo first" });
                const s2 = await p.update("prev", s1, { connection: conn, create: 'echo "prev=${PULUMI_COMMAND_STDOUT-unset}"' });
                assert.strictEqual(s2.stdout, "prev=unset");
                assert.deepStrictEqual(logs, [{ severity: "warning", message: `Unable to set 'PULUMI_COMMAND_STDOUT'. ${SETENV_HINT}` }]);
            });

            describe("with AcceptEnv", () => {
                let accepting: Sshd;
                let aconn: ConnectionInputs;

                before(async function () {
                    const started = await startSshd({ acceptEnv: ["NODE_NAME", "PULUMI_COMMAND_*"] });
                    if ("skipped" in started) {
                        this.skip();
                    }
                    accepting = started;
                    aconn = { ...conn, port: accepting.port, privateKey: accepting.privateKey };
                });

                after(async () => accepting?.stop());

                it("environment entries reach the command", async () => {
                    const { provider: p } = provider();
                    const s = await p.create("env", {
                        connection: aconn,
                        create: 'echo "$NODE_NAME"',
                        environment: { NODE_NAME: "worker 1" },
                    });
                    assert.strictEqual(s.stdout, "worker 1");
                    // A name outside AcceptEnv is still refused.
                    const err = await rejection(p.create("env", { connection: aconn, create: "true", environment: { OTHER: "x" } }));
                    assert.strictEqual(err.message, 'could not set environment variable "OTHER": ssh: setenv failed');
                });

                it("update and delete see the previous stdout/stderr, unless addPreviousOutputInEnv is false", async () => {
                    const { provider: p, logs } = provider();
                    const file = path.join(work, "prev-on-delete");
                    const s1 = await p.create("prev", {
                        connection: aconn,
                        create: "echo one; echo uno >&2",
                        delete: `echo "$PULUMI_COMMAND_STDOUT" > ${file}`,
                    });
                    const s2 = await p.update("prev", s1, { ...s1, create: 'echo "was $PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR"' });
                    assert.strictEqual(s2.stdout, "was one/uno");
                    await p.delete("prev", s2);
                    assert.strictEqual(fs.readFileSync(file, "utf8"), "was one/uno\n");
                    const s3 = await p.update("prev", s2, {
                        ...s2,
                        addPreviousOutputInEnv: false,
                        create: 'echo "${PULUMI_COMMAND_STDOUT-unset}"',
                    });
                    assert.strictEqual(s3.stdout, "unset");
                    assert.deepStrictEqual(logs, []);
                });
            });
        });

        describe("dialling", () => {
            it("a closed port fails with dialWithRetry's final message: dialErrorLimit N makes N+1 dials", async () => {
                const { provider: p, logs } = provider();
                const port = await closedPort();
                const err = await rejection(
                    p.create("dial", { connection: { ...conn, port, dialErrorLimit: 2, perDialTimeout: 1 }, create: "true" }),
                );
                assert.strictEqual(err.message, `after 2 failed attempts: dial tcp 127.0.0.1:${port}: connect: connection refused`);
                // One "retrying" line per failed dial but the last (connection.go InfoStatusf).
                assert.deepStrictEqual(logs, [
                    { severity: "info", message: "Dial 1/2 failed: retrying" },
                    { severity: "info", message: "Dial 2/2 failed: retrying" },
                ]);
            });

            it("counts real TCP dials: a server that hangs up at once is dialled dialErrorLimit + 1 times", async () => {
                let accepted = 0;
                const server = net.createServer((sock) => {
                    accepted++;
                    sock.destroy();
                });
                await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
                try {
                    const { port } = server.address() as net.AddressInfo;
                    const { provider: p } = provider();
                    const err = await rejection(p.create("dial", { connection: { ...conn, port, dialErrorLimit: 2 }, create: "true" }));
                    assert.match(err.message, /^after 2 failed attempts: ssh: handshake failed: /);
                    assert.strictEqual(accepted, 3);
                } finally {
                    server.close();
                }
            });

            it("dialErrorLimit 0 dials once", async () => {
                const { provider: p, logs } = provider();
                const port = await closedPort();
                const err = await rejection(p.create("dial", { connection: { ...conn, port, dialErrorLimit: 0 }, create: "true" }));
                assert.strictEqual(err.message, `after 0 failed attempts: dial tcp 127.0.0.1:${port}: connect: connection refused`);
                assert.deepStrictEqual(logs, []);
            });

            it("perDialTimeout bounds each TCP connect: a listener whose accept queue is full times out", async () => {
                // A child process listens with backlog 1 and then blocks its event loop, so it never accepts. Two
                // connections fill its accept queue (Linux); after that the kernel drops SYNs and connect() hangs.
                const child = spawn(process.execPath, ["-e", BLACKHOLE], { stdio: ["ignore", "pipe", "inherit"] });
                const exited = new Promise((resolve) => child.once("exit", resolve));
                const fillers: net.Socket[] = [];
                try {
                    const port = await new Promise<number>((resolve) =>
                        child.stdout!.once("data", (b: Buffer) => resolve(Number(b.toString()))),
                    );
                    for (let i = 0; i < 2; i++) {
                        const filler = net.connect(port, "127.0.0.1");
                        fillers.push(filler);
                        await new Promise((resolve, reject) => filler.once("connect", resolve).once("error", reject));
                    }
                    const { provider: p, logs } = provider();
                    const dial = rejection(
                        p.create("dial", { connection: { ...conn, port, dialErrorLimit: 1, perDialTimeout: 1 }, create: "true" }),
                    );
                    // If a dial did connect, its handshake would wait forever (as in Go): fail instead of hanging.
                    const guard = new Promise<Error>((resolve) =>
                        setTimeout(() => resolve(new Error("the dial connected")), 60_000).unref(),
                    );
                    const err = await Promise.race([dial, guard]);
                    assert.strictEqual(err.message, `after 1 failed attempts: dial tcp 127.0.0.1:${port}: i/o timeout`);
                    assert.deepStrictEqual(
                        logs.map((l) => l.message),
                        ["Dial 1/1 failed: retrying"],
                    );
                } finally {
                    fillers.forEach((f) => f.destroy());
                    child.kill("SIGKILL");
                    await exited;
                }
            });

            it("a failed dial is retried, and the retry connects", async () => {
                // A relay to sshd that hangs up on its first two connections.
                let accepted = 0;
                const relay = net.createServer((sock) => {
                    if (++accepted <= 2) {
                        sock.destroy();
                        return;
                    }
                    const upstream = net.connect(sshd.port, sshd.host);
                    sock.pipe(upstream).pipe(sock);
                    sock.on("error", () => upstream.destroy());
                    upstream.on("error", () => sock.destroy());
                });
                await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
                try {
                    const { port } = relay.address() as net.AddressInfo;
                    const { provider: p, logs } = provider();
                    const s = await p.create("dial", { connection: { ...conn, port, dialErrorLimit: 5 }, create: "echo through" });
                    assert.strictEqual(s.stdout, "through");
                    assert.strictEqual(accepted, 3);
                    assert.deepStrictEqual(
                        logs.map((l) => l.message),
                        ["Dial 1/5 failed: retrying", "Dial 2/5 failed: retrying"],
                    );
                } finally {
                    relay.close();
                }
            });

            it("connection.proxy is refused as not modelled", async () => {
                const { provider: p } = provider();
                const err = await rejection(p.create("proxy", { connection: { ...conn, proxy: { host: "bastion" } }, create: "true" }));
                assert.match(err.message, /proxy .* not modelled/);
            });
        });
    });

    describe("local transport (sh -c on this machine)", () => {
        let work: string;
        before(() => {
            work = fs.mkdtempSync(path.join(os.tmpdir(), "remote-command-local-"));
        });
        after(() => fs.rmSync(work, { recursive: true, force: true }));

        const connection: ConnectionInputs = { host: "ignored.invalid" };

        it("runs in localCwd with localEnv and environment, and stores trimmed outputs", async () => {
            const { provider: p, lines } = provider({
                transport: "local",
                localCwd: work,
                localEnv: { PATH: process.env.PATH, BASE: "b" },
            });
            const s = await p.create("l", { connection, create: 'pwd; echo "$BASE $EXTRA"; echo e >&2', environment: { EXTRA: "x" } });
            assert.strictEqual(s.stdout, `${fs.realpathSync(work)}\nb x`);
            assert.strictEqual(s.stderr, "e");
            assert.deepStrictEqual([...lines].sort(), [fs.realpathSync(work), "b x", "e"].sort());
        });

        it("gives the same error text as over SSH", async () => {
            const { provider: p } = provider({ transport: "local", localCwd: work });
            const err = await rejection(p.create("l", { connection, create: 'echo "out put"; exit 3' }));
            assert.strictEqual(err.message, 'Process exited with status 3: running "echo \\"out put\\"; exit 3":\nout put\n');
            const killed = await rejection(p.create("l", { connection, create: "kill -9 $$" }));
            assert.strictEqual(killed.message, 'Process exited with status 137 from signal KILL: running "kill -9 $$":\n');
        });

        it("update re-runs create with the previous outputs in the environment; delete runs delete", async () => {
            const { provider: p } = provider({ transport: "local", localCwd: work });
            const s1 = await p.create("l", {
                connection,
                create: "echo v1 >> runs; echo first",
                delete: "echo $PULUMI_COMMAND_STDOUT > deleted",
            });
            const s2 = await p.update("l", s1, { ...s1, create: 'echo v2 >> runs; echo "after $PULUMI_COMMAND_STDOUT"' });
            assert.strictEqual(s2.stdout, "after first");
            assert.strictEqual(fs.readFileSync(path.join(work, "runs"), "utf8"), "v1\nv2\n");
            await p.delete("l", s2);
            assert.strictEqual(fs.readFileSync(path.join(work, "deleted"), "utf8"), "after first\n");
        });
    });
});
