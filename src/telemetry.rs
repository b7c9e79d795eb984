//! Logging: one `tracing` subscriber for the process, human-readable or JSON lines on
//! stderr, its level from `-v`/`-q` unless `RUST_LOG` says otherwise. Stdout is left to
//! command output (tables, tokens, JSON), so the two never mix.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The default filter for a verbosity: `-q` warnings, `-qq` errors, `-v` debug, `-vv` trace.
pub fn default_level(verbose: u8, quiet: u8) -> &'static str {
    match (verbose, quiet) {
        (0, 0) => "info",
        (0, 1) => "warn",
        (0, _) => "error",
        (1, _) => "debug",
        _ => "trace",
    }
}

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(format: LogFormat, verbose: u8, quiet: u8) {
    // sqlx reports PostgreSQL's notices ("schema already exists, skipping") at info.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},sqlx=warn", default_level(verbose, quiet))));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_flags_map_to_levels() {
        assert_eq!(default_level(0, 0), "info");
        assert_eq!(default_level(0, 2), "error");
        assert_eq!(default_level(2, 0), "trace");
    }
}
