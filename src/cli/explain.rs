//! `chaosc explain CODE`: the page of one diagnostic code. The pages live in
//! `docs/diagnostics.md`, embedded in the binary, so the command and the
//! documentation never disagree.

use std::io::Write;

use clap::Args;

use super::exit;

/// The diagnostic pages, one `## CODE: title` section each.
const PAGES: &str = include_str!("../../docs/diagnostics.md");

/// Arguments of `chaosc explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The code to explain, such as `E0101` or `chaos::E0101`; without a
    /// code, every code is listed with its title.
    #[arg(value_name = "CODE")]
    pub code: Option<String>,
}

/// The page of one diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The code without its `chaos::` prefix, such as `E0101`.
    pub code: &'static str,
    pub title: &'static str,
    /// The text below the heading.
    pub body: &'static str,
}

/// Returns every page, in the order of the file.
pub fn pages() -> Vec<Page> {
    PAGES
        .split("\n## ")
        .skip(1)
        .filter_map(|section| {
            let (heading, body) = section.split_once('\n')?;
            let (code, title) = heading.split_once(':')?;
            Some(Page {
                code: code.trim(),
                title: title.trim(),
                body,
            })
        })
        .collect()
}

/// Finds the page of `code`, written with or without `chaos::`, in any
/// case. A bare number such as `413` finds the error `E0413`.
pub fn find(code: &str) -> Option<Page> {
    let code = code.trim();
    let code = code.strip_prefix("chaos::").unwrap_or(code);
    let code = match code.parse::<u16>() {
        Ok(number) => format!("E{number:04}"),
        Err(_) => code.to_owned(),
    };
    pages()
        .into_iter()
        .find(|page| page.code.eq_ignore_ascii_case(&code))
}

/// Runs `chaosc explain` and returns its exit code.
pub fn execute(args: &ExplainArgs) -> u8 {
    let text = match &args.code {
        None => {
            let lines: Vec<String> = pages()
                .iter()
                .map(|page| format!("{}  {}", page.code, page.title))
                .collect();
            lines.join("\n") + "\n"
        }
        Some(code) => match find(code) {
            Some(page) => format!("{}: {}\n{}", page.code, page.title, page.body.trim_end()) + "\n",
            None => {
                eprintln!(
                    "error: no diagnostic code `{code}`\nhelp: run `chaosc explain` to list \
                     every code"
                );
                return exit::USAGE;
            }
        },
    };
    // A closed pipe (as in `chaosc explain | head`) is not an error.
    drop(std::io::stdout().write_all(text.as_bytes()));
    exit::SUCCESS
}
