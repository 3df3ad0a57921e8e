//! The reserved words of the language, for the tools that produce or
//! highlight `.chaos` text without parsing it (the importer, the language
//! server). The grammar's `keyword` rule is the definition; a test keeps
//! this list equal to it.

/// Words of the language that can never be names.
pub const KEYWORDS: &[&str] = &[
    "use",
    "service",
    "target",
    "fault",
    "experiment",
    "probe",
    "step",
    "inject",
    "on",
    "for",
    "after",
    "stop",
    "when",
    "success",
    "steady_state",
    "recovery",
    "plan",
    "action",
    "expect",
    "and",
    "or",
    "not",
    "true",
    "false",
    "with",
    "in",
    "alert",
    "channel",
    "framework",
    "template",
];

#[cfg(test)]
mod tests {
    use super::KEYWORDS;

    #[test]
    fn every_listed_word_is_reserved() {
        for keyword in KEYWORDS {
            let text = format!("target {keyword} = process {{ command = [\"true\"] }}\n");
            assert!(
                super::super::parse_file(&text).is_err(),
                "`{keyword}` parses as a name"
            );
        }
    }

    #[test]
    fn grammar_reserves_nothing_else() {
        let grammar = include_str!("../../grammar/chaos.pest");
        let rule = grammar
            .split("keyword = @{")
            .nth(1)
            .unwrap()
            .split('}')
            .next()
            .unwrap();
        let reserved: Vec<&str> = rule
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|word| word.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .collect();
        let mut listed = KEYWORDS.to_vec();
        let mut found = reserved.clone();
        listed.sort_unstable();
        found.sort_unstable();
        assert_eq!(listed, found);
    }
}
