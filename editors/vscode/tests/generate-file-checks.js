#!/usr/bin/env node
// Writes one vscode-tmgrammar-test case for each .chaos file given on the command line.
// Each case contains the file's lines unchanged, and under every line it asserts that no
// run of non-blank characters gets the grammar's catch-all scope for characters that no
// rule recognises. So a real file passes when it tokenizes with every character
// recognised, and new files need no hand-written assertions or snapshots.
//
// Usage: node generate-file-checks.js OUTPUT_DIR FILE.chaos...
// Each case is written to OUTPUT_DIR/<file path with "../" parts dropped>.

'use strict';

const fs = require('fs');
const path = require('path');

const ILLEGAL_SCOPE = 'invalid.illegal.character.chaos';

// The test runner treats every line that starts with this marker as an assertion and
// drops it from the source it tokenizes. A `.chaos` file can only start a line with it
// inside a block comment or a string, and such a file is rejected below.
const ASSERTION_MARKER = '%%chaos-check%%';

/**
 * Builds the text of a test case for one source file.
 *
 * Assertions use the `<~~~---` form, which addresses any column from the start of the
 * line, so the marker's length places no limit on the columns that can be checked.
 */
function buildTestCase(displayName, source) {
  const lines = source.split(/\r\n|\n/);
  const output = [`${ASSERTION_MARKER} SYNTAX TEST "source.chaos" "${displayName}"`];
  lines.forEach((line, index) => {
    if (line.startsWith(ASSERTION_MARKER)) {
      throw new Error(
        `${displayName}:${index + 1}: the line starts with ${ASSERTION_MARKER}, ` +
          'which the test runner would read as an assertion; change ASSERTION_MARKER ' +
          'in generate-file-checks.js to a text no checked file starts a line with',
      );
    }
    output.push(line);
    for (const run of line.matchAll(/\S+/g)) {
      const offset = '~'.repeat(run.index);
      const width = '-'.repeat(run[0].length);
      output.push(`${ASSERTION_MARKER} <${offset}${width} - ${ILLEGAL_SCOPE}`);
    }
  });
  return output.join('\n') + '\n';
}

function main() {
  const [outputDir, ...files] = process.argv.slice(2);
  if (!outputDir || files.length === 0) {
    console.error('usage: node generate-file-checks.js OUTPUT_DIR FILE.chaos...');
    process.exit(2);
  }
  for (const file of files) {
    const relative = path
      .normalize(file)
      .split(path.sep)
      .filter((part) => part !== '..' && part !== '.' && part !== '')
      .join(path.sep);
    const target = path.join(outputDir, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, buildTestCase(relative, fs.readFileSync(file, 'utf8')));
  }
}

main();
