#!/usr/bin/env bash
# Tests the Vim runtime files headless. Every .chaos file in scenarios/ and stdlib/ must
# load without an error message and get chaos highlighting on every non-blank character.
# tests/syntax.chaos must match its expected syntax groups, and tests/indent.chaos must
# keep its indentation under `gg=G`. The checks are in tests/run.vim, and the last line of
# the output reads "N passed, M failed".
set -euo pipefail

vim_dir="$(cd "$(dirname "$0")" && pwd)"
repo_dir="$(cd "$vim_dir/../.." && pwd)"

# CHAOS_TEST_VIM=vim or CHAOS_TEST_VIM=nvim picks the editor. Without it, the script uses
# vim, or nvim when vim is missing.
requested="${CHAOS_TEST_VIM:-}"
if [ -z "$requested" ]; then
    if command -v vim >/dev/null 2>&1; then
        requested=vim
    elif command -v nvim >/dev/null 2>&1; then
        requested=nvim
    else
        echo "error: neither vim nor nvim is installed; install one, for example: apt-get install vim" >&2
        exit 1
    fi
fi
if ! command -v "$requested" >/dev/null 2>&1; then
    echo "error: $requested not found (set by CHAOS_TEST_VIM); install it or unset CHAOS_TEST_VIM" >&2
    exit 1
fi
case "$requested" in
    vim) editor=(vim -N -u NONE -i NONE -n -es) ;;
    nvim) editor=(nvim --headless -u NONE -i NONE -n -es) ;;
    *)
        echo "error: CHAOS_TEST_VIM must be vim or nvim, not $requested" >&2
        exit 1
        ;;
esac

shopt -s nullglob
files=("$repo_dir"/scenarios/*.chaos "$repo_dir"/stdlib/*.chaos "$vim_dir"/tests/*.chaos)
shopt -u nullglob
# The syntax fixture contains a deliberate error, so run.vim checks it on its own.
checked=()
for file in "${files[@]}"; do
    [ "$file" = "$vim_dir/tests/syntax.chaos" ] || checked+=("$file")
done

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

status=0
# The timeout ends a run that waits for input, which -es mode should never do.
CHAOS_VIM_RESULTS="$results" timeout 120 "${editor[@]}" -S "$vim_dir/tests/run.vim" -- "${checked[@]}" \
    </dev/null || status=$?

if [ ! -s "$results" ]; then
    echo "error: ${editor[0]} exited with status $status and wrote no results" >&2
    exit 1
fi
cat "$results"
exit "$status"
