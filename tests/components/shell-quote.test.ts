// The single-quote escaper and the env prefix are what keeps node names, versions and user variables out of
// shell syntax: checked against a real /bin/sh with hostile values.
import * as assert from "assert";
import { execFileSync } from "child_process";
import { commandWithEnv, envPrefix, shellQuote } from "../../components/shell-quote";

/** Runs a command line with sh -c, as remote.Command's sshd (or the test engine) does. */
function sh(line: string): string {
    return execFileSync("sh", ["-c", line], { encoding: "utf8" });
}

const HOSTILE = [
    "",
    "plain",
    "it's",
    "'",
    "''",
    "'\\''",
    '"double" and $(echo pwned) and `echo pwned`',
    "$HOME ${PATH} $((1+1)) !bang !! *.ts ?",
    "a\nnewline\n",
    "tab\tand\\backslash\\",
    "; rm -rf / #",
    "&& echo pwned || echo pwned | cat > /tmp/x",
    "ünïcödé ✓ 日本",
    " leading and trailing spaces ",
    "-n",
    "--version",
];

describe("shell quoting", () => {
    it("round-trips hostile strings through sh unchanged", () => {
        for (const value of HOSTILE) {
            assert.strictEqual(sh(`printf '%s' ${shellQuote(value)}`), value, JSON.stringify(value));
        }
    });

    it("round-trips random printable and control strings", () => {
        let seed = 12345;
        const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
        const alphabet = "abc'\"\\$`!*?;&|<>(){}[]#~ \t\n\r%=,.-_/" + "é✓";
        for (let i = 0; i < 200; i++) {
            const len = Math.floor(rand() * 20);
            let v = "";
            for (let j = 0; j < len; j++) v += alphabet[Math.floor(rand() * alphabet.length)];
            assert.strictEqual(sh(`printf '%s' ${shellQuote(v)}`), v, JSON.stringify(v));
        }
    });

    it("refuses NUL bytes and non-strings", () => {
        assert.throws(() => shellQuote("a\0b"), /NUL/);
        assert.throws(() => shellQuote(42 as any), /expects a string/);
    });

    it("passes variables through env to the script, which sees them verbatim", () => {
        for (const value of HOSTILE.filter((v) => v !== "")) {
            const line = commandWithEnv({ NODE_NAME: value, TARGET_VERSION: "v1.20.0" }, 'printf "%s|%s" "$NODE_NAME" "$TARGET_VERSION"');
            assert.strictEqual(sh(line), `${value}|v1.20.0`, JSON.stringify(value));
        }
    });

    it("quotes the script itself, so its own quotes and $ survive", () => {
        const script = `v='single'; w="double $NODE_NAME"; echo "$v $w" 'lit $NODE_NAME'`;
        assert.strictEqual(sh(commandWithEnv({ NODE_NAME: "worker1" }, script)), "single double worker1 lit $NODE_NAME\n");
    });

    it("rejects invalid variable names", () => {
        assert.throws(() => envPrefix({ "BAD-NAME": "x" }), /not a valid environment variable name/);
        assert.throws(() => envPrefix({ "1X": "x" }), /not a valid environment variable name/);
        assert.throws(() => envPrefix({ "A=B": "x" }), /not a valid environment variable name/);
        assert.strictEqual(envPrefix({ A_1: "x", _b: "it's" }), `env A_1='x' _b='it'\\''s'`);
    });

    it("never pastes a value outside quotes", () => {
        const line = commandWithEnv({ NODE_NAME: "$(touch /tmp/pwned)" }, "true");
        assert.ok(line.includes(`NODE_NAME='$(touch /tmp/pwned)'`), line);
    });
});
