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
    // Plotly figure JSON, tslab's internal executor and test fixtures are untyped by nature.
    files: ["lib/plots/**", "tools/**", "test/**", "**/*.spec.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { globals: { URL: "readonly" } },
  },
);
