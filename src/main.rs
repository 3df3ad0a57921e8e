//! The `chaosc` binary: parses arguments, sets up logging, runs the command
//! and maps its outcome to the exit code.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use chaosc::cli::{self, Cli, LogFormat, exit};
use chaosc::runtime::progress::LogWriter;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit::SUCCESS,
                _ => exit::USAGE,
            };
            // clap renders usage errors with the offending argument and a tip.
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose, cli.log_format);
    ExitCode::from(cli::execute(cli))
}

fn init_tracing(verbose: u8, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Log lines go above the live view of `chaosc run` while it is on
        // screen, and straight to standard error otherwise.
        .with_writer(|| LogWriter)
        // Colours only for a terminal, so that logs kept in files and CI
        // output carry no escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
