// Go's `%q` for a string (strconv.Quote), which the command provider uses in its error text
// (commandOutputs.go: `fmt.Errorf("%w: running %q:\n%s", ...)`). Rules from Go's strconv/quote.go
// (appendEscapedRune): quote and backslash are escaped, printable runes stay, the seven C escapes are
// used, other control bytes become \xHH, other non-printables \uHHHH or \UHHHHHHHH (lowercase hex).

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols, and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const C_ESCAPES: Record<number, string> = {
    0x07: "\\a",
    0x08: "\\b",
    0x0c: "\\f",
    0x0a: "\\n",
    0x0d: "\\r",
    0x09: "\\t",
    0x0b: "\\v",
};

function hex(n: number, width: number): string {
    return n.toString(16).padStart(width, "0");
}

function isPrint(cp: number): boolean {
    if (cp < 0x80) {
        return cp >= 0x20 && cp < 0x7f;
    }
    return PRINTABLE.test(String.fromCodePoint(cp));
}

/** strconv.Quote(s). A lone UTF-16 surrogate reaches Go as U+FFFD (the SDK encodes strings as UTF-8). */
export function goQuote(s: string): string {
    let out = '"';
    for (const ch of s) {
        let cp = ch.codePointAt(0)!;
        if (cp >= 0xd800 && cp <= 0xdfff) {
            cp = 0xfffd;
        }
        if (cp === 0x22 || cp === 0x5c) {
            out += "\\" + String.fromCodePoint(cp);
        } else if (isPrint(cp)) {
            out += String.fromCodePoint(cp);
        } else if (C_ESCAPES[cp] !== undefined) {
            out += C_ESCAPES[cp];
        } else if (cp < 0x20 || cp === 0x7f) {
            out += "\\x" + hex(cp, 2);
        } else if (cp < 0x10000) {
            out += "\\u" + hex(cp, 4);
        } else {
            out += "\\U" + hex(cp, 8);
        }
    }
    return out + '"';
}
