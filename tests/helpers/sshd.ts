// A real OpenSSH server for tests: its own host key, user keys and config in a temp dir, listening on
// 127.0.0.1 at a free port, as the current user (root in CI). Without /usr/sbin/sshd it returns a reason
// to skip instead.

import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const SSHD = process.env.SSHD ?? "/usr/sbin/sshd";

export interface SshdOptions {
    /** Names for sshd_config's AcceptEnv. Unset (the default), sshd refuses every "env" request, as a stock one does. */
    acceptEnv?: string[];
}

export interface Sshd {
    host: string;
    port: number;
    user: string;
    /** An authorized, unencrypted ed25519 key (OpenSSH format). */
    privateKey: string;
    /** An authorized ed25519 key encrypted with `passphrase`. */
    encryptedKey: string;
    passphrase: string;
    /** A key that is not in authorized_keys. */
    unauthorizedKey: string;
    /** The server's host key as an authorized_keys line: "ssh-ed25519 AAAA...". */
    hostKeyLine: string;
    /** Another ed25519 host key, which the server does not have. */
    otherHostKeyLine: string;
    dir: string;
    /** sshd's log (stderr) so far. */
    log(): string;
    stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;
const PORT_ATTEMPTS = 5;

function keygen(file: string, passphrase = ""): { privateKey: string; publicLine: string } {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", path.basename(file), "-f", file], { stdio: "ignore" });
    const publicLine = fs.readFileSync(`${file}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    return { privateKey: fs.readFileSync(file, "utf8"), publicLine };
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

/** Starts sshd; resolves once it logs "Server listening", or with its log if it exits first. */
function launch(config: string, port: number): Promise<{ child: ChildProcess; log: () => string } | { failed: string }> {
    return new Promise((resolve) => {
        const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
        let output = "";
        let done = false;
        const finish = (result: { child: ChildProcess; log: () => string } | { failed: string }) => {
            if (!done) {
                done = true;
                clearTimeout(timer);
                resolve(result);
            }
        };
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            finish({ failed: `sshd did not start within ${START_TIMEOUT_MS}ms:\n${output}` });
        }, START_TIMEOUT_MS);
        child.stderr!.setEncoding("utf8");
        child.stderr!.on("data", (text: string) => {
            output += text;
            if (output.includes(`Server listening on 127.0.0.1 port ${port}`)) {
                finish({ child, log: () => output });
            }
        });
        child.once("error", (err) => finish({ failed: `cannot run ${SSHD}: ${err.message}` }));
        child.once("exit", (code, signal) => finish({ failed: `sshd exited (${code ?? signal}):\n${output}` }));
    });
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd | { skipped: string }> {
    if (!fs.existsSync(SSHD)) {
        return { skipped: `${SSHD} is not installed` };
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sshd-"));
    const host = keygen(path.join(dir, "host_ed25519"));
    const other = keygen(path.join(dir, "other_host_ed25519"));
    const user = keygen(path.join(dir, "id_ed25519"));
    const passphrase = "correct horse battery staple";
    const encrypted = keygen(path.join(dir, "id_ed25519_encrypted"), passphrase);
    const unauthorized = keygen(path.join(dir, "id_unauthorized"));
    fs.writeFileSync(path.join(dir, "authorized_keys"), `${user.publicLine}\n${encrypted.publicLine}\n`, { mode: 0o600 });
    // sshd's privilege-separation directory.
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

    let failures = "";
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
        // sshd has no "Port 0": take a free port and hope nobody grabs it first; retry if someone does.
        const port = await freePort();
        const config = path.join(dir, "sshd_config");
        const lines = [
            "ListenAddress 127.0.0.1",
            `Port ${port}`,
            `HostKey ${path.join(dir, "host_ed25519")}`,
            `PidFile ${path.join(dir, "sshd.pid")}`,
            `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
            "StrictModes no",
            "UsePAM no",
            "PermitRootLogin yes",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "LogLevel VERBOSE",
            ...(options.acceptEnv && options.acceptEnv.length > 0 ? [`AcceptEnv ${options.acceptEnv.join(" ")}`] : []),
        ];
        fs.writeFileSync(config, lines.join("\n") + "\n");
        const started = await launch(config, port);
        if ("failed" in started) {
            failures += started.failed + "\n";
            if (/Address already in use/.test(started.failed)) {
                continue;
            }
            break;
        }
        const { child, log } = started;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        return {
            host: "127.0.0.1",
            port,
            user: os.userInfo().username,
            privateKey: user.privateKey,
            encryptedKey: encrypted.privateKey,
            passphrase,
            unauthorizedKey: unauthorized.privateKey,
            hostKeyLine: host.publicLine,
            otherHostKeyLine: other.publicLine,
            dir,
            log,
            async stop() {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill("SIGTERM");
                    await exited;
                }
                fs.rmSync(dir, { recursive: true, force: true });
            },
        };
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start sshd:\n${failures}`);
}
