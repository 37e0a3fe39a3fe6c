/**
 * Where a text stops being strict JSON (RFC 8259): what a `.json` scenario must be, although YAML,
 * which the loader reads it with, would also take comments, trailing commas and bare words.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** The first place a text breaks strict JSON, and what is wrong there. */
export interface JsonSyntaxError {
  /** The offset in the text, in UTF-16 code units, from 0. */
  readonly offset: number;
  readonly reason: string;
}

const REASONS: Readonly<Record<ReturnType<typeof printParseErrorCode>, string>> = {
  InvalidSymbol: 'not JSON here (a bare word, a single-quoted string or a stray character)',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected "," or the end of the object or list',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'expected the end of the file after the JSON value',
  InvalidCommentToken: 'a comment, which JSON does not allow (a .yaml file may have comments)',
  UnexpectedEndOfComment: 'a comment, which JSON does not allow (a .yaml file may have comments)',
  UnexpectedEndOfString: 'a string that never ends',
  UnexpectedEndOfNumber: 'a number that ends too soon',
  InvalidUnicode: 'a \\u escape without four hexadecimal digits',
  InvalidEscapeCharacter: 'an escape that JSON does not have',
  InvalidCharacter: 'a control character inside a string (write it as an escape, such as \\t)',
  '<unknown ParseErrorCode>': 'not valid JSON',
};

/**
 * Finds where `text` stops being strict JSON: no comments, no trailing commas, nothing but one value.
 *
 * @param text - the whole file, without a byte-order mark
 * @returns `undefined` when the text is strict JSON, else the first error
 * @example
 * ```ts
 * findJsonSyntaxError('{ "a": 1, }'); // { offset: 8, reason: 'a trailing comma, which JSON does not allow' }
 * ```
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (thrown) {
    // JSON.parse decides; it does not always say where, so the first error of a parser that does says that.
    const errors: ParseError[] = [];
    parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (first === undefined) return { offset: 0, reason: (thrown as Error).message };
    const comma = trailingCommaBefore(text, first.offset);
    if (comma !== undefined) return { offset: comma, reason: 'a trailing comma, which JSON does not allow' };
    return { offset: first.offset, reason: REASONS[printParseErrorCode(first.error)] };
  }
}

/** The offset of a comma that only blanks separate from a closing `}` or `]` at `offset`. */
function trailingCommaBefore(text: string, offset: number): number | undefined {
  if (text[offset] !== '}' && text[offset] !== ']') return undefined;
  let before = offset - 1;
  while (before >= 0 && /\s/.test(text[before]!)) before--;
  return text[before] === ',' ? before : undefined;
}
