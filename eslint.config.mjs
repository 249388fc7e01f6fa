import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "cdktf.out/**",
      ".build/**",
      "coverage/**",
      "jest.config.js",
      "eslint.config.mjs",
      "__tests__/support/*.js",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "@cdktf/provider-aws",
              message: "Import the resource module (@cdktf/provider-aws/lib/<resource>).",
            },
            {
              name: "@cdktf/provider-kubernetes",
              message: "Import the resource module (@cdktf/provider-kubernetes/lib/<resource>).",
            },
            {
              name: "@cdktf/provider-helm",
              message: "Import the resource module (@cdktf/provider-helm/lib/<resource>).",
            },
          ],
        },
      ],
    },
  },
  {
    // Plain CommonJS launchers that run before any TypeScript is compiled.
    files: ["scripts/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Tests read untyped Terraform JSON; `any` there is the honest type.
    files: ["__tests__/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
