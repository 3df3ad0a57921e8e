#!/usr/bin/env bash
# Tests the VS Code extension without VS Code:
#   1. tests/check-extension.js checks the manifest and the files it contributes.
#   2. vscode-tmgrammar-test runs the scope assertions in tests/*.test.chaos.
#   3. Every .chaos file in scenarios/ and stdlib/, and every snippet expanded with its
#      default text, must tokenize with no character in the grammar's catch-all scope
#      invalid.illegal.character.chaos. tests/generate-file-checks.js writes these
#      assertions for each file, so a new scenario file needs no extra work.
# Installs the npm dependencies into node_modules/ first and needs Node.js 18 or newer.
# The last line reads "N passed, M failed", counting checks and test files. The script
# exits non-zero when anything failed.
set -euo pipefail

extension_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "$extension_dir/../.." && pwd)"
cd "$extension_dir"

if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js 18 or newer (for example: apt-get install nodejs npm)" >&2
    exit 1
fi

npm install --no-audit --no-fund

# Plain output, so that the "✓"/"✖" result lines can be counted below.
export FORCE_COLOR=0
tmgrammar_test="$extension_dir/node_modules/.bin/vscode-tmgrammar-test"
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
log="$work_dir/output.log"

shopt -s nullglob
real_files=("$repo_dir"/scenarios/*.chaos "$repo_dir"/stdlib/*.chaos)
shopt -u nullglob
if [ "${#real_files[@]}" -eq 0 ]; then
    echo "error: no .chaos files found in $repo_dir/scenarios or $repo_dir/stdlib" >&2
    exit 1
fi

status=0

echo "== extension manifest and contributed files"
expanded_snippets="$work_dir/expanded/snippets/chaos.chaos"
node tests/check-extension.js "$expanded_snippets" 2>&1 | tee -a "$log" || status=1

echo "== scope assertions in tests/*.test.chaos"
"$tmgrammar_test" 'tests/*.test.chaos' 2>&1 | tee -a "$log" || status=1

echo "== scenario, stdlib and snippet text tokenizes without unrecognised characters"
cases_dir="$work_dir/cases"
(cd "$repo_dir" && node "$extension_dir/tests/generate-file-checks.js" "$cases_dir" \
    "${real_files[@]#"$repo_dir"/}") || status=1
if [ -f "$expanded_snippets" ]; then
    (cd "$work_dir/expanded" && node "$extension_dir/tests/generate-file-checks.js" "$cases_dir" \
        snippets/chaos.chaos) || status=1
fi
"$tmgrammar_test" "$cases_dir/**/*.chaos" 2>&1 | tee -a "$log" || status=1

passed="$(grep -c '^✓' "$log" || true)"
failed="$(grep -c '^✖' "$log" || true)"
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    status=1
fi
exit "$status"
