//! Syntax errors, converted from pest's errors into diagnostics that point at
//! the offending token and name what could have been written there.

use std::collections::BTreeSet;

use miette::{Diagnostic, SourceSpan};
use pest::error::{ErrorVariant, InputLocation};
use thiserror::Error;

use super::Span;
use super::parser::Rule;
use super::units;

/// A `.chaos` text that does not follow the grammar.
#[derive(Debug, Error, Diagnostic)]
pub enum SyntaxError {
    /// The parser met a token that no rule allows at that place.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(chaos::E0001))]
    UnexpectedToken {
        expected: String,
        found: String,
        #[label("unexpected {found}")]
        span: SourceSpan,
        #[help]
        help: Option<String>,
    },

    /// Brackets, braces, parentheses or block comments nest deeper than the
    /// parser can follow without exhausting its stack.
    #[error("nesting deeper than {limit} levels")]
    #[diagnostic(
        code(chaos::E0002),
        help(
            "move the inner values to separate settings, because brackets, braces, \
             parentheses and block comments nest at most {limit} levels"
        )
    )]
    TooDeep {
        limit: usize,
        #[label("opened past the limit")]
        span: SourceSpan,
    },

    /// A carriage return that does not end a line, which a terminal shows
    /// as a jump to the start of the line.
    #[error("carriage return without a line feed")]
    #[diagnostic(
        code(chaos::E0003),
        help(
            "end lines with `\\n` or `\\r\\n`, because a terminal shows text after a lone \
             `\\r` over the start of its line"
        )
    )]
    LoneCarriageReturn {
        #[label("lone `\\r`")]
        span: SourceSpan,
    },
}

impl SyntaxError {
    /// Converts a pest error into a diagnostic over the whole source text.
    pub(super) fn from_pest(error: &pest::error::Error<Rule>, source: &str) -> Self {
        let position = match error.location {
            InputLocation::Pos(position) => position,
            InputLocation::Span((start, _)) => start,
        };
        let mut expected = BTreeSet::new();
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            expected.extend(positives.iter().filter_map(|rule| describe_rule(*rule)));
        }
        if let Some(attempts) = error.parse_attempts() {
            expected.extend(
                attempts
                    .expected_tokens()
                    .iter()
                    .filter_map(|token| describe_token(&token.to_string())),
            );
        }
        expected.remove("");

        let mut span = token_at(source, position);
        let mut help = help_for(source, span, &expected);
        let mut expected = join_alternatives(expected.into_iter().collect());
        // The parser reads `10 s` as the number 10 and a name `s`, so it
        // fails later, often on the next line. The error points at the pair.
        if let Some((spaced, joined)) = spaced_unit(source, span) {
            span = spaced;
            expected = "a unit written right after its number".to_owned();
            help = Some(format!(
                "write the unit right after its number, with no space: `{joined}`"
            ));
        }
        let found = describe_found(source, span);
        SyntaxError::UnexpectedToken {
            expected,
            found,
            span: span.into(),
            help,
        }
    }

    /// Returns the span the error points at.
    pub fn span(&self) -> Span {
        match self {
            SyntaxError::UnexpectedToken { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::LoneCarriageReturn { span } => {
                Span::new(span.offset(), span.offset() + span.len())
            }
        }
    }
}

/// Returns how a rule is named in "expected ..." messages, or `None` for
/// rules that only group others and would add noise.
fn describe_rule(rule: Rule) -> Option<String> {
    let text = match rule {
        Rule::EOI => "end of file",
        Rule::item => "a declaration (`use`, `service`, `target`, `fault` or `experiment`)",
        Rule::ident | Rule::name_value | Rule::property_key => "a name",
        Rule::value
        | Rule::string
        | Rule::quantity
        | Rule::number
        | Rule::list
        | Rule::map
        | Rule::boolean
        | Rule::signal
        | Rule::address
        | Rule::money => "a value",
        Rule::unit => "a unit",
        Rule::experiment_entry => {
            "an experiment entry (a setting, `probe`, `step`, `stop when`, `success` or `recovery plan`)"
        }
        Rule::block_entry | Rule::property | Rule::section | Rule::map_entry => {
            "a `key = value` setting"
        }
        Rule::step_clause => "`for`, `after` or `with probability`",
        Rule::probe_clause | Rule::probe_arg => "a probe argument, `expect`, `within` or `every`",
        Rule::action_clause | Rule::action_arg => {
            "an action argument, `timeout`, `priority`, `retries` or `after`"
        }
        Rule::compare_op => "a comparison operator",
        Rule::label_op => "`==` or `!=`",
        Rule::l_brace => "`{`",
        Rule::r_brace => "`}`",
        Rule::l_paren => "`(`",
        Rule::r_paren => "`)`",
        Rule::l_bracket => "`[`",
        Rule::r_bracket => "`]`",
        Rule::assign => "`=`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::path_sep => "`::`",
        Rule::type_name => "a type",
        Rule::param => "a parameter",
        Rule::argument => "an argument",
        Rule::selector | Rule::label_selector => "a target name or `targets(...)`",
        Rule::condition | Rule::comparison | Rule::operand | Rule::conjunction => "a condition",
        Rule::tolerance => "an expectation such as `status == 200`",
        Rule::field_argument => "`(` and a string",
        Rule::action_decl => "`action`",
        Rule::probe_decl => "`probe`",
        Rule::fault_call => "a fault name",
        _ => return None,
    };
    Some(text.to_owned())
}

/// Names a literal token the parser expected, keeping keywords and
/// punctuation and leaving out character classes.
fn describe_token(token: &str) -> Option<String> {
    const PUNCTUATION: &[&str] = &[
        "{", "}", "(", ")", "[", "]", "=", ",", ":", "::", "==", "!=", "<", "<=", ">", ">=",
    ];
    let is_word = token.len() > 1
        && token.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        && token != "true"
        && token != "false";
    (is_word || PUNCTUATION.contains(&token)).then(|| format!("`{token}`"))
}

/// Finds the span of the word or character at `position`.
fn token_at(source: &str, position: usize) -> Span {
    let position = position.min(source.len());
    let rest = &source[position..];
    let Some(first) = rest.chars().next() else {
        return Span::new(position, position);
    };
    let length = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    Span::new(position, position + length)
}

fn describe_found(source: &str, span: Span) -> String {
    if span.start >= source.len() {
        return "end of file".to_owned();
    }
    let text = &source[span.start..span.end];
    match text {
        "\n" | "\r" => "end of line".to_owned(),
        _ if text.chars().all(char::is_control) => format!("{text:?}"),
        _ => format!("`{text}`"),
    }
}

/// Suggests a fix for the mistakes that are easy to recognise.
fn help_for(source: &str, span: Span, expected: &BTreeSet<String>) -> Option<String> {
    let text = source.get(span.start..span.end).unwrap_or("");
    if is_reserved(text) && expected.iter().any(|e| e == "a name") {
        return Some(format!("`{text}` is a keyword; choose another name"));
    }
    if expected.contains("`inject`") {
        return Some("a step reads `step NAME = inject FAULT(ARGS) on TARGET`".to_owned());
    }
    if span.start >= source.len() && expected.contains("`}`") {
        return Some("a `}` is missing; check that every `{` is closed".to_owned());
    }
    None
}

/// Finds a number and a unit written apart (`10 s`) at the error or right
/// before it, and returns their span with the two joined (`10s`).
fn spaced_unit(source: &str, error: Span) -> Option<(Span, String)> {
    let at_error = source.get(error.start..error.end).unwrap_or("");
    let unit_end = if units::is_unit(at_error) {
        error.end
    } else {
        source[..error.start.min(source.len())].trim_end().len()
    };
    let unit_start = start_of_run(&source[..unit_end], |c| {
        c.is_ascii_alphabetic() || c == '/' || c == '%'
    });
    let unit = &source[unit_start..unit_end];
    if !units::is_unit(unit) {
        return None;
    }
    let number_end = source[..unit_start].trim_end_matches([' ', '\t']).len();
    if number_end == unit_start {
        return None;
    }
    let number_start = start_of_run(&source[..number_end], |c| c.is_ascii_digit() || c == '.');
    let number = &source[number_start..number_end];
    if !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((Span::new(number_start, unit_end), format!("{number}{unit}")))
}

/// Returns the offset where the run of characters matching `keep` at the
/// end of `text` starts, on a character boundary.
fn start_of_run(text: &str, keep: impl Fn(char) -> bool) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| !keep(*c))
        .map_or(0, |(index, c)| index + c.len_utf8())
}

fn is_reserved(text: &str) -> bool {
    use pest::Parser as _;
    super::parser::ChaosGrammar::parse(Rule::keyword, text).is_ok_and(|mut pairs| {
        pairs
            .next()
            .is_some_and(|pair| pair.as_str().len() == text.len())
    })
}

/// Joins alternatives as "a, b or c".
fn join_alternatives(mut items: Vec<String>) -> String {
    match items.len() {
        0 => "something else".to_owned(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap();
            format!("{} or {}", items.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the span of the last character of `source`, as the parser
    /// reports an error there.
    fn at_end(source: &str) -> Span {
        Span::new(source.len() - 1, source.len())
    }

    #[test]
    fn spaced_unit_found_before_error() {
        let source = "é 10 s\n}";
        let found = spaced_unit(source, at_end(source));
        assert_eq!(found, Some((Span::new(3, 7), "10s".to_owned())));
    }

    #[test]
    fn spaced_unit_ignores_multibyte_words() {
        for source in ["é\n}", "10 é\n}", "é s\n}", "10é s\n}"] {
            assert_eq!(spaced_unit(source, at_end(source)), None, "{source:?}");
        }
    }
}
