//! The pest parser and the conversion of its parse tree into the AST.

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use super::line_endings::check_line_endings;
use super::nesting::check_nesting;
use super::{Span, SyntaxError};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/chaos.pest"]
pub(super) struct ChaosGrammar;

/// The maximum number of syntax errors reported for one file. Past this
/// many, the rest are mostly consequences of the first ones.
const MAX_SYNTAX_ERRORS: usize = 20;

/// The words that start a top-level declaration, where the parser resumes
/// after a syntax error.
const ITEM_KEYWORDS: &[&str] = &[
    "use",
    "service",
    "target",
    "fault",
    "experiment",
    "alert",
    "channel",
    "template",
    "policy",
];

/// Parses the text of one `.chaos` file, reporting every syntax error it
/// can find rather than only the first.
pub fn parse_file(source: &str) -> Result<File, Vec<SyntaxError>> {
    check_line_endings(source).map_err(|error| vec![error])?;
    check_nesting(source).map_err(|error| vec![error])?;
    match ChaosGrammar::parse(Rule::file, source) {
        Ok(mut pairs) => {
            let file = pairs
                .next()
                .expect("the `file` rule always yields one pair");
            Ok(build_file(file, source))
        }
        Err(_) => Err(collect_syntax_errors(source)),
    }
}

fn build_file(file: Pair<'_, Rule>, source: &str) -> File {
    let mut items = Vec::new();
    for pair in file.into_inner() {
        if pair.as_rule() == Rule::item {
            items.push(parse_item(inner_one(pair), source));
        }
    }
    File { items }
}

/// Finds the syntax errors of an invalid text. After each error the
/// declaration that contains it is blanked out (replaced by spaces, newlines
/// kept, so that every offset stays valid) and the text is parsed again, so
/// the parser resumes at the next line that starts a top-level declaration.
fn collect_syntax_errors(source: &str) -> Vec<SyntaxError> {
    // Attempt tracking names the keywords and punctuation that could follow.
    // It slows parsing, so it is only turned on once a text is known to be
    // invalid. It stays on for the rest of the process, so that messages do
    // not depend on which thread parsed first.
    pest::set_error_detail(true);
    let item_starts = item_line_starts(source);
    let mut text = source.as_bytes().to_vec();
    let mut errors = Vec::new();

    while errors.len() < MAX_SYNTAX_ERRORS {
        let current = std::str::from_utf8(&text).expect("blanking keeps the text UTF-8");
        let Err(error) = ChaosGrammar::parse(Rule::file, current) else {
            break;
        };
        let syntax_error = SyntaxError::from_pest(&error, source);
        let position = syntax_error.span().start;
        errors.push(syntax_error);

        let (start, end) = recovery_region(&item_starts, position, source.len());
        let region = &mut text[start..end];
        if region.iter().all(u8::is_ascii_whitespace) {
            // Nothing left to skip: a further parse would find the same error.
            break;
        }
        for byte in region.iter_mut().filter(|byte| **byte != b'\n') {
            *byte = b' ';
        }
    }
    errors
}

/// Chooses the bytes to skip after an error at `position`. An error right at
/// the start of a declaration belongs to the one before it, usually as a
/// missing `}`. Any other error skips its own declaration.
fn recovery_region(item_starts: &[usize], position: usize, len: usize) -> (usize, usize) {
    let index = item_starts.partition_point(|&start| start <= position);
    let at_item_start = index > 0 && item_starts[index - 1] == position;
    if at_item_start {
        let start = if index >= 2 {
            item_starts[index - 2]
        } else {
            0
        };
        return (start, position);
    }
    let start = if index >= 1 {
        item_starts[index - 1]
    } else {
        0
    };
    let end = item_starts.get(index).copied().unwrap_or(len);
    (start, end)
}

/// Returns the offsets of the first word of every line that starts with a
/// top-level keyword.
fn item_line_starts(source: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let is_item = ITEM_KEYWORDS.iter().any(|keyword| {
            trimmed.strip_prefix(keyword).is_some_and(|rest| {
                !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if is_item {
            starts.push(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    starts
}

/// Returns the last child of a pair, such as the value after a clause word.
fn last_child(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    pair.into_inner()
        .last()
        .expect("the grammar guarantees a child")
}

fn parse_alert(pair: Pair<'_, Rule>) -> AlertDecl {
    let span: Span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let name = parse_ident(inner.next().unwrap());
    let mut alert = AlertDecl {
        name,
        block: Block {
            span,
            ..Block::default()
        },
        thresholds: Vec::new(),
        span,
    };
    for entry in inner.filter(|p| p.as_rule() == Rule::alert_entry) {
        let entry = inner_one(entry);
        match entry.as_rule() {
            Rule::threshold_decl => alert.thresholds.push(parse_threshold(entry)),
            Rule::property => alert.block.properties.push(parse_property(entry)),
            Rule::section => alert.block.sections.push(parse_section(entry)),
            rule => unreachable!("`alert_entry` never holds {rule:?}"),
        }
    }
    alert
}

fn parse_threshold(pair: Pair<'_, Rule>) -> ThresholdDecl {
    let span = pair.as_span().into();
    let mut metric = None;
    let mut op = None;
    let mut values = Vec::new();
    let mut severity = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::metric => metric = Some(parse_value(inner_one(part))),
            Rule::threshold_op => op = Some(part.as_str().to_owned()),
            Rule::value => values.push(parse_value(part)),
            Rule::ident => severity = Some(parse_ident(part)),
            _ => {}
        }
    }
    let op_text = op.expect("a threshold has an operator");
    let op = match op_text.as_str() {
        "gt" | ">" => CompareOp::Gt,
        "lt" | "<" => CompareOp::Lt,
        "ge" | ">=" => CompareOp::Ge,
        "le" | "<=" => CompareOp::Le,
        "eq" | "==" => CompareOp::Eq,
        _ => CompareOp::Ne,
    };
    let mut values = values.into_iter();
    let value = values.next().expect("a threshold has a value");
    ThresholdDecl {
        metric: metric.expect("a threshold has a metric"),
        op,
        op_text,
        value,
        hold: values.next(),
        severity,
        span,
    }
}

/// Returns the single child of a pair whose rule wraps exactly one rule.
fn inner_one(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    pair.into_inner()
        .next()
        .expect("the grammar guarantees one child")
}

fn parse_item(pair: Pair<'_, Rule>, source: &str) -> Item {
    match pair.as_rule() {
        Rule::use_decl => Item::Use(parse_use(pair)),
        Rule::service_decl => {
            let span = pair.as_span().into();
            let mut inner = pair.into_inner();
            let name = parse_ident(inner.next().unwrap());
            let block = parse_block(inner.next().unwrap());
            Item::Service(ServiceDecl { name, block, span })
        }
        Rule::target_decl => {
            let span = pair.as_span().into();
            let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
            let name = parse_ident(inner.next().unwrap());
            let kind = parse_ident(inner.next().unwrap());
            let block = parse_block(inner.next().unwrap());
            Item::Target(TargetDecl {
                name,
                kind,
                block,
                span,
            })
        }
        Rule::fault_decl => Item::Fault(parse_fault_decl(pair, source)),
        Rule::experiment_decl => Item::Experiment(parse_experiment(pair)),
        Rule::import_decl => {
            let span = pair.as_span().into();
            let string = inner_one(pair);
            let path_span = string.as_span().into();
            let path = unescape(inner_one(string).as_str());
            Item::Import(ImportDecl {
                path,
                path_span,
                span,
            })
        }
        Rule::channel_decl => {
            let span = pair.as_span().into();
            let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
            let name = parse_ident(inner.next().unwrap());
            let kind = parse_ident(inner.next().unwrap());
            let block = parse_block(inner.next().unwrap());
            Item::Channel(ChannelDecl {
                name,
                kind,
                block,
                span,
            })
        }
        Rule::framework_decl => {
            let span = pair.as_span().into();
            let mut inner = pair.into_inner();
            let name = parse_ident(inner.next().unwrap());
            let block = parse_block(inner.next().unwrap());
            Item::Framework(FrameworkDecl { name, block, span })
        }
        Rule::alert_decl => Item::Alert(parse_alert(pair)),
        Rule::template_decl => Item::Template(parse_template(pair, source)),
        rule => unreachable!("`item` never holds {rule:?}"),
    }
}

fn parse_ident(pair: Pair<'_, Rule>) -> Ident {
    debug_assert_eq!(pair.as_rule(), Rule::ident);
    Ident {
        name: pair.as_str().to_owned(),
        span: pair.as_span().into(),
    }
}

fn parse_use(pair: Pair<'_, Rule>) -> UseDecl {
    let span: Span = pair.as_span().into();
    let mut module = Vec::new();
    let mut names = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::module_name => module.push(Ident {
                name: part.as_str().to_owned(),
                span: part.as_span().into(),
            }),
            Rule::use_group => {
                let group = part.into_inner().filter(|p| p.as_rule() == Rule::ident);
                names = Some(UseNames::Names(group.map(parse_ident).collect()));
            }
            Rule::star => names = Some(UseNames::Glob(part.as_span().into())),
            _ => {}
        }
    }

    // `use std::faults::latency` imports its last segment.
    let names = match names {
        Some(names) => names,
        None => {
            let last = module.pop().expect("a `use` path has at least one name");
            UseNames::Names(vec![last])
        }
    };
    UseDecl {
        module,
        names,
        span,
    }
}

fn parse_fault_decl(pair: Pair<'_, Rule>, source: &str) -> FaultDecl {
    let span: Span = pair.as_span().into();
    let mut name = None;
    let mut params = Vec::new();
    let mut block = Block::default();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::ident => name = Some(parse_ident(part)),
            Rule::param => params.push(parse_param(part)),
            Rule::block => block = parse_block(part),
            _ => {}
        }
    }
    let doc = doc_comment_before(source, span.start);
    FaultDecl {
        name: name.expect("a fault has a name"),
        params,
        block,
        doc,
        span,
    }
}

/// Collects the `///` lines directly above byte offset `start`.
fn doc_comment_before(source: &str, start: usize) -> String {
    let above = source[..start].rfind('\n').map_or("", |end| &source[..end]);
    let mut lines = Vec::new();
    for line in above.lines().rev() {
        match line.trim_start().strip_prefix("///") {
            Some(text) => lines.push(text.trim()),
            None => break,
        }
    }
    lines.reverse();
    lines.join("\n")
}

fn parse_param(pair: Pair<'_, Rule>) -> Param {
    let span = pair.as_span().into();
    let mut inner = pair
        .into_inner()
        .filter(|p| !matches!(p.as_rule(), Rule::colon | Rule::assign));
    let name = parse_ident(inner.next().unwrap());
    let type_pair = inner.next().unwrap();
    let is_list = type_pair.as_str().starts_with('[');
    let type_ident = type_pair
        .into_inner()
        .find(|p| p.as_rule() == Rule::ident)
        .unwrap();
    let ty = TypeName {
        name: parse_ident(type_ident),
        is_list,
    };
    let default = inner.next().map(parse_value);
    Param {
        name,
        ty,
        default,
        span,
    }
}

fn parse_block(pair: Pair<'_, Rule>) -> Block {
    let mut block = Block {
        span: pair.as_span().into(),
        ..Block::default()
    };
    for entry in pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::block_entry)
    {
        let entry = inner_one(entry);
        match entry.as_rule() {
            Rule::property => block.properties.push(parse_property(entry)),
            Rule::section => block.sections.push(parse_section(entry)),
            rule => unreachable!("`block_entry` never holds {rule:?}"),
        }
    }
    block
}

fn parse_property(pair: Pair<'_, Rule>) -> Property {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
    let key_pair = inner.next().unwrap();
    let key = Ident {
        name: key_pair.as_str().to_owned(),
        span: key_pair.as_span().into(),
    };
    let value = parse_value(inner.next().unwrap());
    Property { key, value, span }
}

fn parse_section(pair: Pair<'_, Rule>) -> Section {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let name = parse_ident(inner.next().unwrap());
    let block = parse_block(inner.next().unwrap());
    Section { name, block, span }
}

fn parse_value(pair: Pair<'_, Rule>) -> Value {
    let pair = match pair.as_rule() {
        Rule::value => inner_one(pair),
        _ => pair,
    };
    let span: Span = pair.as_span().into();
    let kind = match pair.as_rule() {
        Rule::string => ValueKind::String(unescape(inner_one(pair).as_str())),
        Rule::boolean => ValueKind::Bool(pair.as_str() == "true"),
        Rule::signal => ValueKind::Signal(pair.as_str().to_owned()),
        Rule::address => ValueKind::Address(pair.as_str().to_owned()),
        Rule::money => {
            let mut inner = pair.into_inner();
            let amount = inner.next().unwrap().as_str().parse().unwrap_or(f64::NAN);
            let currency = inner.next().unwrap().as_str().to_owned();
            ValueKind::Money { amount, currency }
        }
        Rule::quantity => {
            let text = pair.as_str().to_owned();
            let mut inner = pair.into_inner();
            let number_text = inner.next().unwrap().as_str();
            let number = number_text.parse().unwrap_or(f64::NAN);
            let unit = inner.next().map(|unit| unit.as_str().to_owned());
            ValueKind::Quantity { number, text, unit }
        }
        Rule::list => {
            let items = pair.into_inner().filter(|p| p.as_rule() == Rule::value);
            ValueKind::List(items.map(parse_value).collect())
        }
        Rule::map => {
            let entries = pair.into_inner().filter(|p| p.as_rule() == Rule::map_entry);
            ValueKind::Map(entries.map(parse_map_entry).collect())
        }
        Rule::call_value => {
            let mut inner = pair.into_inner();
            let name = parse_ident(inner.next().unwrap());
            let args = inner
                .filter(|p| p.as_rule() == Rule::value)
                .map(parse_value)
                .collect();
            ValueKind::Call { name, args }
        }
        Rule::name_value => {
            let parts = pair.into_inner().filter(|p| p.as_rule() == Rule::ident);
            ValueKind::Name(parts.map(parse_ident).collect())
        }
        rule => unreachable!("`value` never holds {rule:?}"),
    };
    Value { kind, span }
}

fn parse_map_entry(pair: Pair<'_, Rule>) -> MapEntry {
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
    let key_pair = inner.next().unwrap();
    let key_span = key_pair.as_span().into();
    let key = match key_pair.as_rule() {
        Rule::string => unescape(inner_one(key_pair).as_str()),
        _ => key_pair.as_str().to_owned(),
    };
    let value = parse_value(inner.next().unwrap());
    MapEntry {
        key,
        key_span,
        value,
    }
}

/// Resolves the escapes of a string literal's inner text.
fn unescape(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => text.push('\n'),
            Some('t') => text.push('\t'),
            Some(quoted @ ('"' | '\\')) => text.push(quoted),
            // Any other backslash stays as written, as in `"\d+"`.
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => {}
        }
    }
    text
}

fn parse_experiment(pair: Pair<'_, Rule>) -> ExperimentDecl {
    let span: Span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let name = parse_ident(inner.next().unwrap());
    let mut experiment = ExperimentDecl {
        name,
        block: Block {
            span,
            ..Block::default()
        },
        probes: Vec::new(),
        steps: Vec::new(),
        stop_conditions: Vec::new(),
        success: Vec::new(),
        success_span: None,
        recovery_plans: Vec::new(),
        span,
    };

    for entry in inner.filter(|p| p.as_rule() == Rule::experiment_entry) {
        let entry = inner_one(entry);
        match entry.as_rule() {
            Rule::steady_state => {
                let probes = entry
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::probe_decl);
                experiment
                    .probes
                    .extend(probes.map(|probe| parse_probe(probe, true)));
            }
            Rule::probe_decl => experiment.probes.push(parse_probe(entry, false)),
            Rule::step_decl => experiment.steps.push(parse_step(entry)),
            Rule::stop_decl => {
                let condition = entry.into_inner().find(|p| p.as_rule() == Rule::condition);
                experiment
                    .stop_conditions
                    .push(parse_condition(condition.unwrap()));
            }
            Rule::success_decl => {
                experiment.success_span = Some(entry.as_span().into());
                let conditions = entry
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::condition);
                experiment.success.extend(conditions.map(parse_condition));
            }
            Rule::recovery_decl => experiment.recovery_plans.push(parse_recovery(entry)),
            Rule::property => experiment.block.properties.push(parse_property(entry)),
            Rule::section => experiment.block.sections.push(parse_section(entry)),
            rule => unreachable!("`experiment_entry` never holds {rule:?}"),
        }
    }
    experiment
}

fn parse_probe(pair: Pair<'_, Rule>, is_steady_state: bool) -> ProbeDecl {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
    let name = parse_ident(inner.next().unwrap());
    let kind = parse_ident(inner.next().unwrap());
    let mut probe = ProbeDecl {
        name,
        kind,
        args: Vec::new(),
        expectations: Vec::new(),
        within: None,
        every: None,
        settings: None,
        is_steady_state,
        span,
    };

    for part in inner {
        match part.as_rule() {
            Rule::probe_arg => probe.args.push(parse_value(inner_one(part))),
            Rule::probe_clause => {
                let clause = inner_one(part);
                match clause.as_rule() {
                    Rule::expect_clause => {
                        let tolerances = clause.into_inner().flat_map(parse_tolerance);
                        probe.expectations.extend(tolerances);
                    }
                    Rule::within_clause => probe.within = Some(parse_value(inner_one(clause))),
                    Rule::every_clause => probe.every = Some(parse_value(inner_one(clause))),
                    Rule::probe_settings => probe.settings = Some(parse_block(inner_one(clause))),
                    rule => unreachable!("`probe_clause` never holds {rule:?}"),
                }
            }
            rule => unreachable!("`probe_decl` never holds {rule:?}"),
        }
    }
    probe
}

/// Parses one tolerance; a range becomes two.
fn parse_tolerance(pair: Pair<'_, Rule>) -> Vec<Tolerance> {
    let span: Span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let field = parse_ident(inner.next().unwrap());
    let mut next = inner.next().unwrap();
    let mut argument = None;
    if next.as_rule() == Rule::field_argument {
        argument = next
            .into_inner()
            .find(|part| part.as_rule() == Rule::string)
            .map(parse_value);
        next = inner.next().unwrap();
    }
    let tolerance = |op, value, regex| Tolerance {
        field: field.clone(),
        argument: argument.clone(),
        op,
        value,
        regex,
        span,
    };
    match next.as_rule() {
        Rule::range_tolerance => {
            let mut ends = next
                .into_inner()
                .filter(|part| part.as_rule() == Rule::value)
                .map(parse_value);
            let low = ends.next().unwrap();
            let high = ends.next().unwrap();
            vec![
                tolerance(CompareOp::Ge, low, false),
                tolerance(CompareOp::Le, high, false),
            ]
        }
        Rule::match_op => {
            let value = parse_value(inner.next().unwrap());
            vec![tolerance(CompareOp::Eq, value, true)]
        }
        _ => {
            let op = parse_compare_op(next);
            let value = parse_value(inner.next().unwrap());
            vec![tolerance(op, value, false)]
        }
    }
}

fn parse_compare_op(pair: Pair<'_, Rule>) -> CompareOp {
    match pair.as_str() {
        "==" => CompareOp::Eq,
        "!=" => CompareOp::Ne,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Le,
        ">" => CompareOp::Gt,
        ">=" => CompareOp::Ge,
        other => unreachable!("`compare_op` never matches {other:?}"),
    }
}

fn parse_step(pair: Pair<'_, Rule>) -> StepDecl {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
    let name = parse_ident(inner.next().unwrap());
    let fault = parse_fault_call(inner.next().unwrap());
    let selector = parse_selector(inner.next().unwrap());
    let mut step = StepDecl {
        name,
        fault,
        selector,
        hold: None,
        after: Vec::new(),
        probability: None,
        ramp: None,
        rate: None,
        irreversible: None,
        span,
    };

    for clause in inner {
        let clause = inner_one(clause);
        match clause.as_rule() {
            Rule::for_clause => step.hold = Some(parse_value(inner_one(clause))),
            Rule::after_clause => step.after.extend(parse_after(clause)),
            Rule::probability_clause => step.probability = Some(parse_value(inner_one(clause))),
            Rule::ramp_clause => step.ramp = Some(parse_value(last_child(clause))),
            Rule::rate_clause => step.rate = Some(parse_value(last_child(clause))),
            Rule::irreversible_clause => step.irreversible = Some(clause.as_span().into()),
            rule => unreachable!("`step_clause` never holds {rule:?}"),
        }
    }
    step
}

fn parse_after(pair: Pair<'_, Rule>) -> Vec<Ident> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::ident)
        .map(parse_ident)
        .collect()
}

fn parse_fault_call(pair: Pair<'_, Rule>) -> FaultCall {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let name = parse_ident(inner.next().unwrap());
    let args = inner
        .filter(|p| p.as_rule() == Rule::argument)
        .map(parse_argument)
        .collect();
    FaultCall { name, args, span }
}

fn parse_argument(pair: Pair<'_, Rule>) -> Argument {
    let span = pair.as_span().into();
    let mut name = None;
    let mut value = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::ident => name = Some(parse_ident(part)),
            Rule::value => value = Some(parse_value(part)),
            _ => {}
        }
    }
    Argument {
        name,
        value: value.expect("an argument has a value"),
        span,
    }
}

fn parse_selector(pair: Pair<'_, Rule>) -> Selector {
    let selector = inner_one(pair);
    match selector.as_rule() {
        Rule::ident => Selector::Name(parse_ident(selector)),
        Rule::label_selector => {
            let span = selector.as_span().into();
            let mut matches = Vec::new();
            let mut pick = None;
            for part in selector.into_inner() {
                match part.as_rule() {
                    Rule::label_expr => {
                        matches.extend(part.into_inner().map(parse_label_match));
                    }
                    Rule::value => pick = Some(parse_value(part)),
                    _ => {}
                }
            }
            Selector::Labels {
                matches,
                pick,
                span,
            }
        }
        rule => unreachable!("`selector` never holds {rule:?}"),
    }
}

fn parse_label_match(pair: Pair<'_, Rule>) -> LabelMatch {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner();
    let label = parse_ident(inner.next().unwrap());
    let is_equal = inner.next().unwrap().as_str() == "==";
    let value = unescape(inner_one(inner.next().unwrap()).as_str());
    LabelMatch {
        label,
        is_equal,
        value,
        span,
    }
}

fn parse_condition(pair: Pair<'_, Rule>) -> Condition {
    let span = pair.as_span().into();
    let any_of = pair
        .into_inner()
        .map(|conjunction| conjunction.into_inner().map(parse_comparison).collect())
        .collect();
    Condition { any_of, span }
}

fn parse_comparison(pair: Pair<'_, Rule>) -> Comparison {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner().peekable();
    if inner
        .peek()
        .is_some_and(|part| part.as_rule() == Rule::alert_state)
    {
        return parse_alert_state(inner.next().unwrap(), span);
    }
    let left = parse_value(inner_one(inner.next().unwrap()));
    let op = parse_compare_op(inner.next().unwrap());
    let right = parse_value(inner_one(inner.next().unwrap()));
    let window = inner.next().map(|window| parse_value(inner_one(window)));
    Comparison {
        left,
        op,
        right,
        window,
        span,
    }
}

/// Parses `alert.NAME STATE` into the comparison `alert.NAME == STATE`.
fn parse_alert_state(pair: Pair<'_, Rule>, span: Span) -> Comparison {
    let keyword = Ident {
        name: "alert".to_owned(),
        span: Span::new(span.start, span.start + "alert".len()),
    };
    let mut names = pair
        .into_inner()
        .filter(|part| part.as_rule() == Rule::ident)
        .map(parse_ident);
    let rule = names.next().unwrap();
    let state = names.next().unwrap();
    let rule_span = Span::new(span.start, rule.span.end);
    Comparison {
        left: Value {
            kind: ValueKind::Name(vec![keyword, rule]),
            span: rule_span,
        },
        op: CompareOp::Eq,
        right: Value {
            span: state.span,
            kind: ValueKind::Name(vec![state]),
        },
        window: None,
        span,
    }
}

fn parse_recovery(pair: Pair<'_, Rule>) -> RecoveryDecl {
    let span = pair.as_span().into();
    let mut name = None;
    let mut settings = Vec::new();
    let mut actions = Vec::new();
    let mut template = None;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::ident => name = Some(parse_ident(part)),
            Rule::plan_args => settings = parse_plan_args(part),
            Rule::plan_body => actions = parse_plan_body(part),
            Rule::plan_instance => template = Some(parse_plan_instance(part)),
            _ => {}
        }
    }
    RecoveryDecl {
        name: name.expect("a recovery plan has a name"),
        settings,
        actions,
        template,
        span,
    }
}

fn parse_plan_args(pair: Pair<'_, Rule>) -> Vec<Argument> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::argument)
        .map(parse_argument)
        .collect()
}

fn parse_plan_body(pair: Pair<'_, Rule>) -> Vec<ActionDecl> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::action_decl)
        .map(parse_action)
        .collect()
}

fn parse_plan_instance(pair: Pair<'_, Rule>) -> TemplateCall {
    let mut name = None;
    let mut args = Vec::new();
    let mut end = pair.as_span().end();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::ident => name = Some(parse_ident(part)),
            Rule::named_argument => args.push(parse_argument(part)),
            Rule::r_paren => end = part.as_span().end(),
            _ => {}
        }
    }
    let name: Ident = name.expect("an instance names its template");
    TemplateCall {
        // The call runs from the template's name to the closing parenthesis.
        span: Span::new(name.span.start, end),
        name,
        args,
    }
}

fn parse_template(pair: Pair<'_, Rule>, source: &str) -> TemplateDecl {
    let span: Span = pair.as_span().into();
    let mut name = None;
    let mut params = Vec::new();
    let mut settings = Vec::new();
    let mut actions = Vec::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::ident => name = Some(parse_ident(part)),
            Rule::template_param => params.push(parse_template_param(part)),
            Rule::plan_args => settings = parse_plan_args(part),
            Rule::plan_body => actions = parse_plan_body(part),
            _ => {}
        }
    }
    TemplateDecl {
        name: name.expect("a template has a name"),
        params,
        settings,
        actions,
        doc: doc_comment_before(source, span.start),
        span,
    }
}

fn parse_template_param(pair: Pair<'_, Rule>) -> Param {
    let span = pair.as_span().into();
    let mut inner = pair
        .into_inner()
        .filter(|p| !matches!(p.as_rule(), Rule::colon | Rule::assign));
    let name = parse_ident(inner.next().unwrap());
    let type_pair = inner.next().unwrap();
    let ty = TypeName {
        name: Ident {
            name: type_pair.as_str().to_owned(),
            span: type_pair.as_span().into(),
        },
        is_list: false,
    };
    let default = inner.next().map(parse_value);
    Param {
        name,
        ty,
        default,
        span,
    }
}

fn parse_action(pair: Pair<'_, Rule>) -> ActionDecl {
    let span = pair.as_span().into();
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::assign);
    let name = parse_ident(inner.next().unwrap());
    let kind_pair = inner.next().unwrap();
    let kind = Ident {
        name: kind_pair.as_str().to_owned(),
        span: kind_pair.as_span().into(),
    };
    let mut action = ActionDecl {
        name,
        kind,
        args: Vec::new(),
        timeout: None,
        priority: None,
        retries: None,
        after: Vec::new(),
        span,
    };

    for part in inner {
        match part.as_rule() {
            Rule::action_arg => action.args.push(parse_value(inner_one(part))),
            Rule::action_clause => {
                let clause = inner_one(part);
                match clause.as_rule() {
                    Rule::timeout_clause => action.timeout = Some(parse_value(inner_one(clause))),
                    Rule::priority_clause => action.priority = Some(parse_value(inner_one(clause))),
                    Rule::retries_clause => action.retries = Some(parse_value(inner_one(clause))),
                    Rule::after_clause => action.after.extend(parse_after(clause)),
                    rule => unreachable!("`action_clause` never holds {rule:?}"),
                }
            }
            rule => unreachable!("`action_decl` never holds {rule:?}"),
        }
    }
    action
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn unescape_keeps_unknown_escapes() {
        assert_eq!(unescape(r#"say \"hi\"\n"#), "say \"hi\"\n");
        assert_eq!(unescape(r"a\\b\tc"), "a\\b\tc");
        assert_eq!(unescape(r"\d+ and \u0000"), r"\d+ and \u0000");
    }
}
