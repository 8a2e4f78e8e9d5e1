//! `jan`: run assistants in the terminal. The binary only parses arguments
//! and calls the library crates.

mod scaffold;

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use jan_assistant::DataDir;
use jan_events::Bus;
use jan_host::{Ask, Host, Item, TurnEvent};
use jan_models::{Engine, Provider};
use serde_json::json;

#[derive(Parser)]
#[command(name = "jan", version, about = "A local-first assistants runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataArg {
    /// The data folder (models/, threads/, assistants/). Default: $JAN_DATA_FOLDER, else ~/jan.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Chat with the assistant in a folder. One turn with --prompt or piped stdin.
    Run {
        /// The assistant's folder.
        folder: PathBuf,
        /// The model to use when the assistant has no code of its own.
        #[arg(long)]
        model: Option<String>,
        /// Send this one message, print the reply, and exit.
        #[arg(long)]
        prompt: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Serve the OpenAI-compatible API (http://127.0.0.1:1337/v1).
    Serve {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 1337)]
        port: u16,
        /// Require `Authorization: Bearer KEY` on every request.
        #[arg(long, env = "JAN_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Host names requests may name besides loopback's and the bound
        /// address (comma-separated; `*` for any). Guards against DNS
        /// rebinding.
        #[arg(long, env = "JAN_ALLOWED_HOSTS", value_delimiter = ',')]
        allowed_hosts: Vec<String>,
        /// Web origins whose pages may call the API besides loopback pages
        /// (comma-separated, e.g. `https://app.example.com`; `*` for any).
        #[arg(long, env = "JAN_CORS_ORIGINS", value_delimiter = ',')]
        cors_origins: Vec<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Manage the assistants in the data folder.
    Assistants {
        #[command(subcommand)]
        command: AssistantsCommand,
    },
    /// Manage the local models in the data folder.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Create a new assistant folder with assistant.json, src/index.ts and package.json.
    New {
        /// The folder to create (its name becomes the assistant's id).
        name: PathBuf,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Copy (or link) a GGUF file into the models folder and write its model.json.
    Import {
        file: PathBuf,
        /// The model id (default: from the file name).
        #[arg(long)]
        id: Option<String>,
        /// Link to the file instead of copying it.
        #[arg(long)]
        link: bool,
        #[command(flatten)]
        data: DataArg,
    },
    /// List the installed models, with any that fail to load.
    List {
        #[command(flatten)]
        data: DataArg,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Download a GGUF file from a Hugging Face repository and install it.
    Pull {
        /// The repository, e.g. HuggingFaceTB/SmolLM2-360M-Instruct-GGUF.
        repo: String,
        /// The file in it, e.g. smollm2-360m-instruct-q8_0.gguf.
        file: String,
        /// The model id (default: from the file name).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Remove a model and its files.
    Rm {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum AssistantsCommand {
    /// List the assistants in the data folder, with any that fail to load.
    List {
        #[command(flatten)]
        data: DataArg,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JAN_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,assistant=info,jan_models=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

fn fail(message: String) -> ExitCode {
    let line = message.lines().next().unwrap_or("error").to_string();
    eprintln!("jan: {line}");
    ExitCode::FAILURE
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run {
            folder,
            model,
            prompt,
            data,
        } => run(folder, model, prompt, data).await,
        Command::Assistants {
            command: AssistantsCommand::List { data, json },
        } => list_assistants(data, json),
        Command::New { name } => scaffold::new_assistant(&name),
        Command::Models { command } => models_command(command),
        Command::Serve {
            host,
            port,
            api_key,
            allowed_hosts,
            cors_origins,
            data,
        } => {
            let mut access = jan_server::Access::new(&allowed_hosts, &cors_origins);
            if !matches!(host.as_str(), "0.0.0.0" | "::" | "[::]") {
                access = access.with_host(&host);
            }
            serve(host, port, api_key, access, data).await
        }
    }
}

fn open_data(arg: &DataArg) -> anyhow::Result<DataDir> {
    let data = DataDir::locate(arg.data_dir.clone());
    data.ensure().map_err(|e| {
        anyhow::anyhow!(
            "cannot prepare the data folder {}: {e}",
            data.root().display()
        )
    })?;
    Ok(data)
}

/// How long a loaded model stays in memory unused (`JAN_MODEL_IDLE_SECS`).
fn idle_time() -> Duration {
    let secs = std::env::var("JAN_MODEL_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

fn host(data: &DataDir) -> Host {
    let engine = Engine::new(data.models(), idle_time());
    Host::new(Bus::new(), Arc::new(Provider(engine)))
}

async fn serve(
    addr: String,
    port: u16,
    api_key: Option<String>,
    access: jan_server::Access,
    data: DataArg,
) -> anyhow::Result<()> {
    let data = open_data(&data)?;
    data.check_writable().map_err(|e| {
        anyhow::anyhow!(
            "cannot prepare the data folder {}: {e}",
            data.root().display()
        )
    })?;
    let host = host(&data);
    for (dir, e) in host.load_all(&data) {
        tracing::warn!("assistant in {} not loaded: {e}", dir.display());
    }
    let listener = tokio::net::TcpListener::bind((addr.as_str(), port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}:{port}: {e}"))?;
    let local = listener.local_addr()?;
    eprintln!(
        "jan: serving the OpenAI API on http://{local}/v1 (data folder {})",
        data.root().display()
    );
    let store = jan_store::Store::open(data.threads())
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", data.threads().display()))?;
    let state = jan_server::AppState {
        host,
        data,
        store,
        api_key: api_key.filter(|k| !k.is_empty()).map(Into::into),
        access: Arc::new(access),
        active: Default::default(),
        replays: Default::default(),
    };
    jan_server::serve(state, listener, jan_server::shutdown_signal()).await?;
    Ok(())
}

fn models_command(command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Import {
            file,
            id,
            link,
            data,
        } => {
            let data = open_data(&data)?;
            let entry = jan_models::folder::import(&data.models(), &file, id.as_deref(), link)?;
            println!("Imported {} as '{}'", file.display(), entry.id);
        }
        ModelsCommand::List { data, json } => {
            let data = open_data(&data)?;
            let list = jan_models::folder::list(&data.models());
            if json {
                let items: Vec<_> = list
                    .iter()
                    .map(|(dir, r)| match r {
                        Ok(e) => e.json.clone(),
                        Err(err) => json!({"folder": dir, "error": format!("{err:#}")}),
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&items)?);
                return Ok(());
            }
            println!("{:<40} {:<10} {:>10} NAME", "ID", "ARCH", "SIZE MB");
            for (_, r) in &list {
                match r {
                    Ok(e) => println!(
                        "{:<40} {:<10} {:>10.1} {}",
                        e.id,
                        e.json["metadata"]["tags"][0].as_str().unwrap_or(""),
                        e.json["metadata"]["size"].as_f64().unwrap_or(0.0) / 1e6,
                        e.json["name"].as_str().unwrap_or("")
                    ),
                    Err(err) => eprintln!("jan: skipped: {err:#}"),
                }
            }
        }
        ModelsCommand::Pull {
            repo,
            file,
            id,
            data,
        } => {
            let data = open_data(&data)?;
            let entry = jan_models::folder::pull(&data.models(), &repo, &file, id.as_deref())?;
            println!("Pulled {repo}/{file} as '{}'", entry.id);
        }
        ModelsCommand::Rm { id, data } => {
            let data = open_data(&data)?;
            jan_models::folder::remove(&data.models(), &id)?;
            println!("Removed '{id}'");
        }
    }
    Ok(())
}

async fn run(
    folder: PathBuf,
    model: Option<String>,
    prompt: Option<String>,
    data: DataArg,
) -> anyhow::Result<()> {
    let data = open_data(&data)?;
    data.check_writable().map_err(|e| {
        anyhow::anyhow!(
            "cannot prepare the data folder {}: {e}",
            data.root().display()
        )
    })?;
    let host = host(&data);
    // The folder's assistant runs at once; the data folder's others start
    // when it asks them (`events.request`), so a one-assistant run stays
    // quick.
    host.set_library(data.clone());
    let assistant = host.load(&folder)?;
    let id = assistant.id.clone();
    let stdin = std::io::stdin();
    if prompt.is_some() || !stdin.is_terminal() {
        let text = match prompt {
            Some(p) => p,
            None => {
                let mut s = String::new();
                stdin.lock().read_to_string(&mut s)?;
                s.trim_end().to_string()
            }
        };
        let ask = Ask {
            messages: vec![Item::user(text)],
            model,
            ..Ask::default()
        };
        turn(&host, &id, ask, None).await?;
        return Ok(());
    }
    eprintln!(
        "Chatting with {} ({id}). Ctrl-C stops an answer, Ctrl-D quits.",
        assistant.name
    );
    // Ctrl-C is ours from here on: it interrupts the answer being written,
    // and at the prompt it only says how to quit (as Ollama does).
    let (interrupts_tx, mut interrupts) = tokio::sync::watch::channel(0u64);
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            interrupts_tx.send_modify(|n| *n += 1);
        }
    });
    // Lines are read on their own thread, so a Ctrl-C at the prompt is seen.
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut history = Vec::new();
    loop {
        eprint!("> ");
        std::io::stderr().flush()?;
        interrupts.borrow_and_update();
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = interrupts.changed() => {
                eprintln!("\nUse Ctrl-D to quit.");
                continue;
            }
        };
        let Some(line) = line else { break };
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        history.push(Item::user(line));
        let ask = Ask {
            messages: history.clone(),
            model: model.clone(),
            ..Ask::default()
        };
        match turn(&host, &id, ask, Some(&mut interrupts)).await {
            Ok(reply) => history.push(Item::assistant(reply)),
            Err(e) => {
                history.pop();
                eprintln!(
                    "jan: {}",
                    format!("{e:#}").lines().next().unwrap_or("error")
                );
            }
        }
    }
    eprintln!();
    Ok(())
}

/// Sends one turn and streams the reply to stdout as it arrives. An
/// interrupt stops the answer (dropping it cancels generation) and keeps
/// what was written so far.
async fn turn(
    host: &Host,
    id: &str,
    ask: Ask,
    mut interrupts: Option<&mut tokio::sync::watch::Receiver<u64>>,
) -> anyhow::Result<String> {
    let mut answer = host.ask(id, ask).await?;
    let mut out = std::io::stdout();
    let mut printed = String::new();
    loop {
        let interrupted = async {
            match interrupts.as_deref_mut() {
                Some(rx) => {
                    let _ = rx.changed().await;
                }
                None => std::future::pending().await,
            }
        };
        let piece = tokio::select! {
            piece = answer.next() => piece,
            _ = interrupted => {
                out.write_all(b"\n")?;
                out.flush()?;
                eprintln!("[answer stopped]");
                return Ok(printed);
            }
        };
        let Some(piece) = piece else { break };
        match piece {
            // The assistant's own tools ran: show what, on stderr.
            TurnEvent::ToolsRan(runs) => {
                for r in runs {
                    eprintln!(
                        "[tool {}({}) -> {}]",
                        r.call.name, r.call.arguments, r.output
                    );
                }
            }
            // The terminal has no functions to run: show what was asked.
            TurnEvent::ToolCalls(calls) => {
                for c in calls {
                    eprintln!("[tool call {}({})]", c.name, c.arguments);
                }
            }
            TurnEvent::Text(d) => {
                out.write_all(d.as_bytes())?;
                out.flush()?;
                printed.push_str(&d);
            }
            TurnEvent::Done(text) => {
                if printed.is_empty() {
                    out.write_all(text.as_bytes())?;
                    printed = text;
                }
                out.write_all(b"\n")?;
                out.flush()?;
                return Ok(printed);
            }
            TurnEvent::Error(e) => {
                if !printed.is_empty() {
                    out.write_all(b"\n")?;
                }
                anyhow::bail!(e.message)
            }
            // Usage and timings, call pieces (calls show whole above),
            // logprobs.
            TurnEvent::Finished(_)
            | TurnEvent::ToolCallStart { .. }
            | TurnEvent::ToolCallArguments { .. }
            | TurnEvent::Logprobs(_) => {}
        }
    }
    anyhow::bail!("assistant '{id}' stopped without answering")
}

fn list_assistants(data: DataArg, as_json: bool) -> anyhow::Result<()> {
    let data = open_data(&data)?;
    let list = data.list_assistants();
    if as_json {
        let items: Vec<_> = list
            .iter()
            .map(|(dir, r)| match r {
                Ok(a) => a.resolved(),
                Err(e) => json!({"folder": dir, "error": e.to_string()}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!(
        "{:<24} {:<24} {:<8} {:<24} PERMISSIONS",
        "ID", "NAME", "CODE", "MODELS"
    );
    for (_, r) in &list {
        match r {
            Ok(a) => {
                let models = match a.allowed_models() {
                    None => "*".to_string(),
                    Some(m) => m.iter().map(|r| r.id()).collect::<Vec<_>>().join(","),
                };
                let code = if a.entry_point().is_some() {
                    "yes"
                } else {
                    "no"
                };
                let p = a.permissions();
                let grants: Vec<String> = [
                    ("net", &p.net),
                    ("read", &p.read),
                    ("write", &p.write),
                    ("env", &p.env),
                ]
                .iter()
                .filter(|(_, l)| !l.is_empty())
                .map(|(k, l)| format!("{k}={}", l.join(",")))
                .collect();
                let grants = if grants.is_empty() {
                    "none".to_string()
                } else {
                    grants.join(" ")
                };
                println!(
                    "{:<24} {:<24} {:<8} {models:<24} {grants}",
                    a.id, a.name, code
                );
            }
            Err(e) => eprintln!("jan: skipped: {e}"),
        }
    }
    Ok(())
}
