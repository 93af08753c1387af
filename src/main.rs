//! The `isac` command line. Exit codes: 0 result, 2 bad input, 1 internal error.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc keeps freed pages for reuse: Burn allocates tens of MB per training step, which the
/// system allocator returns to the OS and faults back in (FIM estimator 4.3 s -> 1.9 s). Built
/// without transparent huge pages (the workspace's `no_thp`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // Bad input: the error on one line (without clap's usage and help hints), exit 2.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("{}", message.join(" "));
            return ExitCode::from(2);
        }
    };
    match cli::run(args) {
        Ok(()) | Err(cli::CliError::Closed) => ExitCode::SUCCESS,
        Err(e) => {
            // One line on stderr, nothing on stdout.
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            ExitCode::from(e.exit_code())
        }
    }
}
