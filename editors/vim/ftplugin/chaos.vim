" Vim filetype plugin
" Language: chaos experiments (.chaos)

if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

" `gc`-style commenting plugins and Neovim's built-in commenting read commentstring.
setlocal commentstring=//\ %s
" `///` comes before `//` so that a documentation comment continues as one.
setlocal comments=s1:/*,mb:*,ex:*/,:///,://
" Wrap and continue comments, but never wrap code.
setlocal formatoptions-=t formatoptions+=croql
setlocal suffixesadd=.chaos

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions< suffixesadd<'
