// ESLint (typescript-eslint) over lib/, tools/, test/ and scripts/; Prettier owns the layout.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/dist/**", "node_modules/**", "build/**", "data/**", ".venv/**", ".jupyter/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { console: "readonly", process: "readonly", __dirname: "readonly", __filename: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Optional and heavy dependencies (tfjs-node, face-api, playwright, danfojs) are loaded with
      // require() where they are first needed, so that a missing one fails only the part that uses it.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // lib/ and tools/ compile to CommonJS, where a declaration named `module`, `exports` or
    // `require` hides the module's own: `exports.f = ...` then writes to the local, and every
    // import of that file from lib/dist fails while tsx (which the specs run) still works.
    // It happened twice; this catches the third.
    files: ["lib/**/*.ts", "tools/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            ":matches(VariableDeclarator, FunctionDeclaration, ClassDeclaration) > Identifier.id[name=/^(module|exports|require)$/], :function > Identifier.params[name=/^(module|exports|require)$/], VariableDeclarator > ObjectPattern > Property > Identifier.value[name=/^(module|exports|require)$/]",
          message: "This name hides CommonJS's own `module`/`exports`/`require` once compiled; choose another.",
        },
      ],
    },
  },
  {
    // Plotly figure JSON, tslab's internal executor and test fixtures are untyped by nature.
    files: ["lib/plots/**", "tools/**", "test/**", "**/*.spec.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { globals: { URL: "readonly" } },
  },
);
