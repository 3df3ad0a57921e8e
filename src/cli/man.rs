//! `chaosc man`: manual pages in roff, generated from the command-line
//! definition.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory};

use super::{Cli, exit};

/// Arguments of `chaosc man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `chaosc.1` and one page per subcommand (`chaosc-check.1`, ...)
    /// into this directory instead of printing `chaosc.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the main page, or writes every page into `--dir`.
pub fn execute(args: &ManArgs) -> u8 {
    if let Some(dir) = &args.dir {
        return match clap_mangen::generate_to(Cli::command(), dir) {
            Ok(()) => exit::SUCCESS,
            Err(error) => {
                eprintln!(
                    "error: cannot write manual pages to `{}`: {error}",
                    dir.display()
                );
                exit::USAGE
            }
        };
    }

    let mut page = Vec::new();
    if let Err(error) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
        eprintln!("error: cannot render the manual page: {error}");
        return exit::USAGE;
    }
    // A closed pipe (as in `chaosc man | head`) is not an error of the page.
    drop(std::io::stdout().write_all(&page));
    exit::SUCCESS
}
