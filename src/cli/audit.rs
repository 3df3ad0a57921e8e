//! `chaosc audit verify` and `chaosc audit export`: check the hash chain of
//! the audit trail, and write the trail as JSON or CSV.

use clap::{Args, Subcommand, ValueEnum};

use super::exit;
use super::governed::{Context, print_error};
use crate::governance::audit::{self, AuditRecord};

/// Arguments of `chaosc audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The subcommands of `chaosc audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no record was changed, deleted, inserted or reordered.
    Verify,
    /// Write the trail on standard output.
    Export(ExportArgs),
}

/// Arguments of `chaosc audit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,

    /// Only records at or after this RFC 3339 time or date.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
}

/// The formats of an exported trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A JSON array of records.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Runs `chaosc audit`.
pub fn execute(args: &AuditArgs, context: &Context) -> u8 {
    let mut store = match context.store() {
        Ok(store) => store,
        Err(code) => return code,
    };
    match &args.command {
        AuditCommand::Verify => match audit::verify(store.connection()) {
            Ok(Ok(status)) => {
                println!(
                    "audit trail intact: {} records, head {}",
                    status.records, status.head
                );
                exit::SUCCESS
            }
            Ok(Err(broken)) => {
                print_error(&broken);
                exit::CHECK_FAILED
            }
            Err(error) => {
                print_error(&error);
                exit::USAGE
            }
        },
        AuditCommand::Export(export) => {
            let since = match export.since.as_deref().map(super::compliance::parse_since) {
                Some(Ok(since)) => Some(since),
                Some(Err(error)) => {
                    print_error(&error);
                    return exit::USAGE;
                }
                None => None,
            };
            match audit::records(store.connection(), since.as_deref()) {
                Ok(records) => {
                    print!("{}", render(&records, export.format));
                    exit::SUCCESS
                }
                Err(error) => {
                    print_error(&error);
                    exit::USAGE
                }
            }
        }
    }
}

/// Renders records in an export format.
fn render(records: &[AuditRecord], format: ExportFormat) -> String {
    match format {
        ExportFormat::Json => {
            let json = serde_json::to_string_pretty(records).expect("records serialize");
            format!("{json}\n")
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for record in records {
                writer
                    .serialize(record)
                    .expect("records serialize to memory");
            }
            let bytes = writer.into_inner().expect("an in-memory writer flushes");
            String::from_utf8(bytes).expect("records are UTF-8")
        }
    }
}
