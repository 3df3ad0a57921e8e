//! Translating the regular expressions of `regex` tolerances, which the
//! toolkit compiles with Python's `re` module, into the syntax of the Rust
//! `regex` crate that `=~` uses. The two dialects share most of their
//! syntax, and this module rewrites what differs:
//!
//! - `$` without the `m` flag also matches before a final newline in
//!   Python, so it becomes `(?:\n?\z)`; `\Z` becomes `\z`.
//! - Escapes that the crate reads otherwise or not at all: octal `\0` and
//!   `\141`, and `\<`, `\>`, which are literal characters in Python but word
//!   boundaries in the crate. Every escape of one character is written as
//!   the character, and a control character as `\x{..}`.
//! - Characters that are literal in Python character classes but start a
//!   nested class or a set operation in the crate: `[`, `&&`, `--`, `~~`.
//! - `{` that starts no repetition, literal in Python, is escaped; `{,n}`
//!   becomes `{0,n}`.
//! - The flags `x` (verbose), `a` (ASCII classes) and `u` are applied here
//!   and not passed on; `(?#...)` comments are dropped.
//!
//! Backreferences, lookaround, conditionals, atomic groups, possessive
//! repetitions and `\N{NAME}` have no equivalent in the crate. A pattern
//! that Python would reject is reported with the place of the mistake.

/// The reason a pattern has no translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternIssue {
    /// Python's `re` rejects the pattern as well.
    Invalid {
        /// The byte offset in the pattern where the mistake starts.
        offset: usize,
        len: usize,
        message: String,
    },
    /// A valid pattern with a construct the `regex` crate cannot express.
    Unsupported(Construct),
}

/// A construct of a valid pattern that the `regex` crate cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Construct {
    /// The byte offset in the pattern where the construct starts.
    pub offset: usize,
    pub len: usize,
    pub reason: String,
    /// Advice on rewriting the pattern without the construct.
    pub help: String,
}

/// The help for a backreference, which matches the text a group matched.
const BACKREFERENCE_HELP: &str = "write out the text the group matches, such as `(ab)ab` for \
     `(ab)\\1` when the group matches one text only, or port the probe by hand from the \
     placeholder comment";

/// The help for `(?=...)`. `=~` only tests whether the text contains a
/// match, so a lookahead that ends the pattern tests the same as its text.
const LOOKAHEAD_HELP: &str = "a lookahead that ends the pattern can be written as plain text, \
     such as `ready(?= now)` written as `ready now`, since `=~` only tests whether the \
     text contains a match";

/// The help for `(?<=...)`, for the reason given at [`LOOKAHEAD_HELP`].
const LOOKBEHIND_HELP: &str = "a lookbehind that starts the pattern can be written as plain \
     text, such as `(?<=<title>)Directory` written as `<title>Directory`, since `=~` only tests \
     whether the text contains a match";

/// The help for a construct that has no rewrite in general.
const PORT_BY_HAND: &str =
    "rewrite the pattern without it, or port the probe by hand from the placeholder comment";

/// Returns the pattern in the syntax of the `regex` crate, with the same
/// matches as Python's `re.search` on the same text, or why there is none.
pub fn translate(pattern: &str) -> Result<String, PatternIssue> {
    let mut translator = Translator {
        chars: pattern.char_indices().collect(),
        len: pattern.len(),
        pos: 0,
        out: String::new(),
        prefix: String::new(),
        flags: Flags::default(),
        groups: Vec::new(),
        capture_count: 0,
        group_names: Vec::new(),
        unsupported: None,
        last: Last::Nothing,
    };
    translator.run()?;
    if let Some(construct) = translator.unsupported {
        return Err(PatternIssue::Unsupported(construct));
    }
    let translated = format!("{}{}", translator.prefix, translator.out);
    match regex::Regex::new(&translated) {
        Ok(_) => Ok(translated),
        Err(error) => Err(PatternIssue::Unsupported(Construct {
            offset: 0,
            len: pattern.len(),
            reason: format!(
                "the `regex` crate rejects the translated pattern `{translated}`: {}",
                last_line(&error.to_string())
            ),
            help: "simplify the pattern, such as with smaller repetition counts".to_owned(),
        })),
    }
}

/// Returns the line of a `regex` error that names the problem.
fn last_line(message: &str) -> &str {
    message
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map_or(message, |line| line.trim().trim_start_matches("error: "))
}

/// The flags that change how the rest of the pattern is read.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    /// `x`: blank space and `#` comments outside classes are ignored.
    verbose: bool,
    /// `m`: `^` and `$` match at every line.
    multiline: bool,
    /// `a`: `\d`, `\w`, `\s` and `\b` cover ASCII only.
    ascii: bool,
}

/// What the item before a repetition was, which decides whether the
/// repetition is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// The start of the pattern, of a group or of an alternative.
    Nothing,
    /// `^`, `$`, `\A`, `\Z`, `\b` or `\B`, which Python does not repeat.
    Anchor,
    /// A character, class or group.
    Atom,
    /// A repetition, which may still take `?` (lazy) or `+` (possessive).
    Repeat,
    /// A lazy or possessive repetition.
    Done,
}

/// A group that is open, and the flags to restore when it closes.
struct OpenGroup {
    offset: usize,
    saved: Flags,
}

/// One item of a character class: a character, which may end a range, or
/// a class escape such as `\d`, which may not.
enum ClassItem {
    Char(char),
    Set(String),
}

struct Translator {
    chars: Vec<(usize, char)>,
    len: usize,
    pos: usize,
    out: String,
    /// The flags that apply to the whole pattern, such as `(?i)`.
    prefix: String,
    flags: Flags,
    groups: Vec<OpenGroup>,
    capture_count: usize,
    group_names: Vec<String>,
    /// The first construct found that the crate cannot express.
    unsupported: Option<Construct>,
    last: Last,
}

impl Translator {
    fn run(&mut self) -> Result<(), PatternIssue> {
        loop {
            if self.flags.verbose {
                self.skip_verbose_blank();
            }
            let Some(c) = self.peek() else { break };
            let offset = self.offset();
            match c {
                '\\' => self.escape()?,
                '[' => self.class()?,
                '(' => self.open_group()?,
                ')' => self.close_group()?,
                '|' => {
                    self.pos += 1;
                    self.out.push('|');
                    self.last = Last::Nothing;
                }
                '*' | '+' | '?' => {
                    self.pos += 1;
                    self.repeat(&c.to_string(), offset, 1)?;
                }
                '{' => match self.brace_repetition()? {
                    Some(text) => {
                        let len = self.offset() - offset;
                        self.repeat(&text, offset, len)?;
                    }
                    None => {
                        self.pos += 1;
                        self.literal('{');
                    }
                },
                '.' => {
                    self.pos += 1;
                    self.out.push('.');
                    self.last = Last::Atom;
                }
                '^' => {
                    self.pos += 1;
                    self.out.push('^');
                    self.last = Last::Anchor;
                }
                '$' => {
                    self.pos += 1;
                    let end = if self.flags.multiline {
                        "$"
                    } else {
                        r"(?:\n?\z)"
                    };
                    self.out.push_str(end);
                    self.last = Last::Anchor;
                }
                c => {
                    self.pos += 1;
                    self.literal(c);
                }
            }
        }
        match self.groups.last() {
            Some(group) => Err(invalid(group.offset, 1, "`(` is never closed")),
            None => Ok(()),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|(_, c)| *c)
    }

    /// Returns the byte offset of the current character, or the length at
    /// the end.
    fn offset(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.len, |(offset, _)| *offset)
    }

    /// Records a construct without equivalent that starts at byte `offset`
    /// and ends at the current character. Only the first one is reported.
    fn mark_unsupported(&mut self, offset: usize, reason: String, help: &str) {
        let len = self.offset() - offset;
        self.unsupported.get_or_insert(Construct {
            offset,
            len,
            reason,
            help: help.to_owned(),
        });
    }

    /// Skips blank space and `#` comments, as the `x` flag does outside
    /// character classes.
    fn skip_verbose_blank(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}') {
                self.pos += 1;
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn literal(&mut self, c: char) {
        push_literal(&mut self.out, c);
        self.last = Last::Atom;
    }

    /// Writes a repetition after the item before it, with a `?` that makes
    /// it lazy. Python rejects a repetition of nothing, of an anchor and
    /// of another repetition.
    fn repeat(&mut self, text: &str, offset: usize, len: usize) -> Result<(), PatternIssue> {
        match self.last {
            Last::Nothing | Last::Anchor => {
                let message = format!("`{text}` repeats nothing");
                return Err(invalid(offset, len, &message));
            }
            Last::Repeat | Last::Done => {
                let message = format!("`{text}` repeats a repetition");
                return Err(invalid(offset, len, &message));
            }
            Last::Atom => {}
        }
        self.out.push_str(text);
        self.last = Last::Repeat;
        match self.peek() {
            Some('?') => {
                self.pos += 1;
                self.out.push('?');
                self.last = Last::Done;
            }
            Some('+') => {
                self.pos += 1;
                self.mark_unsupported(
                    offset,
                    format!(
                        "the possessive repetition `{text}+` has no equivalent in the `regex` \
                         crate"
                    ),
                    "drop the final `+` when no match needs the repetition to give back \
                     characters, as in `\\d++` before a non-digit",
                );
                self.last = Last::Done;
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads `{m}`, `{m,}`, `{,n}` or `{m,n}` at `{`. Anything else leaves
    /// the `{` a literal character, as in Python.
    fn brace_repetition(&mut self) -> Result<Option<String>, PatternIssue> {
        let start = self.pos;
        let offset = self.offset();
        let mut ahead = 1;
        let digits = |translator: &Self, ahead: &mut usize| {
            let mut text = String::new();
            while let Some(c) = translator.peek_at(*ahead).filter(char::is_ascii_digit) {
                text.push(c);
                *ahead += 1;
            }
            text
        };

        let low = digits(self, &mut ahead);
        let high = if self.peek_at(ahead) == Some(',') {
            ahead += 1;
            Some(digits(self, &mut ahead))
        } else {
            None
        };
        if self.peek_at(ahead) != Some('}') || (low.is_empty() && high.is_none()) {
            return Ok(None);
        }

        self.pos = start + ahead + 1;
        let len = self.offset() - offset;
        let parse = |text: &str| text.parse::<u64>().ok();
        let low_count = if low.is_empty() { Some(0) } else { parse(&low) };
        let text = match &high {
            None => format!("{{{low}}}"),
            Some(high) if high.is_empty() => format!("{{{},}}", low_count.unwrap_or(0)),
            Some(high) => {
                if let (Some(low), Some(high)) = (low_count, parse(high))
                    && high < low
                {
                    let message = format!("`{{{low},{high}}}` has a minimum above its maximum");
                    return Err(invalid(offset, len, &message));
                }
                format!("{{{},{high}}}", low_count.unwrap_or(0))
            }
        };
        Ok(Some(text))
    }

    fn escape(&mut self) -> Result<(), PatternIssue> {
        let offset = self.offset();
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(invalid(offset, 1, "the pattern ends with `\\`"));
        };
        self.pos += 1;
        let anchor = |translator: &mut Self, text: &str| {
            translator.out.push_str(text);
            translator.last = Last::Anchor;
        };
        match c {
            'A' => anchor(self, r"\A"),
            'Z' | 'z' => anchor(self, r"\z"),
            'b' | 'B' if self.flags.ascii => anchor(self, &format!(r"(?-u:\{c})")),
            'b' | 'B' => anchor(self, &format!(r"\{c}")),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                let set = class_escape(c, self.flags.ascii, false);
                self.out.push_str(&set);
                self.last = Last::Atom;
            }
            '1'..='9' if !self.is_octal_escape(c) => self.backreference(offset, c)?,
            _ => {
                let c = self.char_escape(offset, c, false)?;
                self.literal(c);
            }
        }
        Ok(())
    }

    /// Tells whether `\` and the digit `first` start a three-digit octal
    /// escape, which Python reads before a backreference.
    fn is_octal_escape(&self, first: char) -> bool {
        let is_octal = |c: Option<char>| c.is_some_and(|c| c.is_digit(8));
        first.is_digit(8) && is_octal(self.peek()) && is_octal(self.peek_at(1))
    }

    /// `\1` to `\99`: a backreference, which the crate does not have.
    fn backreference(&mut self, offset: usize, first: char) -> Result<(), PatternIssue> {
        let mut number = first.to_digit(10).unwrap_or(0) as usize;
        if let Some(second) = self.peek().and_then(|c| c.to_digit(10)) {
            self.pos += 1;
            number = number * 10 + second as usize;
        }
        if number > self.capture_count {
            let message = format!("`\\{number}` refers to a group that does not exist");
            return Err(invalid(offset, self.offset() - offset, &message));
        }
        self.mark_unsupported(
            offset,
            format!("the backreference `\\{number}` has no equivalent in the `regex` crate"),
            BACKREFERENCE_HELP,
        );
        self.last = Last::Atom;
        Ok(())
    }

    /// Reads the escape of one character after `\` and `c`: `\n`, `\x41`,
    /// `\u00e9`, `\0`, `\101` (octal), or a character that is not a letter
    /// or digit. `\b` is a backspace inside a class only.
    fn char_escape(
        &mut self,
        offset: usize,
        c: char,
        in_class: bool,
    ) -> Result<char, PatternIssue> {
        let escaped = match c {
            'a' => '\u{7}',
            'b' if in_class => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{b}',
            'x' => self.hex_escape(offset, 2)?,
            'u' => self.hex_escape(offset, 4)?,
            'U' => self.hex_escape(offset, 8)?,
            'N' => return self.named_escape(offset),
            '0'..='7' => self.octal_escape(offset, c)?,
            c if c.is_ascii_alphanumeric() => {
                let message = format!("`\\{c}` is not an escape of Python's `re` module");
                return Err(invalid(offset, 1 + c.len_utf8(), &message));
            }
            c => c,
        };
        Ok(escaped)
    }

    /// Reads `digits` hexadecimal digits after `\x`, `\u` or `\U`.
    fn hex_escape(&mut self, offset: usize, digits: usize) -> Result<char, PatternIssue> {
        let mut text = String::new();
        while text.len() < digits
            && let Some(c) = self.peek().filter(char::is_ascii_hexdigit)
        {
            text.push(c);
            self.pos += 1;
        }
        let len = self.offset() - offset;
        if text.len() < digits {
            let message = format!("the escape needs {digits} hexadecimal digits");
            return Err(invalid(offset, len, &message));
        }
        let code = u32::from_str_radix(&text, 16).unwrap_or(u32::MAX);
        if (0xD800..0xE000).contains(&code) {
            self.mark_unsupported(
                offset,
                format!("the surrogate code point U+{code:04X} cannot be part of Rust text"),
                "remove the escape: a surrogate code point never occurs in decoded text",
            );
            return Ok('\u{FFFD}');
        }
        char::from_u32(code).ok_or_else(|| {
            let message = format!("U+{code:X} is above the last code point, U+10FFFF");
            invalid(offset, len, &message)
        })
    }

    /// `\N{NAME}`: a character by its Unicode name.
    fn named_escape(&mut self, offset: usize) -> Result<char, PatternIssue> {
        if self.peek() != Some('{') {
            return Err(invalid(offset, 2, "`\\N` is followed by a name in braces"));
        }
        let open = self.pos;
        while self.peek().is_some_and(|c| c != '}') {
            self.pos += 1;
        }
        if self.peek().is_none() {
            self.pos = open;
            return Err(invalid(offset, 3, "the name after `\\N{` is never closed"));
        }
        self.pos += 1;
        self.mark_unsupported(
            offset,
            "`\\N{...}` names a Unicode character, and chaosc has no table of the names".to_owned(),
            "write the character, or its code point as in `\\u2014` for `\\N{EM DASH}`",
        );
        Ok('\u{FFFD}')
    }

    /// Reads an octal escape of up to three digits that starts with
    /// `first`. Outside a class, the caller has made sure that an escape
    /// that starts with 1 to 7 has three, since `\1` is a backreference.
    fn octal_escape(&mut self, offset: usize, first: char) -> Result<char, PatternIssue> {
        let mut value = first.to_digit(8).unwrap_or(0);
        for _ in 0..2 {
            match self.peek().and_then(|c| c.to_digit(8)) {
                Some(digit) => {
                    value = value * 8 + digit;
                    self.pos += 1;
                }
                None => break,
            }
        }
        if value > 0o377 {
            let len = self.offset() - offset;
            let message = format!("the octal escape is {value}, above 0o377");
            return Err(invalid(offset, len, &message));
        }
        Ok(char::from_u32(value).unwrap_or('\u{FFFD}'))
    }

    fn class(&mut self) -> Result<(), PatternIssue> {
        let open = self.offset();
        self.pos += 1;
        self.out.push('[');
        if self.peek() == Some('^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(invalid(open, 1, "`[` is never closed"));
            };
            if c == ']' && !first {
                self.pos += 1;
                self.out.push(']');
                break;
            }
            first = false;
            let start = self.offset();
            let low = self.class_item()?;
            let is_range = self.peek() == Some('-') && !matches!(self.peek_at(1), None | Some(']'));
            if !is_range {
                match low {
                    ClassItem::Char(c) => push_class_char(&mut self.out, c),
                    ClassItem::Set(set) => self.out.push_str(&set),
                }
                continue;
            }
            self.pos += 1;
            let high = self.class_item()?;
            let end = self.offset();
            match (low, high) {
                (ClassItem::Char(low), ClassItem::Char(high)) if low <= high => {
                    push_class_char(&mut self.out, low);
                    self.out.push('-');
                    push_class_char(&mut self.out, high);
                }
                (ClassItem::Char(_), ClassItem::Char(_)) => {
                    return Err(invalid(start, end - start, "the range is out of order"));
                }
                _ => {
                    let message = "a class such as `\\d` cannot end a range";
                    return Err(invalid(start, end - start, message));
                }
            }
        }
        self.last = Last::Atom;
        Ok(())
    }

    fn class_item(&mut self) -> Result<ClassItem, PatternIssue> {
        let offset = self.offset();
        let Some(c) = self.peek() else {
            return Err(invalid(offset, 0, "`[` is never closed"));
        };
        self.pos += 1;
        if c != '\\' {
            return Ok(ClassItem::Char(c));
        }
        let Some(escaped) = self.peek() else {
            return Err(invalid(offset, 1, "the pattern ends with `\\`"));
        };
        self.pos += 1;
        match escaped {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => Ok(ClassItem::Set(class_escape(
                escaped,
                self.flags.ascii,
                true,
            ))),
            'A' | 'Z' | 'B' | '8' | '9' => {
                let message = format!("`\\{escaped}` is not allowed in a character class");
                Err(invalid(offset, 2, &message))
            }
            _ => Ok(ClassItem::Char(self.char_escape(offset, escaped, true)?)),
        }
    }

    fn open_group(&mut self) -> Result<(), PatternIssue> {
        let offset = self.offset();
        self.pos += 1;
        if self.peek() != Some('?') {
            self.capture_count += 1;
            self.push_group(offset, "(");
            return Ok(());
        }
        self.pos += 1;
        let Some(kind) = self.peek() else {
            return Err(invalid(offset, 2, "`(?` is never completed"));
        };
        match kind {
            ':' => {
                self.pos += 1;
                self.push_group(offset, "(?:");
            }
            'P' => self.named_group(offset)?,
            '#' => self.comment(offset)?,
            '=' | '!' => {
                self.pos += 1;
                let help = if kind == '=' {
                    LOOKAHEAD_HELP
                } else {
                    PORT_BY_HAND
                };
                self.mark_unsupported(
                    offset,
                    format!("the lookahead `(?{kind}...)` has no equivalent in the `regex` crate"),
                    help,
                );
                self.push_group(offset, "(?:");
            }
            '<' if matches!(self.peek_at(1), Some('=' | '!')) => {
                let sign = self.peek_at(1).unwrap_or('=');
                self.pos += 2;
                let help = if sign == '=' {
                    LOOKBEHIND_HELP
                } else {
                    PORT_BY_HAND
                };
                self.mark_unsupported(
                    offset,
                    format!(
                        "the lookbehind `(?<{sign}...)` has no equivalent in the `regex` crate"
                    ),
                    help,
                );
                self.push_group(offset, "(?:");
            }
            '(' => {
                while self.peek().is_some_and(|c| c != ')') {
                    self.pos += 1;
                }
                if self.peek().is_none() {
                    return Err(invalid(offset, 3, "the condition of `(?(` is never closed"));
                }
                self.pos += 1;
                self.mark_unsupported(
                    offset,
                    "the conditional group `(?(...)...)` has no equivalent in the `regex` crate"
                        .to_owned(),
                    "write the two cases as alternatives joined by `|`, each with its group",
                );
                self.push_group(offset, "(?:");
            }
            '>' => {
                self.pos += 1;
                self.mark_unsupported(
                    offset,
                    "the atomic group `(?>...)` has no equivalent in the `regex` crate".to_owned(),
                    "write `(?:...)` when no match needs the group to give back characters",
                );
                self.push_group(offset, "(?:");
            }
            c if c == '-' || is_flag(c) => self.flag_group(offset)?,
            other => {
                let message = format!("`(?{other}` is not a group of Python's `re` module");
                return Err(invalid(offset, 2 + other.len_utf8(), &message));
            }
        }
        Ok(())
    }

    fn push_group(&mut self, offset: usize, text: &str) {
        self.groups.push(OpenGroup {
            offset,
            saved: self.flags,
        });
        self.out.push_str(text);
        self.last = Last::Nothing;
    }

    fn close_group(&mut self) -> Result<(), PatternIssue> {
        let offset = self.offset();
        let Some(group) = self.groups.pop() else {
            return Err(invalid(offset, 1, "`)` closes no group"));
        };
        self.pos += 1;
        self.flags = group.saved;
        self.out.push(')');
        self.last = Last::Atom;
        Ok(())
    }

    /// `(?P<name>...)`, or the backreference `(?P=name)`.
    fn named_group(&mut self, offset: usize) -> Result<(), PatternIssue> {
        self.pos += 1;
        let (close, is_reference) = match self.peek() {
            Some('<') => ('>', false),
            Some('=') => (')', true),
            _ => return Err(invalid(offset, 3, "`(?P` is followed by `<` or `=`")),
        };
        self.pos += 1;

        let name_start = self.pos;
        while self.peek().is_some_and(|c| c != close) {
            self.pos += 1;
        }
        if self.peek().is_none() {
            let message = format!("the group name is never closed with `{close}`");
            return Err(invalid(offset, self.offset() - offset, &message));
        }
        let name: String = self.chars[name_start..self.pos]
            .iter()
            .map(|(_, c)| *c)
            .collect();
        self.pos += 1;

        let is_identifier = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !is_identifier {
            let message = format!("`{name}` is not a group name: write letters, digits and `_`");
            return Err(invalid(offset, self.offset() - offset, &message));
        }

        if is_reference {
            if !self.group_names.contains(&name) {
                let message = format!("`(?P={name})` refers to a group that does not exist");
                return Err(invalid(offset, self.offset() - offset, &message));
            }
            self.mark_unsupported(
                offset,
                format!("the backreference `(?P={name})` has no equivalent in the `regex` crate"),
                BACKREFERENCE_HELP,
            );
            self.last = Last::Atom;
            return Ok(());
        }

        if self.group_names.contains(&name) {
            let message = format!("the group name `{name}` is used twice");
            return Err(invalid(offset, self.offset() - offset, &message));
        }
        self.group_names.push(name.clone());
        self.capture_count += 1;
        self.push_group(offset, &format!("(?P<{name}>"));
        Ok(())
    }

    /// `(?#...)`, which Python skips, so the item before it may still be
    /// repeated after it.
    fn comment(&mut self, offset: usize) -> Result<(), PatternIssue> {
        while self.peek().is_some_and(|c| c != ')') {
            self.pos += 1;
        }
        if self.peek().is_none() {
            return Err(invalid(offset, 3, "the comment `(?#` is never closed"));
        }
        self.pos += 1;
        Ok(())
    }

    /// `(?flags)` at the start of the pattern, or `(?on-off:...)` anywhere.
    fn flag_group(&mut self, offset: usize) -> Result<(), PatternIssue> {
        let mut on = String::new();
        while let Some(c) = self.peek().filter(|c| is_flag(*c)) {
            on.push(c);
            self.pos += 1;
        }
        let mut off = None;
        if self.peek() == Some('-') {
            self.pos += 1;
            let mut letters = String::new();
            while let Some(c) = self.peek().filter(|c| is_flag(*c)) {
                letters.push(c);
                self.pos += 1;
            }
            off = Some(letters);
        }
        let end = self.peek();
        let len = self.offset() - offset + usize::from(end.is_some());
        let invalid_flags = |message: &str| Err(invalid(offset, len, message));
        if on.contains('L') || off.as_deref().is_some_and(|off| off.contains('L')) {
            return invalid_flags("the flag `L` applies only to patterns of bytes");
        }
        if on.contains('a') && on.contains('u') {
            return invalid_flags("the flags `a` and `u` exclude each other");
        }
        if let Some(off) = &off {
            if off.is_empty() {
                return invalid_flags("`-` is followed by no flag");
            }
            if off.contains(['a', 'u']) {
                return invalid_flags("the flags `a` and `u` cannot be turned off");
            }
            if on.chars().any(|c| off.contains(c)) {
                return invalid_flags("a flag is turned on and off at once");
            }
        }
        match end {
            Some(')') if off.is_none() => {
                self.pos += 1;
                let is_start = self.out.is_empty() && self.groups.is_empty();
                if !is_start {
                    return invalid_flags("flags for the whole pattern must stand at its start");
                }
                self.apply_flags(&on, "");
                self.prefix.push_str(&rust_flags(&on, ""));
                Ok(())
            }
            Some(':') => {
                self.pos += 1;
                let off = off.unwrap_or_default();
                let saved = self.flags;
                self.apply_flags(&on, &off);
                let flags = rust_flags(&on, &off);
                let open = match flags.strip_prefix("(?").and_then(|f| f.strip_suffix(')')) {
                    Some(letters) => format!("(?{letters}:"),
                    None => "(?:".to_owned(),
                };
                self.groups.push(OpenGroup { offset, saved });
                self.out.push_str(&open);
                self.last = Last::Nothing;
                Ok(())
            }
            _ => invalid_flags("the flags are followed by neither `)` nor `:`"),
        }
    }

    fn apply_flags(&mut self, on: &str, off: &str) {
        for (letters, value) in [(on, true), (off, false)] {
            for c in letters.chars() {
                match c {
                    'x' => self.flags.verbose = value,
                    'm' => self.flags.multiline = value,
                    'a' => self.flags.ascii = value,
                    'u' => self.flags.ascii = false,
                    _ => {}
                }
            }
        }
    }
}

fn invalid(offset: usize, len: usize, message: &str) -> PatternIssue {
    PatternIssue::Invalid {
        offset,
        len,
        message: message.to_owned(),
    }
}

/// Tells whether `c` is an inline flag of Python's `re`: `a` ASCII, `i`
/// ignore case, `L` locale, `m` multiline, `s` dot matches newline, `u`
/// Unicode, `x` verbose.
fn is_flag(c: char) -> bool {
    matches!(c, 'a' | 'i' | 'L' | 'm' | 's' | 'u' | 'x')
}

/// Writes the flags the `regex` crate shares with Python, `i`, `m` and
/// `s`, as `(?on-off)`, or nothing when there are none.
fn rust_flags(on: &str, off: &str) -> String {
    let keep =
        |letters: &str| -> String { letters.chars().filter(|c| "ims".contains(*c)).collect() };
    let (on, off) = (keep(on), keep(off));
    match (on.is_empty(), off.is_empty()) {
        (true, true) => String::new(),
        (_, true) => format!("(?{on})"),
        _ => format!("(?{on}-{off})"),
    }
}

/// Writes `\d`, `\w`, `\s` or their negations. With the `a` flag they
/// cover ASCII only, as in Python. Inside a class, a negated ASCII set is a
/// nested class.
fn class_escape(c: char, ascii: bool, in_class: bool) -> String {
    if !ascii {
        return format!("\\{c}");
    }
    let set = match c.to_ascii_lowercase() {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        _ => r"\t\n\x0B\x0C\r ",
    };
    match (c.is_ascii_uppercase(), in_class) {
        (false, true) => set.to_owned(),
        (false, false) => format!("[{set}]"),
        (true, _) => format!("[^{set}]"),
    }
}

/// Writes a character outside classes, escaped where the crate would read
/// it otherwise.
fn push_literal(out: &mut String, c: char) {
    const META: &str = r"\.+*?()|[]{}^$#";
    if META.contains(c) {
        out.push('\\');
        out.push(c);
    } else {
        push_char(out, c);
    }
}

/// Writes a character inside a class, escaped where the crate would read
/// it as a nested class, a range or a set operation.
fn push_class_char(out: &mut String, c: char) {
    if r"[]\^-&~".contains(c) {
        out.push('\\');
        out.push(c);
    } else {
        push_char(out, c);
    }
}

/// Writes control characters as `\x{..}`, so that the pattern is printable.
fn push_char(out: &mut String, c: char) {
    if c.is_control() {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(pattern: &str) -> String {
        translate(pattern).unwrap_or_else(|issue| panic!("{pattern}: {issue:?}"))
    }

    fn unsupported(pattern: &str) -> Construct {
        match translate(pattern) {
            Err(PatternIssue::Unsupported(construct)) => construct,
            other => panic!("{pattern}: {other:?}"),
        }
    }

    fn error(pattern: &str) -> (usize, usize, String) {
        match translate(pattern) {
            Err(PatternIssue::Invalid {
                offset,
                len,
                message,
            }) => (offset, len, message),
            other => panic!("{pattern}: {other:?}"),
        }
    }

    #[test]
    fn translates_what_differs() {
        let cases = [
            ("Directory listing for .*", "Directory listing for .*"),
            ("^ready$", r"^ready(?:\n?\z)"),
            ("(?m)^ready$", "(?m)^ready$"),
            (r"done\Z", r"done\z"),
            (r"\d{2,}-\w+\s?", r"\d{2,}-\w+\s?"),
            ("a{,3}", "a{0,3}"),
            ("a{,}", "a{0,}"),
            ("a{x}", r"a\{x\}"),
            ("{}", r"\{\}"),
            ("[[]", r"[\[]"),
            ("[a&&b]", r"[a\&\&b]"),
            ("[--a]", r"[\--a]"),
            ("[~~]", r"[\~\~]"),
            ("[]a]", r"[\]a]"),
            ("[^]a]", r"[^\]a]"),
            ("[a-]", r"[a\-]"),
            ("[-a]", r"[\-a]"),
            ("[%--]", r"[%-\-]"),
            (r"[\b]", r"[\x{8}]"),
            (r"\<tag\>", r"<tag>"),
            (r"\x41\u00e9\U0001F600", "Aé😀"),
            (r"\0\101", r"\x{0}A"),
            (r"[\101-\132]", "[A-Z]"),
            (r"\a\v", r"\x{7}\x{B}"),
            ("(?P<version>v\\d+)", r"(?P<version>v\d+)"),
            ("(?i)up", "(?i)up"),
            ("(?x) u p  # a comment\n $", r"up(?:\n?\z)"),
            ("(?x)[ ]a", "[ ]a"),
            (r"(?x)a\ b\#", r"a b\#"),
            ("(?s-i:a.)b", "(?s-i:a.)b"),
            ("(?x:a b)c d", "(?:ab)c d"),
            ("(?m:^a$)$", r"(?m:^a$)(?:\n?\z)"),
            ("a(?#note)*", "a*"),
            ("(?u)a", "a"),
            (
                r"(?a)\d\W[\w.]\b",
                r"[0-9][^0-9A-Za-z_][0-9A-Za-z_.](?-u:\b)",
            ),
            ("a*?b+?c??d{2}?", "a*?b+?c??d{2}?"),
            ("a|b|", "a|b|"),
            ("tab\there", r"tab\x{9}here"),
        ];
        for (python, rust) in cases {
            assert_eq!(ok(python), rust, "translation of {python:?}");
        }
    }

    #[test]
    fn translated_dollar_matches_before_final_newline() {
        let pattern = regex::Regex::new(&ok("^ready$")).unwrap();
        assert!(pattern.is_match("ready\n"));
        assert!(pattern.is_match("ready"));
        assert!(!pattern.is_match("ready\n\n"));
        assert!(!pattern.is_match("ready now"));
    }

    #[test]
    fn reports_constructs_without_equivalent() {
        // Each pattern, the place of the construct, and how its reason starts.
        let cases = [
            (r"(a)\1", 3, 2, "the backreference `\\1`"),
            ("(?P<x>a)(?P=x)", 8, 6, "the backreference `(?P=x)`"),
            ("a(?=b)", 1, 3, "the lookahead `(?=...)`"),
            ("a(?!b)", 1, 3, "the lookahead `(?!...)`"),
            ("(?<=a)b", 0, 4, "the lookbehind `(?<=...)`"),
            ("(?<!a)b", 0, 4, "the lookbehind `(?<!...)`"),
            ("(a)?(?(1)b|c)", 4, 5, "the conditional group"),
            ("(?>a+)b", 0, 3, "the atomic group"),
            ("xa*+", 2, 2, "the possessive repetition `*+`"),
            ("a{2,3}+", 1, 6, "the possessive repetition `{2,3}+`"),
            (
                r"-\N{EM DASH}",
                1,
                11,
                "`\\N{...}` names a Unicode character",
            ),
            (r"\ud800", 0, 6, "the surrogate code point U+D800"),
            (
                "a{1000000}",
                0,
                10,
                "the `regex` crate rejects the translated pattern",
            ),
            // Only the first construct is reported.
            ("(?=a)(?<=b)", 0, 3, "the lookahead `(?=...)`"),
        ];
        for (pattern, offset, len, start) in cases {
            let construct = unsupported(pattern);
            assert_eq!(construct.offset, offset, "offset in {pattern:?}");
            assert_eq!(construct.len, len, "length in {pattern:?}");
            assert!(
                construct.reason.starts_with(start),
                "{pattern}: {}",
                construct.reason
            );
            assert!(!construct.help.is_empty(), "{pattern}: no help");
        }
    }

    #[test]
    fn reports_invalid_patterns_where_they_fail() {
        let cases = [
            ("(ab", 0, 1, "`(` is never closed"),
            ("ab)", 2, 1, "`)` closes no group"),
            ("a[bc", 1, 1, "`[` is never closed"),
            ("*a", 0, 1, "`*` repeats nothing"),
            ("a|+", 2, 1, "`+` repeats nothing"),
            ("^*", 1, 1, "`*` repeats nothing"),
            ("a**", 2, 1, "`*` repeats a repetition"),
            ("a{2}{3}", 4, 3, "`{3}` repeats a repetition"),
            ("a{3,2}", 1, 5, "`{3,2}` has a minimum above its maximum"),
            (
                r"a\q",
                1,
                2,
                "`\\q` is not an escape of Python's `re` module",
            ),
            ("a\\", 1, 1, "the pattern ends with `\\`"),
            (r"\x4", 0, 3, "the escape needs 2 hexadecimal digits"),
            (
                r"\U00110000",
                0,
                10,
                "U+110000 is above the last code point, U+10FFFF",
            ),
            (r"\777", 0, 4, "the octal escape is 511, above 0o377"),
            (
                r"(a)\2",
                3,
                2,
                "`\\2` refers to a group that does not exist",
            ),
            ("[z-a]", 1, 3, "the range is out of order"),
            (r"[\d-z]", 1, 4, "a class such as `\\d` cannot end a range"),
            (r"[\A]", 1, 2, "`\\A` is not allowed in a character class"),
            (
                "(?<name>a)",
                0,
                3,
                "`(?<` is not a group of Python's `re` module",
            ),
            (
                "(?P<1a>x)",
                0,
                7,
                "`1a` is not a group name: write letters, digits and `_`",
            ),
            ("(?P<a>x)(?P<a>y)", 8, 6, "the group name `a` is used twice"),
            (
                "(?P=b)",
                0,
                6,
                "`(?P=b)` refers to a group that does not exist",
            ),
            (
                "a(?i)b",
                1,
                4,
                "flags for the whole pattern must stand at its start",
            ),
            (
                "(?L)a",
                0,
                4,
                "the flag `L` applies only to patterns of bytes",
            ),
            ("(?au)a", 0, 5, "the flags `a` and `u` exclude each other"),
            ("(?i-i:a)", 0, 6, "a flag is turned on and off at once"),
            (
                "(?-a:a)",
                0,
                5,
                "the flags `a` and `u` cannot be turned off",
            ),
            ("(?i", 0, 3, "the flags are followed by neither `)` nor `:`"),
            ("(?#x", 0, 3, "the comment `(?#` is never closed"),
        ];
        for (pattern, offset, len, message) in cases {
            assert_eq!(
                error(pattern),
                (offset, len, message.to_owned()),
                "error for {pattern:?}"
            );
        }
    }
}
