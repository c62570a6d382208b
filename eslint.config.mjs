// One lint config for the whole tree (product, simulated cluster, tests, benches).
// `npm run lint` runs it together with `prettier --check`; CI (.ci/run) runs it before the tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Each top-level module is used through its index.ts; a file inside a module may import its siblings.
const MODULES = ["components", "drain", "planner", "kube-rules", "cli", "sim", "local-engine", "shared-cluster", "rehearse"];
const throughIndex = [...MODULES, "demo", "bench"].map((own) => ({
    files: [`${own}/**/*.ts`],
    rules: {
        "no-restricted-imports": [
            "error",
            {
                patterns: MODULES.filter((m) => m !== own).map((m) => ({
                    regex: `^(\\.\\./)+${m}/.+`,
                    message: `import from the module's index ("../${m}"), not one of its files`,
                })),
            },
        ],
    },
}));

export default tseslint.config(
    { ignores: ["dist/**", "node_modules/**", "examples/**/node_modules/**", "examples/**/bin/**"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { ecmaVersion: 2022, sourceType: "module" },
        rules: {
            // Kubernetes objects arrive as JSON from the wire (and the simulated server stores them as JSON);
            // they are typed where a client-node type exists and `any` where the code walks raw JSON.
            "@typescript-eslint/no-explicit-any": "off",
            // `_name` marks a parameter or a destructured field that is deliberately unused.
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
            ],
            // `import x = require()` is how the `export =` provider modules are imported (their serialized
            // form is a plain require of the module); a bare require() needs a disable comment with a reason.
            "@typescript-eslint/no-require-imports": ["error", { allowAsImport: true }],
            // The compile target's lib (ES2021) has no Error `cause` option.
            "preserve-caught-error": "off",
        },
    },
    ...throughIndex,
    {
        // The local engine models how the engine loads the package, so it finds the package root as the
        // providers do (components/package-root.ts).
        files: ["local-engine/config.ts", "local-engine/provider-host.ts"],
        rules: { "no-restricted-imports": "off" },
    },
    {
        // The local engine and the tests load compiled modules and installed packages by run-time path.
        files: ["local-engine/**/*.ts", "tests/**/*.ts"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
