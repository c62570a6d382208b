// Seeded pseudo-random numbers, so that generated names, UIDs and fault
// decisions are the same on every run with the same seed.

export class Prng {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0 || 0x9e3779b9;
    }

    /** mulberry32: small, fast, good enough for simulations. Returns [0, 1). */
    next(): number {
        let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }

    int(maxExclusive: number): number {
        return Math.floor(this.next() * maxExclusive);
    }

    /** A new independent generator derived from this one (one per concern). */
    fork(salt: number): Prng {
        return new Prng((this.int(2 ** 32) ^ Math.imul(salt, 0x85ebca6b)) >>> 0);
    }

    /** 5 characters from the alphabet Kubernetes uses for generated names. */
    nameSuffix(len = 5): string {
        let s = "";
        for (let i = 0; i < len; i++) s += NAME_ALPHABET[this.int(NAME_ALPHABET.length)];
        return s;
    }

    uuid(): string {
        const hex = (n: number) => {
            let s = "";
            for (let i = 0; i < n; i++) s += this.int(16).toString(16);
            return s;
        };
        return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[this.int(4)]}${hex(3)}-${hex(12)}`;
    }

    hex(n: number): string {
        let s = "";
        for (let i = 0; i < n; i++) s += this.int(16).toString(16);
        return s;
    }
}

/** k8s.io/apimachinery/pkg/util/rand alphabet (no vowels, no confusable digits). */
export const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** FNV-1a 32-bit hash; used for pod-template-hash style names. */
export function fnv32a(s: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
}

/** Encode a number with the name alphabet, like rand.SafeEncodeString of a hash. */
export function safeEncode(n: number): string {
    const digits = String(n);
    let out = "";
    for (const d of digits) out += NAME_ALPHABET[d.charCodeAt(0) % NAME_ALPHABET.length];
    return out;
}
