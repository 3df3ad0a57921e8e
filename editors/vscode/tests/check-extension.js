#!/usr/bin/env node
// Checks the extension manifest and the files it points to, without VS Code. Every
// contributed file must exist and parse, and the regular expressions of the language
// configuration must compile. extension.js must be valid JavaScript whose language client
// module resolves from node_modules/, and every snippet needs a prefix, a body and a
// description.
//
// Usage: node check-extension.js [SNIPPETS_OUTPUT.chaos]
// With an output path, also writes every snippet body with its placeholders replaced by
// their default text, so that the caller can check that the expanded snippets tokenize.
//
// Prints one "✓ check" or "✖ check: reason" line per check and exits 1 when any fails.

'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const EXTENSION_DIR = path.resolve(__dirname, '..');

const results = [];

function check(name, body) {
  try {
    body();
    results.push({ name, error: null });
  } catch (error) {
    results.push({ name, error: error instanceof Error ? error.message : String(error) });
  }
}

function assert(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

function readJson(relativePath) {
  const file = path.join(EXTENSION_DIR, relativePath);
  assert(fs.existsSync(file), `${relativePath} not found`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${relativePath} is not valid JSON: ${error.message}`);
  }
}

/**
 * Replaces the placeholders of a snippet body (`${1:text}`, `${1|a,b|}`, `$1`, `${1}`)
 * with their default text or first choice, innermost first. A bare `$1` takes the default
 * of a `${1:...}` placeholder elsewhere in the body, as VS Code mirrors it.
 */
function expandSnippet(body) {
  let text = Array.isArray(body) ? body.join('\n') : body;
  const defaults = new Map();
  const remember = (index, value) => {
    if (!defaults.has(index)) {
      defaults.set(index, value);
    }
    return value;
  };
  let previous;
  do {
    previous = text;
    text = text.replace(/\$\{(\d+)\|([^|]*)\|\}/g, (_, index, choices) =>
      remember(index, choices.split(',')[0]),
    );
    text = text.replace(/\$\{(\d+):([^${}]*)\}/g, (_, index, value) => remember(index, value));
  } while (text !== previous);
  text = text.replace(/\$\{(\d+)\}|\$(\d+)/g, (_, braced, bare) => defaults.get(braced ?? bare) ?? '');
  assert(!text.includes('${'), `unexpanded placeholder left in:\n${text}`);
  return text.replace(/\\([$}\\])/g, '$1');
}

function main() {
  const snippetsOutput = process.argv[2];
  const manifest = readJson('package.json');
  const contributes = manifest.contributes || {};

  check('package.json declares the chaos language for .chaos files', () => {
    const language = (contributes.languages || []).find((entry) => entry.id === 'chaos');
    assert(language, 'no contributes.languages entry with id "chaos"');
    assert((language.extensions || []).includes('.chaos'), 'the chaos language lists no ".chaos" extension');
    assert(language.configuration, 'the chaos language has no configuration file');
  });

  check('language-configuration.json is valid', () => {
    const language = (contributes.languages || []).find((entry) => entry.id === 'chaos');
    const configuration = readJson(language.configuration);
    assert(configuration.comments.lineComment === '//', 'lineComment is not "//"');
    const block = configuration.comments.blockComment;
    assert(block[0] === '/*', `blockComment starts with ${block[0]}, expected /*`);
    assert(block[1] === '*/', `blockComment ends with ${block[1]}, expected */`);
    const patterns = [
      configuration.wordPattern,
      configuration.indentationRules.increaseIndentPattern,
      configuration.indentationRules.decreaseIndentPattern,
      configuration.folding.markers.start,
      configuration.folding.markers.end,
      ...configuration.onEnterRules.map((rule) => rule.beforeText),
    ];
    for (const pattern of patterns) {
      new RegExp(pattern);
    }
    const increase = new RegExp(configuration.indentationRules.increaseIndentPattern);
    assert(increase.test('experiment checkout {'), 'a line ending in "{" does not increase the indent');
    assert(!increase.test('blast_radius { limit = 2 }'), 'a closed block increases the indent');
    assert(!increase.test('x = 1 // {'), 'a "{" in a comment increases the indent');
  });

  check('the grammar is contributed for source.chaos', () => {
    const grammar = (contributes.grammars || []).find((entry) => entry.language === 'chaos');
    assert(grammar, 'no contributes.grammars entry for the chaos language');
    assert(grammar.scopeName === 'source.chaos', `scopeName is ${grammar.scopeName}, expected source.chaos`);
    const rules = readJson(grammar.path);
    assert(rules.scopeName === 'source.chaos', `${grammar.path} has scopeName ${rules.scopeName}`);
  });

  let snippets = {};
  check('snippets have a prefix, a body and a description', () => {
    const entry = (contributes.snippets || []).find((item) => item.language === 'chaos');
    assert(entry, 'no contributes.snippets entry for the chaos language');
    snippets = readJson(entry.path);
    assert(Object.keys(snippets).length > 0, `${entry.path} holds no snippets`);
    for (const [name, snippet] of Object.entries(snippets)) {
      assert(snippet.prefix, `snippet "${name}" has no prefix`);
      assert(snippet.prefix.length > 0, `snippet "${name}" has an empty prefix`);
      assert(snippet.body, `snippet "${name}" has no body`);
      assert(snippet.body.length > 0, `snippet "${name}" has an empty body`);
      assert(snippet.description, `snippet "${name}" has no description`);
      expandSnippet(snippet.body);
    }
  });

  check('extension.js is valid and its language client resolves', () => {
    const main = path.join(EXTENSION_DIR, manifest.main);
    assert(fs.existsSync(main), `${manifest.main} not found`);
    const syntax = childProcess.spawnSync(process.execPath, ['--check', main], { encoding: 'utf8' });
    assert(syntax.status === 0, `node --check failed:\n${syntax.stderr}`);
    assert(manifest.dependencies['vscode-languageclient'], 'vscode-languageclient is not a dependency');
    require.resolve('vscode-languageclient/node', { paths: [EXTENSION_DIR] });
    const source = fs.readFileSync(main, 'utf8');
    for (const command of contributes.commands || []) {
      assert(source.includes(`'${command.command}'`), `${manifest.main} never registers ${command.command}`);
    }
  });

  if (snippetsOutput) {
    const bodies = Object.entries(snippets).map(
      ([name, snippet]) => `// ${name}\n${expandSnippet(snippet.body)}\n`,
    );
    fs.mkdirSync(path.dirname(snippetsOutput), { recursive: true });
    fs.writeFileSync(snippetsOutput, bodies.join('\n'));
  }

  for (const { name, error } of results) {
    console.log(error === null ? `✓ ${name}` : `✖ ${name}: ${error}`);
  }
  process.exit(results.every((result) => result.error === null) ? 0 : 1);
}

main();
