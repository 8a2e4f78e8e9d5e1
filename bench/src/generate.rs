//! Prefill and decode tokens/s of the Candle engine on a GGUF file, for
//! bench/models.sh to compare with llama.cpp on the same file, prompt,
//! token counts and thread count (RAYON_NUM_THREADS).
//!
//! Usage: generate MODEL.gguf PROMPT_FILE N_PREDICT

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use jan_models::generate::{Params, Session};
use jan_models::{gguf, llama, tokenizer};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() == 4,
        "usage: generate MODEL.gguf PROMPT_FILE N_PREDICT"
    );
    let path = std::path::Path::new(&args[1]);
    let prompt = std::fs::read_to_string(&args[2])?;
    let n_predict: usize = args[3].parse()?;
    let started = Instant::now();
    let (content, mut file) = gguf::read_header(path)?;
    let meta = gguf::Meta(content.metadata.clone());
    let config = llama::Config::from_meta(&meta)?;
    let model = llama::Model::load(&content, &mut file, config, 2048, &candle_core::Device::Cpu)?;
    let tok = tokenizer::Tok::load(&meta, path)?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let ids = tok.encode_prompt(&prompt)?;
    let mut session = Session::new(model);
    let mut params =
        Params::from_layers(&[&serde_json::json!({"temperature": 0, "ignore_eos": true})])?;
    params.max_tokens = Some(n_predict);
    // Both engines decode exactly N tokens, past EOS.
    let g = session.generate(
        &tok,
        &ids,
        &params,
        &AtomicBool::new(false),
        None,
        &mut |_, _| {},
    )?;
    println!(
        "{}",
        serde_json::json!({
            "engine": format!("jan (kernels: {:?})", jan_models::kernels::Mode::get()),
            "threads": candle_core::utils::get_num_threads(),
            "load_ms": load_ms,
            "prompt_tokens": g.prompt_tokens,
            "prefill_tok_s": g.prompt_tokens as f64 * 1000.0 / g.prompt_ms,
            "decoded_tokens": g.completion_tokens,
            "decode_tok_s": g.completion_tokens as f64 * 1000.0 / g.predicted_ms,
            "text": g.text,
            "peak_rss_mb": peak_rss_mb(),
        })
    );
    Ok(())
}

/// The process's peak resident memory (VmHWM), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
