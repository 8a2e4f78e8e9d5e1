//! Our quantized kernels against Candle's (the reference path) and the exact
//! product on the real SmolLM2 file: the same greedy answer, the same next
//! token after a long prompt, and logits within activation rounding. In a
//! test binary of its own, because the kernel mode is process-wide.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use jan_models::generate::{Params, Session};
use jan_models::gguf::{Meta, read_header};
use jan_models::kernels::Mode;
use jan_models::llama::{Config, Model};
use jan_models::template::ChatTemplate;
use jan_models::tokenizer::Tok;

fn smollm2() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

fn load() -> (Model, Tok, Meta) {
    let path = smollm2();
    assert!(
        path.is_file(),
        "{} is missing: run tests/get-models.sh",
        path.display()
    );
    let (content, mut file) = read_header(&path).unwrap();
    let meta = Meta(content.metadata.clone());
    let config = Config::from_meta(&meta).unwrap();
    let model = Model::load(&content, &mut file, config, 1024, &candle_core::Device::Cpu).unwrap();
    let tok = Tok::load(&meta, &path).unwrap();
    (model, tok, meta)
}

fn prompt(tok: &Tok, meta: &Meta, question: &str) -> Vec<u32> {
    let template = ChatTemplate::new(meta.str("tokenizer.chat_template").unwrap()).unwrap();
    let text = template
        .render(
            &[serde_json::json!({"role": "user", "content": question})],
            None,
            tok.bos.as_deref(),
            tok.eos.as_deref(),
        )
        .unwrap();
    tok.encode_prompt(&text).unwrap()
}

fn long_prompt_logits() -> Vec<f32> {
    let (mut model, tok, meta) = load();
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/prompt.txt"),
    )
    .unwrap();
    let ids = prompt(&tok, &meta, &text);
    model.forward(&ids).unwrap().to_vec1::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()))
}

fn rms_diff(a: &[f32], b: &[f32]) -> f32 {
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>() / a.len() as f32).sqrt()
}

#[test]
fn our_kernels_answer_like_candles() {
    // The exact product: weights dequantized to f32, activations not
    // quantized (Candle reads CANDLE_DEQUANTIZE_ALL once per thread).
    Mode::Candle.set();
    // SAFETY: no other thread of this test binary reads the environment.
    unsafe { std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1") };
    let exact = std::thread::spawn(long_prompt_logits).join().unwrap();
    unsafe { std::env::remove_var("CANDLE_DEQUANTIZE_ALL") };
    let mut texts = Vec::new();
    let mut logits = Vec::new();
    for mode in [Mode::Candle, Mode::Auto, Mode::Scalar] {
        mode.set();
        let (model, tok, meta) = load();
        let ids = prompt(
            &tok,
            &meta,
            "What is the capital of France? Answer in one word.",
        );
        let mut session = Session::new(model);
        let mut params = Params::from_layers(&[&serde_json::json!({"temperature": 0})]).unwrap();
        params.max_tokens = Some(24);
        let g = session
            .generate(
                &tok,
                &ids,
                &params,
                &AtomicBool::new(false),
                None,
                &mut |_, _| {},
            )
            .unwrap();
        texts.push(g.text);
        logits.push(std::thread::spawn(long_prompt_logits).join().unwrap());
    }
    Mode::Auto.set();
    assert!(texts[0].contains("Paris"), "{texts:?}");
    assert_eq!(texts[1], texts[0]);
    assert_eq!(texts[2], texts[0]);
    // Next-token logits over a 117-token prompt: the same choice, and
    // differences of the size activation rounding gives (Candle keeps
    // the activations' block scales in f16, ours in f32).
    let argmax = |v: &[f32]| {
        v.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
    };
    let spread = exact.iter().fold(0f32, |a, x| a.max(x.abs()));
    let candle_error = rms_diff(&logits[0], &exact);
    for ours in &logits[1..] {
        assert_eq!(argmax(ours), argmax(&logits[0]));
        let d = max_diff(ours, &logits[0]);
        let error = rms_diff(ours, &exact);
        eprintln!(
            "largest logit {spread}: ours vs Candle's up to {d}; rms from the exact product: ours {error}, Candle's {candle_error}"
        );
        assert!(d < 0.05 * spread, "logits differ by {d} (largest {spread})");
        // Our prompt path quantizes activations to 8 bits per block, as
        // llama.cpp's does; Candle multiplies long prompts in f32 after
        // dequantizing the weights, so it is closer to the exact product.
        // Both stay well under 1% of the logits' range.
        assert!(
            error < 0.01 * spread,
            "ours {error}, Candle's {candle_error}"
        );
    }
}
