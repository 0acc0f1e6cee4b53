// The part of spdx-expression-parse (the parser npm itself uses for package.json's license field) that
// scripts/image/sbom.ts calls: it throws on a string that is not an SPDX license expression.
declare module 'spdx-expression-parse' {
  function parse(expression: string): unknown;
  export = parse;
}
