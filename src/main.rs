//! The `zoho-sync` binary: parse the command line, set up logging, run the command, and
//! turn its outcome into the documented exit code (0 success, 1 runtime failure,
//! 2 usage or config error, 3 streams held by other live processes, 4 dead letters left
//! untried by a spent budget, 130 a second signal). The one place `anyhow` is used, and the one place that exits the process
//! early: when a stop outlasts its grace (`shutdown`).

use std::process::ExitCode;

use tokio_util::sync::CancellationToken;
use zoho_sync::cli::{self, AuthCommand, Command, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE};
use zoho_sync::config::{Config, ConfigError};
use zoho_sync::scheduler::Goal;
use zoho_sync::shutdown::{Abandon, Shutdown};
use zoho_sync::store::RunKind;
use zoho_sync::{daemon, emulator, telemetry};

/// mimalloc instead of the system allocator: decoding a page and building its binds
/// allocate per field, and glibc's malloc spent a quarter of the sync process's time (and
/// a third of the emulator's) in `malloc`, `free` and their heap trimming (perf, issue 12).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A failure and the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure {
            code: EXIT_USAGE,
            error: e.into(),
        }
    }
}

fn sync_failure(e: cli::sync::SyncCommandError) -> Failure {
    Failure {
        code: e.exit_code(),
        error: e.into(),
    }
}

fn runtime(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: EXIT_FAILURE,
        error: e.into(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::parse();
    telemetry::init(cli.log_format, cli.verbose, cli.quiet);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", one_line(&failure.error));
            ExitCode::from(failure.code)
        }
    }
}

/// The stop token of a command that honours it: the first SIGTERM or SIGINT fires it; if
/// the command has not finished within the grace, or at a second signal, the process
/// leaves with a message naming what it was still waiting for.
fn stop_on_signals() -> CancellationToken {
    let shutdown = Shutdown::on_signals();
    let deadline = shutdown.deadline();
    tokio::spawn(async move {
        let abandon = deadline.await;
        let code = match abandon {
            Abandon::GraceOver { .. } => EXIT_FAILURE,
            Abandon::SecondSignal { .. } => EXIT_INTERRUPTED,
        };
        eprintln!("error: {abandon}");
        // Not a return from main: the tasks still waiting would keep the runtime open.
        std::process::exit(i32::from(code));
    });
    shutdown.token().clone()
}

/// The error and its causes on one line. Most messages already quote their cause's text
/// (`cannot use the database: {0}`), so a cause is added only when it says something new.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn run(cli: cli::Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Emulator(args) => emulator::run(args).await.map_err(|e| Failure {
            code: match e {
                emulator::EmulatorError::Config(_) => EXIT_USAGE,
                _ => EXIT_FAILURE,
            },
            error: e.into(),
        }),
        Command::Auth(AuthCommand::Token(args)) => {
            let config = Config::load(&cli.config)?;
            cli::auth::run_token(args, config.api.accounts_url.clone(), config.api.timeout)
                .await
                .map_err(runtime)
        }
        Command::Auth(AuthCommand::Desk(args)) => cli::auth::run_desk(args).await.map_err(runtime),
        Command::Demo(args) => cli::demo::run(args.api, &stop_on_signals())
            .await
            .map_err(runtime),
        Command::Backfill(args) => {
            let config = Config::load(&cli.config)?;
            let goal = Goal::Backfill {
                modules: args.modules(),
            };
            cli::sync::run(&config, RunKind::Backfill, goal, &stop_on_signals())
                .await
                .map_err(sync_failure)
        }
        Command::Sync => {
            let config = Config::load(&cli.config)?;
            cli::sync::run(
                &config,
                RunKind::Sync,
                Goal::Sync {
                    modules: Vec::new(),
                },
                &stop_on_signals(),
            )
            .await
            .map_err(sync_failure)
        }
        Command::Daemon => {
            let config = Config::load(&cli.config)?;
            // A missing token is a configuration error: say so before starting anything.
            for org in &config.organisations {
                config.client_settings(Some(&org.name), None)?;
            }
            let access = config.daemon_access()?;
            daemon::run(config, access, stop_on_signals())
                .await
                .map_err(runtime)
        }
        Command::Migrate => {
            let config = Config::load(&cli.config)?;
            cli::sync::open_database(&config).await.map_err(runtime)?;
            println!("migrations applied to schema `{}`", config.database.schema);
            Ok(())
        }
        Command::Status(args) => {
            let config = Config::load(&cli.config)?;
            match &args.html {
                Some(file) => cli::report::status_page(&config, file).await,
                None => cli::report::status(&config, args.json).await,
            }
            .map_err(runtime)
        }
        Command::Resync(args) => {
            let mut config = Config::load(&cli.config)?;
            if let Some(name) = &args.org {
                let org = config.organisation(Some(name))?.clone();
                config.organisations = vec![org];
            }
            cli::resync::run(&config, args, &stop_on_signals())
                .await
                .map_err(sync_failure)
        }
        Command::DeadLetters(args) => {
            let mut config = Config::load(&cli.config)?;
            if let Some(name) = &args.org {
                let org = config.organisation(Some(name))?.clone();
                config.organisations = vec![org];
            }
            // Only a retry has work a stop should let finish; the listing stops at once.
            let cancel = match args.retry {
                true => stop_on_signals(),
                false => CancellationToken::new(),
            };
            cli::dead_letters::run(&config, args, &cancel)
                .await
                .map_err(|e| Failure {
                    code: e.exit_code(),
                    error: e.into(),
                })
        }
        Command::Changes(args) => {
            let config = Config::load(&cli.config)?;
            cli::changes::run(&config, args).await.map_err(runtime)
        }
        Command::Plan => {
            let config = Config::load(&cli.config)?;
            cli::report::plan(&config).await.map_err(runtime)
        }
        Command::Api(args) => {
            let config = Config::load(&cli.config)?;
            cli::api::run_command(args, &config)
                .await
                .map_err(|e| Failure {
                    code: e.exit_code(),
                    error: e.into(),
                })
        }
    }
}
