" Vim syntax file
" Language: chaos experiments (.chaos), as specified by grammar/chaos.pest in chaosc
" Tested with Vim 9.0 and Neovim 0.7.
"
" Items are ordered from the least to the most specific, because when two match or region
" items start at the same column, Vim uses the one defined last, and a keyword beats both
" (see :help :syn-priority). So the catch-all error item comes first, and the numbers,
" addresses and clause words come late.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syntax case match
syntax iskeyword @,48-57,_
" Block comments nest and strings may span lines, so parse from the start of the file.
syntax sync fromstart

" Any character that no item below recognises is not part of the language.
syntax match chaosError "\S"

" Names used as values: usually members of an enumeration, such as `network`.
syntax match chaosEnum "\<\h\w*\>"

" Reserved words: none of them can name anything.
syntax keyword chaosInclude use
syntax keyword chaosDeclKeyword service target fault experiment probe step action plan alert channel framework template
" `recovery` also names a module of the standard library, as in `use std::recovery::...`,
" where it is a path segment; a keyword would win over the namespace match there.
syntax match chaosDeclKeyword "\%(::\s*\)\@<!\<recovery\>\%(\s*::\)\@!"
syntax keyword chaosControl inject on for after stop when with in expect
syntax keyword chaosBlockKeyword steady_state success
syntax keyword chaosLogical and or not
syntax keyword chaosBoolean true false

" Operators and punctuation. `==` is defined after `=` so that it wins where both start.
syntax match chaosAssign "="
syntax match chaosComparison "==\|!=\|<=\|>=\|<\|>"
syntax match chaosDelimiter "[,.:*]"
syntax match chaosDelimiter "::"
syntax match chaosBrace "[{}()[\]]"

" `key = value` in a block, and `name {` opening a nested block.
syntax match chaosProperty "\<\h\w*\ze\s*=\%(=\)\@!"
syntax match chaosSectionName "\<\h\w*\ze\s*{"

" `home.failures`: a probe, then the measure read from it; `status == 200`: a field.
syntax match chaosField "\<\h\w*\ze\s*\%([=!<>]=\|[<>]\)"
syntax match chaosObject "\<\h\w*\ze\s*\.\s*\h"
syntax match chaosMember "\%(\.\s*\)\@<=\h\w*"

" Declaration names; a keyword in the name position stays a keyword.
syntax match chaosDeclName "\%(\<\%(service\|target\|fault\|experiment\|step\|action\|alert\|channel\|framework\)\s\+\)\@<=\h\w*"
syntax match chaosDeclName "\%(\<probe\s\+\)\@<=\h\w*\ze\s*=\%(=\)\@!"
syntax match chaosDeclName "\%(\<recovery\s\+plan\s\+\)\@<=\h\w*"
syntax match chaosDeclName "\%(\<template\s\+plan\s\+\)\@<=\h\w*"
" The kind after `target NAME =`, `probe NAME =` or `action NAME =`.
syntax match chaosKind "\%(\<\%(target\|probe\|action\)\s\+\h\w*\s*=\s*\)\@<=\h\w*"

" `use std::faults::{latency, process_kill}`.
syntax match chaosNamespace "\%(\<use\s\+\%(\h\w*\s*::\s*\)*\)\@<=\h\w*\ze\s*::"
syntax match chaosImport "\%(\<use\s\+\%(\h\w*\s*::\s*\)\+\)\@<=\h\w*\>\%(\s*::\)\@!"
syntax match chaosImport "\%(\<use\s\+\%(\h\w*\s*::\s*\)\+{\%(\s*\h\w*\s*,\)*\s*\)\@<=\h\w*"

" `inject latency`, `on web`, `after slow, crash`.
syntax match chaosFaultName "\%(\<inject\s\+\)\@<=\h\w*"
syntax match chaosReference "\%(\<on\s\+\)\@<=\h\w*"
syntax match chaosReference "\%(\<after\s\+\%(\h\w*\s*,\s*\)*\)\@<=\h\w*"

" Words that start a clause but are not reserved: keywords only where a value follows on
" the same line, so that `timeout = 30s` stays a property and `every.failures` a reference.
syntax match chaosClause "\<\%(within\|every\|timeout\|priority\|retries\|pick\)\>\ze[ \t]\+[-[:alnum:]_\"[]"
syntax match chaosClause "\%(\<with\s\+\)\@<=probability\>"
syntax match chaosClause "\<targets\ze\s*("

syntax match chaosHttpMethod "\<\%(GET\|HEAD\|POST\|PUT\|DELETE\|PATCH\|OPTIONS\|CONNECT\|TRACE\)\>"
syntax match chaosSignal "\<SIG\u\+\d*\>"

" Numbers, with the unit written right after them. The unit lists are those the checker
" accepts; any other unit is a generic quantity, which the checker reports.
syntax match chaosUnit contained "\%(\d\)\@<=\%(%\|\a\+\%(/\a\+\)\=\|/\a\+\)"
syntax match chaosUnit contained "\u\{3}\>"
syntax match chaosNumber "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\="
syntax match chaosQuantity "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=\%(\a\+\%(/\a\+\)\=\|/\a\+\)" contains=chaosUnit
syntax match chaosDuration "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=\%(ms\|s\|m\|h\)\%([[:alpha:]/]\)\@!" contains=chaosUnit
syntax match chaosPercent "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=%" contains=chaosUnit
syntax match chaosSize "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=\%(B\|KB\|MB\|GB\|KiB\|MiB\|GiB\|TiB\)\%([[:alpha:]/]\)\@!" contains=chaosUnit
syntax match chaosBandwidth "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=\%(bit\|kbit\|Mbit\|Gbit\)/s\%(\a\)\@!" contains=chaosUnit
syntax match chaosRate "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\=/\%(s\|m\|h\)\%(\a\)\@!" contains=chaosUnit
" Money: a number, spaces and a three-letter ISO 4217 code, such as `1200 USD`.
syntax match chaosMoney "\%([[:alnum:]_.]\)\@<!-\=\d\+\%(\.\d\+\)\= \+\u\{3}\%(\w\)\@!" contains=chaosUnit

" Socket addresses: `127.0.0.1:8080` and `[::1]:8080`.
syntax match chaosAddress "\%([[:alnum:]_.]\)\@<!\d\+\.\d\+\.\d\+\.\d\+:\d\+"
syntax match chaosAddress "\[[[:xdigit:]:.]\+\]:\d\+"

" Strings. Any character after a backslash is an escape, and a backslash at the end of a
" line escapes the newline, so the string goes on; any other line end closes the string.
syntax match chaosEscape contained "\\\%(.\|\n\)"
syntax region chaosString start=+"+ end=+"+ end=+$+ contains=chaosEscape

" A map such as a label set: a `{` after `=`, `[`, `,` or `(`. A `{` after a name opens a
" block instead, which needs no region.
syntax cluster chaosValue contains=chaosError,chaosEnum,chaosBoolean,chaosHttpMethod,chaosSignal,chaosNumber,chaosQuantity,chaosDuration,chaosPercent,chaosSize,chaosBandwidth,chaosRate,chaosMoney,chaosAddress,chaosString,chaosMap,chaosBrace,chaosDelimiter,chaosObject,chaosMember,chaosField,chaosComparison,chaosLineComment,chaosDocComment,chaosBlockComment
syntax match chaosLabelKey contained "\<\h\w*\ze\s*=\%(=\)\@!"
syntax match chaosLabelKey contained +"\%([^"\\]\|\\.\)*"\ze\s*=\%(=\)\@!+
syntax region chaosMap matchgroup=chaosBrace start="\%([=[,(]\_s*\)\@<={" end="}" contains=@chaosValue,chaosLabelKey,chaosAssign

" Parentheses: the parameters of a fault or template (`delay: duration = 0ms`), the
" arguments of a fault call or template instance (`delay = 200ms`) and the settings of a
" recovery plan.
syntax match chaosParameter contained "\<\h\w*\ze\s*\%(=\%(=\)\@!\|:\%(:\)\@!\)"
syntax match chaosParamType contained "\%(\<\h\w*\s*:\s*\[\=\s*\)\@<=\h\w*"
syntax region chaosArgs matchgroup=chaosBrace start="(" end=")" contains=@chaosValue,chaosParameter,chaosParamType,chaosAssign

" `targets(app == "web" and tier != "db")`: a label selector.
syntax match chaosSelectorKey contained "\<\h\w*\ze\s*[=!]="
syntax region chaosSelector matchgroup=chaosBrace start="\%(\<targets\s*\)\@<=(" end=")" contains=@chaosValue,chaosSelectorKey,chaosLogical

" Comments come last, so that they win over every other item.
syntax keyword chaosTodo contained TODO FIXME XXX NOTE
syntax match chaosLineComment "//.*$" contains=chaosTodo,@Spell
" The parser reads a line as documentation when it starts with `///` after indentation.
syntax match chaosDocComment "^\s*\zs///.*$" contains=chaosTodo,@Spell
syntax region chaosBlockComment start="/\*" end="\*/" contains=chaosBlockComment,chaosTodo,@Spell fold

highlight default link chaosError Error
highlight default link chaosEnum Constant
highlight default link chaosInclude Include
highlight default link chaosDeclKeyword Keyword
highlight default link chaosControl Statement
highlight default link chaosBlockKeyword Keyword
highlight default link chaosLogical Operator
highlight default link chaosBoolean Boolean
highlight default link chaosAssign Operator
highlight default link chaosComparison Operator
highlight default link chaosDelimiter Delimiter
highlight default link chaosBrace Delimiter
highlight default link chaosProperty Identifier
highlight default link chaosSectionName Label
highlight default link chaosField Identifier
highlight default link chaosObject Identifier
highlight default link chaosMember Identifier
highlight default link chaosDeclName Function
highlight default link chaosKind Type
highlight default link chaosNamespace Identifier
highlight default link chaosImport Function
highlight default link chaosFaultName Function
highlight default link chaosReference Identifier
highlight default link chaosClause Statement
highlight default link chaosHttpMethod Constant
highlight default link chaosSignal Constant
highlight default link chaosUnit Special
highlight default link chaosNumber Number
highlight default link chaosQuantity Number
highlight default link chaosDuration Number
highlight default link chaosPercent Number
highlight default link chaosSize Number
highlight default link chaosBandwidth Number
highlight default link chaosRate Number
highlight default link chaosMoney Number
highlight default link chaosAddress Constant
highlight default link chaosEscape SpecialChar
highlight default link chaosString String
highlight default link chaosLabelKey Tag
highlight default link chaosParameter Identifier
highlight default link chaosParamType Type
highlight default link chaosSelectorKey Tag
highlight default link chaosTodo Todo
highlight default link chaosLineComment Comment
highlight default link chaosDocComment SpecialComment
highlight default link chaosBlockComment Comment

let b:current_syntax = 'chaos'

let &cpo = s:cpo_save
unlet s:cpo_save
