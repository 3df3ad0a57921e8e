" Tests the Vim runtime files in editors/vim. test.sh runs it as
"   vim -N -u NONE -i NONE -n -es -S tests/run.vim -- FILE...
" with the path of the results file in $CHAOS_VIM_RESULTS.
"
" Every FILE must load without an error message and get the chaos filetype, syntax,
" comment string and indent expression. Every non-blank character must get a chaos
" syntax group other than chaosError, and each reserved word that starts a line of code
" must be highlighted as a keyword. On top of that, tests/syntax.chaos must match its
" `//= WORD GROUP` expectations, and tests/indent.chaos must come out of `gg=G` unchanged.
"
" Writes "ok - NAME" or "not ok - NAME: reason" per check, then "N passed, M failed",
" and exits with a non-zero status when any check fails.

let s:vim_dir = fnamemodify(expand('<sfile>:p'), ':h:h')
let s:tests_dir = s:vim_dir . '/tests'
let s:results = []
let s:failed = 0

" Reserved words that can start a line of code, and the groups they may get there.
let s:leading_keywords = ['use', 'service', 'target', 'fault', 'experiment', 'probe',
      \ 'step', 'stop', 'success', 'steady_state', 'recovery', 'action', 'alert',
      \ 'channel', 'framework', 'template']
let s:keyword_groups = ['chaosInclude', 'chaosDeclKeyword', 'chaosControl', 'chaosBlockKeyword']
let s:max_reported = 5

function! s:Report(name, failures) abort
  if empty(a:failures)
    call add(s:results, 'ok - ' . a:name)
    return
  endif
  let s:failed += 1
  let shown = a:failures[: s:max_reported - 1]
  if len(a:failures) > s:max_reported
    call add(shown, printf('and %d more', len(a:failures) - s:max_reported))
  endif
  call add(s:results, 'not ok - ' . a:name . ': ' . join(shown, '; '))
endfunction

function! s:GroupAt(lnum, column) abort
  return synIDattr(synID(a:lnum, a:column, 1), 'name')
endfunction

" Opens a file as a user would, and returns the errors that loading it raised.
function! s:Load(file) abort
  let failures = []
  let v:errmsg = ''
  try
    execute 'silent edit!' fnameescape(a:file)
  catch
    call add(failures, 'loading raised ' . v:exception)
  endtry
  if v:errmsg !=# ''
    call add(failures, 'loading set v:errmsg to ' . string(v:errmsg))
  endif
  return failures
endfunction

" Checks the buffer settings and the syntax groups of every non-blank character.
function! s:CheckFile(file) abort
  let failures = s:Load(a:file)
  if &filetype !=# 'chaos'
    call add(failures, 'filetype is ' . string(&filetype) . ', expected chaos')
  endif
  if get(b:, 'current_syntax', '') !=# 'chaos'
    call add(failures, 'b:current_syntax is not chaos')
  endif
  if &commentstring !=# '// %s'
    call add(failures, 'commentstring is ' . string(&commentstring))
  endif
  if &indentexpr !~# 'GetChaosIndent'
    call add(failures, 'indentexpr is ' . string(&indentexpr))
  endif

  let code_lines = 0
  let keywords_checked = 0
  for lnum in range(1, line('$'))
    let text = getline(lnum)
    let next_column = 1
    for character in split(text, '\zs')
      let column = next_column
      let next_column += len(character)
      if character =~# '\s'
        continue
      endif
      let group = s:GroupAt(lnum, column)
      if group ==# 'chaosError'
        call add(failures, printf('%d:%d: %s is highlighted as an error', lnum, column, string(character)))
      elseif group !~# '^chaos'
        call add(failures, printf('%d:%d: %s has no chaos syntax group (%s)', lnum, column, string(character), string(group)))
      endif
    endfor

    let first = match(text, '\S') + 1
    if first == 0
      continue
    endif
    let group = s:GroupAt(lnum, first)
    if group =~# 'Comment\|String'
      continue
    endif
    let code_lines += 1
    let word = matchstr(text, '^\s*\zs\h\w*')
    if index(s:leading_keywords, word) >= 0
      let keywords_checked += 1
      if index(s:keyword_groups, group) < 0
        call add(failures, printf('%d:%d: keyword %s is in group %s', lnum, first, word, string(group)))
      endif
    endif
  endfor
  if code_lines > 0 && keywords_checked == 0
    call add(failures, 'no line of code starts with a reserved word, so no keyword was checked')
  endif
  call s:Report(fnamemodify(a:file, ':~:.'), failures)
endfunction

" Checks the `//= WORD[#N] GROUP` lines of a fixture: every character of the Nth
" occurrence of WORD on the closest line above that is not an expectation has GROUP.
function! s:CheckExpectations(file) abort
  let failures = s:Load(a:file)
  let source_lnum = 0
  let expectations = 0
  for lnum in range(1, line('$'))
    let text = getline(lnum)
    let parts = matchlist(text, '^//= \(\S\{-1,}\)\%(#\(\d\+\)\)\= \(\w\+\)$')
    if empty(parts)
      let source_lnum = lnum
      continue
    endif
    let expectations += 1
    let [word, occurrence, expected] = [parts[1], str2nr(parts[2] ==# '' ? '1' : parts[2]), parts[3]]
    let source = getline(source_lnum)
    let start = -1
    for _ in range(occurrence)
      let start = stridx(source, word, start + 1)
      if start < 0
        break
      endif
    endfor
    if start < 0
      call add(failures, printf('%d: %s #%d not found on line %d', lnum, word, occurrence, source_lnum))
      continue
    endif
    for column in range(start + 1, start + len(word))
      let actual = s:GroupAt(source_lnum, column)
      if actual !=# expected
        call add(failures, printf('%d:%d: %s is in group %s, expected %s',
              \ source_lnum, column, string(word), string(actual), expected))
        break
      endif
    endfor
  endfor
  if expectations == 0
    call add(failures, 'no //= expectations found')
  endif
  call s:Report(fnamemodify(a:file, ':~:.') . ' expectations', failures)
endfunction

" Re-indents a fixture with 'shiftwidth' 4 and compares the result with the file.
function! s:CheckIndent(file) abort
  let failures = s:Load(a:file)
  setlocal shiftwidth=4 expandtab
  let expected = getline(1, '$')
  silent normal! gg=G
  let actual = getline(1, '$')
  for index in range(len(expected))
    if actual[index] !=# expected[index]
      call add(failures, printf('line %d became %s, expected %s', index + 1, string(actual[index]), string(expected[index])))
    endif
  endfor
  silent edit!
  call s:Report(fnamemodify(a:file, ':~:.') . ' indent', failures)
endfunction

function! s:Main() abort
  execute 'set runtimepath^=' . fnameescape(s:vim_dir)
  filetype plugin indent on
  syntax on
  set nomore shortmess+=F

  for file in argv()
    call s:CheckFile(file)
  endfor
  call s:CheckExpectations(s:tests_dir . '/syntax.chaos')
  call s:CheckIndent(s:tests_dir . '/indent.chaos')
endfunction

try
  call s:Main()
catch
  let s:failed += 1
  call add(s:results, 'not ok - test driver: ' . v:exception . ' at ' . v:throwpoint)
endtry

call add(s:results, printf('%d passed, %d failed', len(s:results) - s:failed, s:failed))
call writefile(s:results, $CHAOS_VIM_RESULTS)
if s:failed > 0
  cquit!
endif
qall!
