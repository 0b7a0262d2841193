/**
 * fast-xml-parser's validator reports problems in its own terms (`Invalid '[ "manifest",
 * "broken"]' found.` for elements left open at the end of the file). This says the same
 * thing the way a course author can act on it, with the line to look at.
 */
export interface XmlValidationError {
  readonly code: string;
  readonly msg: string;
  readonly line: number;
  readonly col: number;
}

function lastLineOf(source: string): number {
  return source.replace(/\s+$/, '').split(/\r\n|\r|\n/).length;
}

const quoteTag = (name: string) => `<${name}>`;

/** "line N: <what is wrong>" for a manifest that is not well-formed XML. */
export function describeXmlError(err: XmlValidationError, source: string): { line: number; column: number; text: string } {
  // Elements still open when the file ends: the validator lists them as a JSON-ish array.
  const unclosed = /^Invalid '\[(.*)\]' found\.$/s.exec(err.msg);
  if (unclosed) {
    const names = [...(unclosed[1] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    const line = lastLineOf(source);
    const innermost = names.at(-1);
    const text = innermost
      ? `the file ends at line ${line} while ${names.map(quoteTag).join(' → ')} ${names.length === 1 ? 'is' : 'are'} still open (${quoteTag(innermost)} is never closed: the file may be cut short)`
      : `the file ends at line ${line} with elements still open (the file may be cut short)`;
    return { line, column: 1, text };
  }
  const mismatch = /^Expected closing tag '([^']+)' \(opened in line (\d+), col \d+\) instead of closing tag '([^']+)'\.$/.exec(err.msg);
  if (mismatch) {
    return { line: err.line, column: err.col, text: `found </${mismatch[3]}> where </${mismatch[1]}> (opened at line ${mismatch[2]}) should be closed first` };
  }
  const unclosedOne = /^Unclosed tag '([^']+)'\.$/.exec(err.msg);
  if (unclosedOne) return { line: err.line, column: err.col, text: `${quoteTag(unclosedOne[1]!)} is never closed` };
  const char = /^char '(.)' is not expected\.$/s.exec(err.msg);
  if (char) return { line: err.line, column: err.col, text: `unexpected character “${char[1]}” (the file should start with <?xml …?> or <manifest>)` };
  return { line: err.line, column: err.col, text: `${err.msg.replace(/\.$/, '')} (column ${err.col})` };
}
