//! The `tern` binary: argument parsing and wiring, nothing else.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use tern_app_server::ServerCtx;
use tern_core::config::{ConfigOverrides, load_config, resolve_home};
use tern_protocol::v2::AbsolutePathBuf;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// tern: an agent server speaking the Codex app-server protocol.
#[derive(Debug, Parser)]
#[command(name = "tern", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the app-server protocol (JSON-RPC, one message per line) on stdio.
    AppServer(AppServerArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct AppServerArgs {
    #[command(subcommand)]
    command: Option<AppServerCommand>,

    /// Transport endpoint: `stdio://` (default). `ws://IP:PORT` and `unix://PATH` are not
    /// supported yet.
    #[arg(long, value_name = "URL", default_value = "stdio://")]
    listen: String,

    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Args)]
struct ConfigArgs {
    /// Override a config.toml value: `key=value`, with a dotted key for nested tables
    /// (`-c model_providers.ollama.base_url="http://localhost:11434/v1"`). The value is parsed
    /// as TOML; if that fails it is taken as a string.
    #[arg(short = 'c', long = "config", value_name = "key=value")]
    overrides: Vec<String>,

    /// Enable a feature (repeatable); the same as `-c features.<name>=true`.
    #[arg(long, value_name = "FEATURE")]
    enable: Vec<String>,

    /// Disable a feature (repeatable); the same as `-c features.<name>=false`.
    #[arg(long, value_name = "FEATURE")]
    disable: Vec<String>,

    /// Refuse to start when config.toml or `-c` contain keys tern does not recognize.
    #[arg(long)]
    strict_config: bool,
}

#[derive(Debug, Subcommand)]
enum AppServerCommand {
    /// Write the protocol's JSON Schema (draft-07) into a directory.
    GenerateJsonSchema(GenerateArgs),
    /// Write the protocol's TypeScript bindings into a directory.
    GenerateTs(GenerateArgs),
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Include experimental methods and fields.
    #[arg(long)]
    experimental: bool,
}

fn main() -> ExitCode {
    // The sandbox helper (`tern sandbox-exec`, see `tern_core::sandbox`) comes first: no
    // threads, no logging, nothing between it and the command it execs.
    let mut args = std::env::args_os().skip(1);
    if args
        .next()
        .is_some_and(|arg| arg == tern_core::sandbox::HELPER_SUBCOMMAND)
    {
        let args: Vec<String> = args.map(|arg| arg.to_string_lossy().into_owned()).collect();
        let status = tern_core::sandbox::helper_main(&args);
        return ExitCode::from(u8::try_from(status).unwrap_or(u8::MAX));
    }
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[allow(
                clippy::print_stderr,
                reason = "the one place the binary reports a fatal error"
            )]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::AppServer(args) => match args.command {
            Some(AppServerCommand::GenerateJsonSchema(generate)) => {
                tern_protocol::export::generate_json_schema(&generate.out, generate.experimental)
                    .context("generating JSON Schema")
            }
            Some(AppServerCommand::GenerateTs(generate)) => {
                tern_protocol::export::generate_ts(&generate.out, generate.experimental)
                    .context("generating TypeScript")
            }
            None => app_server(&args.listen, &args.config),
        },
    }
}

/// Logs go to stderr (stdout is the protocol): `RUST_LOG` filters (default `warn`),
/// `LOG_FORMAT=json` writes one JSON object per line.
fn init_tracing() {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::WARN.into())
        .from_env_lossy();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn app_server(listen: &str, config_args: &ConfigArgs) -> anyhow::Result<()> {
    check_listen(listen)?;
    let overrides = ConfigOverrides::parse(
        &config_args.overrides,
        &config_args.enable,
        &config_args.disable,
    )?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let env = |name: &str| {
        std::env::var_os(name)
            .map(OsString::into_string)
            .and_then(Result::ok)
    };
    let home = resolve_home(env, &cwd)?;
    let config = load_config(&home, &overrides, config_args.strict_config)?;
    for key in &config.unknown_keys {
        tracing::warn!(%key, "ignoring unrecognized config key");
    }
    let home = AbsolutePathBuf::try_from(home)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let ctx = ServerCtx::start(home, &config);
        tern_app_server::transport::stdio::serve_stdio(ctx, shutdown_signal()).await
    });
    // A read of stdin may still be parked on a blocking thread; everything has been flushed, so
    // do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(50));
    result.context("serving stdio")
}

/// `--listen`: stdio only, for now.
fn check_listen(listen: &str) -> anyhow::Result<()> {
    match listen.split_once("://").map(|(scheme, _)| scheme) {
        _ if listen == "stdio" || listen == "stdio://" => Ok(()),
        Some(scheme @ ("ws" | "unix")) => bail!(
            "--listen {listen}: the {scheme}:// transport is not supported yet; use --listen stdio://"
        ),
        _ => bail!("--listen {listen}: expected stdio://, ws://IP:PORT or unix://PATH"),
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!(
            "cannot install signal handlers; SIGTERM and SIGINT will kill the server abruptly"
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
