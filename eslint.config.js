// Lint for the browser apps: ESLint's recommended rules over plain ES modules, no build step.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["pwa/**/*.js", "kiosk/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser } },
    // Rest-destructuring a key out ("const { code: _code, ...rest } = x") is how a field is left out.
    rules: { "no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_" }] },
  },
  { files: ["pwa/sw.js", "kiosk/sw.js"], languageOptions: { globals: { ...globals.serviceworker } } },
];
