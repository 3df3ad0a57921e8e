" Sets the filetype of .chaos files, the chaos experiment definitions read by chaosc.
autocmd BufRead,BufNewFile *.chaos setfiletype chaos
