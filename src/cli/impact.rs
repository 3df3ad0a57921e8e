//! `chaosc impact`: the business impact of an experiment's worst case, from
//! the service catalog.

use std::path::PathBuf;

use clap::Args;

use super::governed::{Context, load_under_policy};
use super::{OutputFormat, exit};

/// Arguments of `chaosc impact`.
#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The `.chaos` file to assess.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The experiment, when the file declares several.
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Runs `chaosc impact`.
pub fn execute(args: &ImpactArgs, context: &Context) -> u8 {
    let (policy, checked) = match load_under_policy(context, &args.file, args.experiment.as_deref())
    {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let assessment = checked.assess(&policy, None);
    match args.format {
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(&assessment.impact).expect("impact serializes");
            println!("{json}");
        }
        OutputFormat::Human => {
            print!(
                "experiment `{}`: {}",
                assessment.experiment,
                assessment.impact.render()
            );
        }
    }
    exit::SUCCESS
}
