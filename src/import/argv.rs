//! Splitting the string form of process arguments into argv. The toolkit
//! hands such a string to `/bin/sh`; chaosc runs commands without a shell, so
//! only strings that mean the same split into words are accepted.

/// Characters that make a shell do more than split words.
const SHELL_SPECIALS: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '~', '#', '!', '\n',
];

/// Splits `text` as a shell splits a simple command line, honouring single
/// quotes, double quotes and backslashes. Returns `None` when the text uses
/// anything else a shell interprets (pipes, redirections, variables, globs),
/// or when a quote is not closed.
pub fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => word.push(chars.next()?),
                        '$' | '`' => return None,
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c if SHELL_SPECIALS.contains(&c) => return None,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_split() {
        let words = split_words("-c 'print(1)'  \"a b\" c\\ d").unwrap();
        assert_eq!(words, ["-c", "print(1)", "a b", "c d"]);
    }

    #[test]
    fn shell_features_are_rejected() {
        for text in [
            "a | b", "a > f", "$HOME", "a; b", "\"$x\"", "*.log", "'open",
        ] {
            assert_eq!(split_words(text), None, "{text}");
        }
    }
}
