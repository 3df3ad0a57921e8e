//! `chaosc import`: convert a Chaos Toolkit experiment into a `.chaos`
//! scenario, print its warnings and a summary of what was mapped.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::exit;
use super::render::{Style, render_human};
use super::source::read_source;
use crate::import::{ImportError, InputFormat, import_experiment, mask_inline_secrets};

/// Arguments of `chaosc import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The Chaos Toolkit experiment, in JSON or YAML.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The file the `.chaos` scenario is written to; standard output by default.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `chaosc import` and returns its exit code: 0 when the scenario was
/// written (even with warnings), 1 when the input is not a valid experiment,
/// 2 when a file cannot be read or written.
pub fn execute(args: &ImportArgs) -> u8 {
    let style = Style::for_stderr();
    let name = args.file.display().to_string();
    let text = match read_input(&args.file) {
        Ok(text) => text,
        Err(error) => return report_alone(&error, style, exit::USAGE),
    };

    let format = InputFormat::detect(&args.file, &text);
    let imported = import_experiment(&text, format, &file_name(&args.file));
    // Diagnostics quote the input, which must not show inline secrets.
    let text = mask_inline_secrets(&text, format);
    let imported = match imported {
        Ok(imported) => imported,
        Err(errors) => {
            let mut rendered = String::new();
            for error in &errors {
                rendered.push_str(&render_human(error, Some((&name, &text)), style));
            }
            let count = errors.len();
            let noun = super::check::plural(count, "error", "errors");
            eprintln!("{rendered}import of {name} failed: {count} {noun}");
            return exit::CHECK_FAILED;
        }
    };

    let mut rendered = String::new();
    for warning in &imported.warnings {
        rendered.push_str(&render_human(warning, Some((&name, &text)), style));
    }
    let written = match &args.output {
        Some(path) => {
            std::fs::write(path, &imported.text).map_err(|error| ImportError::Unwritable {
                path: path.display().to_string(),
                reason: error.to_string(),
            })
        }
        // A closed pipe (as in `chaosc import FILE | head`) is not an error.
        None => {
            drop(write!(std::io::stdout(), "{}", imported.text));
            Ok(())
        }
    };
    if let Err(error) = written {
        eprint!("{rendered}");
        return report_alone(&error, style, exit::USAGE);
    }
    eprint!(
        "{rendered}{}",
        summary(&imported.summary, imported.warnings.len())
    );
    exit::SUCCESS
}

/// Reads the input with the checks of `chaosc check FILE`: a regular file
/// of at most 8 MiB of UTF-8 text, so that a FIFO or a device cannot block
/// or fill memory.
fn read_input(path: &Path) -> Result<String, ImportError> {
    read_source(path)
        .map(|file| file.text)
        .map_err(|error| ImportError::Unreadable {
            path: path.display().to_string(),
            reason: error.reason(),
        })
}

fn report_alone(error: &ImportError, style: Style, code: u8) -> u8 {
    eprint!("{}", render_human(error, None, style));
    code
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// Lists every element with what it became, then the totals.
fn summary(entries: &[crate::import::SummaryEntry], warnings: usize) -> String {
    let mut text = String::from("import summary:\n");
    for entry in entries {
        let mark = if entry.mapped { "mapped  " } else { "UNMAPPED" };
        text.push_str(&format!(
            "  {mark} {} ({}): {}\n",
            entry.path, entry.element, entry.outcome
        ));
    }
    let mapped = entries.iter().filter(|entry| entry.mapped).count();
    let unmapped = entries.len() - mapped;
    text.push_str(&format!(
        "{mapped} {} mapped, {unmapped} kept as {}, {warnings} {}\n",
        super::check::plural(mapped, "element", "elements"),
        super::check::plural(unmapped, "placeholder", "placeholders"),
        super::check::plural(warnings, "warning", "warnings"),
    ));
    text
}
