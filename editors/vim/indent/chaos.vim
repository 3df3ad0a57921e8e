" Vim indent file
" Language: chaos experiments (.chaos)
"
" Indents one 'shiftwidth' per unclosed `{`, `(` or `[` on the line above, and outdents a
" line that starts with a closing bracket. Lines inside block comments and continued
" strings keep their indent.

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetChaosIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O
setlocal autoindent nosmartindent nocindent

let b:undo_indent = 'setlocal indentexpr< indentkeys< autoindent< smartindent< cindent<'

if exists('*GetChaosIndent')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" Returns the syntax group at the first non-blank character of line lnum.
function! s:SyntaxAtStart(lnum) abort
  let column = match(getline(a:lnum), '\S') + 1
  if column == 0
    return ''
  endif
  return synIDattr(synID(a:lnum, column, 1), 'name')
endfunction

" Returns the net count of opening minus closing brackets on a line, ignoring strings,
" comments and the closing brackets that start the line (those already outdented it).
function! s:BracketBalance(line) abort
  let code = substitute(a:line, '"\%([^"\\]\|\\.\)*"', '""', 'g')
  let code = substitute(code, '/\*.\{-}\*/', '', 'g')
  let code = substitute(code, '/\*.*$', '', '')
  let code = substitute(code, '//.*$', '', '')
  let code = substitute(code, '^\s*[})\]]*', '', '')
  let opening = len(substitute(code, '[^{([]', '', 'g'))
  let closing = len(substitute(code, '[^})\]]', '', 'g'))
  return opening - closing
endfunction

" Tells whether line lnum starts inside a block comment or inside a string whose line
" above ends with a backslash that escapes the newline.
function! s:IsContinuation(lnum) abort
  if s:SyntaxAtStart(a:lnum) ==# 'chaosBlockComment'
    return getline(a:lnum) !~# '^\s*/\*'
  endif
  let above = getline(a:lnum - 1)
  if a:lnum == 1 || above !~# '\\$'
    return 0
  endif
  return synIDattr(synID(a:lnum - 1, len(above), 1), 'name') ==# 'chaosEscape'
endfunction

function! GetChaosIndent(lnum) abort
  if s:IsContinuation(a:lnum)
    return -1
  endif

  let previous = prevnonblank(a:lnum - 1)
  " Skip lines inside block comments and continued strings: they say nothing about the
  " nesting of the code.
  while previous > 0 && s:IsContinuation(previous)
    let previous = prevnonblank(previous - 1)
  endwhile
  if previous == 0
    return 0
  endif

  let indent = indent(previous)
  let balance = s:BracketBalance(getline(previous))
  if balance > 0
    let indent += shiftwidth()
  elseif balance < 0
    let indent -= shiftwidth()
  endif
  if getline(a:lnum) =~# '^\s*[})\]]'
    let indent -= shiftwidth()
  endif
  return max([indent, 0])
endfunction

let &cpo = s:cpo_save
unlet s:cpo_save
