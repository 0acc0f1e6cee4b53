// Go `flag` package syntax: -name=value, --name=value, -name value,
// --name value, bare booleans, "--" to end flags, -h/-help for usage.
//
// Written by hand because existing manifests pass flags in exactly this
// syntax and no npm parser reproduces Go's rules (one or two dashes are the
// same, a non-boolean flag takes the next argument whatever it looks like,
// parsing stops at the first non-flag argument) nor its error messages.

import { DurationSyntaxError, formatGoDurationNanos, parseGoDurationNanos } from './duration';
import { quoteGo } from './quote';

export type FlagKind = 'string' | 'bool' | 'int' | 'duration';

export type FlagValue = string | boolean | number | bigint;

export interface FlagDefinition {
  readonly name: string;
  readonly kind: FlagKind;
  /** string for string flags, boolean for bool, number for int, nanoseconds (bigint) for duration. */
  readonly defaultValue: FlagValue;
  readonly usage: string;
  /** Type word shown in usage ("string", "duration", "value"); Go derives it from the kind. */
  readonly typeName?: string;
  /** Extra check after the value is parsed; returns what is wrong, or undefined. */
  readonly validate?: (value: FlagValue) => string | undefined;
}

export type FlagErrorCode = 'ERR_FLAG_HELP' | 'ERR_FLAG_USAGE';

/** A parse failure; `message` is Go's exact text, e.g. "flag provided but not defined: -bogus". */
export class FlagError extends Error {
  constructor(
    readonly code: FlagErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedFlags {
  /** Every defined flag's value, default or set. */
  readonly values: ReadonlyMap<string, FlagValue>;
  /** Flags named on the command line, in the order given (a flag given twice appears once). */
  readonly explicitlySet: ReadonlySet<string>;
  /** Arguments after the first non-flag argument or "--"; Go leaves them unparsed. */
  readonly remaining: readonly string[];
}

const GO_BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Go's strconv.ParseInt(s, 0, 64) (base prefixes, "_" between digits), with flag's error words. */
function parseGoInt(text: string): number | { error: string } {
  const match = /^([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[bB]((?:_?[01])+)|0[oO]((?:_?[0-7])+)|(0(?:_?[0-7])*)|([1-9](?:_?[0-9])*))$/.exec(text);
  if (!match) return { error: 'parse error' };
  const [, sign, hex, binary, octal, legacyOctal, decimal] = match;
  const literal =
    hex !== undefined ? `0x${hex}` : binary !== undefined ? `0b${binary}` : octal !== undefined ? `0o${octal}` : legacyOctal !== undefined ? `0o${legacyOctal}` : decimal;
  let value = BigInt(literal.replace(/_/g, ''));
  if (sign === '-') value = -value;
  // Go's int is 64 bits; beyond 2^53 a JavaScript number would silently round, so refuse that too.
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return { error: 'value out of range' };
  return Number(value);
}

function isParseFailure(parsed: FlagValue | { error: string }): parsed is { error: string } {
  return typeof parsed === 'object';
}

function parseValue(definition: FlagDefinition, text: string): FlagValue | { error: string } {
  switch (definition.kind) {
    case 'string':
      return text;
    case 'bool':
      if (GO_BOOL_TRUE.has(text)) return true;
      if (GO_BOOL_FALSE.has(text)) return false;
      return { error: 'parse error' };
    case 'int':
      return parseGoInt(text);
    case 'duration':
      try {
        return parseGoDurationNanos(text);
      } catch (err) {
        if (err instanceof DurationSyntaxError) return { error: 'parse error' };
        throw err;
      }
  }
}

export class FlagSet {
  private readonly definitions = new Map<string, FlagDefinition>();

  constructor(readonly programName: string) {}

  define(definition: FlagDefinition): void {
    if (this.definitions.has(definition.name)) {
      throw new Error(`flag redefined: ${definition.name}`);
    }
    this.definitions.set(definition.name, definition);
  }

  /** Parses argv (without node and script) with Go's rules. Throws FlagError. */
  parse(argv: readonly string[]): ParsedFlags {
    const values = new Map<string, FlagValue>();
    for (const definition of this.definitions.values()) values.set(definition.name, definition.defaultValue);
    const explicitlySet = new Set<string>();
    let args = argv.slice();

    while (args.length > 0) {
      const arg = args[0];
      if (arg.length < 2 || arg[0] !== '-') break;
      let dashes = 1;
      if (arg[1] === '-') {
        dashes = 2;
        if (arg.length === 2) {
          args = args.slice(1); // "--" ends the flags
          break;
        }
      }
      let name = arg.slice(dashes);
      if (name.length === 0 || name[0] === '-' || name[0] === '=') {
        throw new FlagError('ERR_FLAG_USAGE', `bad flag syntax: ${arg}`);
      }
      args = args.slice(1);
      let value: string | undefined;
      const equals = name.indexOf('=');
      if (equals >= 0) {
        value = name.slice(equals + 1);
        name = name.slice(0, equals);
      }
      const definition = this.definitions.get(name);
      if (!definition) {
        if (name === 'help' || name === 'h') throw new FlagError('ERR_FLAG_HELP', 'flag: help requested');
        throw new FlagError('ERR_FLAG_USAGE', `flag provided but not defined: -${name}`);
      }
      let parsed: FlagValue | { error: string };
      if (definition.kind === 'bool') {
        parsed = parseValue(definition, value ?? 'true');
        if (isParseFailure(parsed)) {
          throw new FlagError('ERR_FLAG_USAGE', `invalid boolean value ${quoteGo(value ?? 'true')} for -${name}: ${parsed.error}`);
        }
      } else {
        if (value === undefined && args.length > 0) {
          value = args[0];
          args = args.slice(1);
        }
        if (value === undefined) throw new FlagError('ERR_FLAG_USAGE', `flag needs an argument: -${name}`);
        parsed = parseValue(definition, value);
        if (isParseFailure(parsed)) {
          throw new FlagError('ERR_FLAG_USAGE', `invalid value ${quoteGo(value)} for flag -${name}: ${parsed.error}`);
        }
      }
      const problem = definition.validate?.(parsed);
      if (problem !== undefined) {
        throw new FlagError('ERR_FLAG_USAGE', `invalid value ${quoteGo(value ?? 'true')} for flag -${name}: ${problem}`);
      }
      values.set(name, parsed);
      explicitlySet.add(name);
    }
    return { values, explicitlySet, remaining: args };
  }

  /** Usage text in the layout of Go's flag.PrintDefaults, flags sorted by name. */
  usage(): string {
    const lines = [`Usage of ${this.programName}:`];
    const names = [...this.definitions.keys()].sort();
    for (const name of names) {
      const definition = this.definitions.get(name)!;
      const typeName = definition.typeName ?? (definition.kind === 'bool' ? '' : definition.kind);
      let line = `  -${name}`;
      if (typeName !== '') line += ` ${typeName}`;
      line += line.length <= 4 ? '\t' : '\n    \t';
      line += definition.usage.replace(/\n/g, '\n    \t');
      const shownDefault = formatDefault(definition);
      if (shownDefault !== undefined) line += ` (default ${shownDefault})`;
      lines.push(line);
    }
    return lines.join('\n') + '\n';
  }
}

/** Go shows a default only when it is not the type's zero value; strings are quoted. */
function formatDefault(definition: FlagDefinition): string | undefined {
  const value = definition.defaultValue;
  switch (definition.kind) {
    case 'string':
      return value === '' ? undefined : quoteGo(value as string);
    case 'bool':
      return value === false ? undefined : String(value);
    case 'int':
      return value === 0 ? undefined : String(value);
    case 'duration':
      return value === 0n ? undefined : formatGoDurationNanos(value as bigint);
  }
}
