//! Function calling and structured output through the real Candle engine,
//! with Qwen2.5-Coder-0.5B-Instruct (its chat template takes `tools`):
//! `tests/get-models.sh` puts it in `.cache/models`.

use std::path::{Path, PathBuf};

fn weights() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    assert!(
        p.is_file(),
        "{} is missing: run tests/get-models.sh",
        p.display()
    );
    p
}

#[test]
fn tool_call_tags_are_text_tokens() {
    let file = weights();
    let (content, _) = jan_models::gguf::read_header(&file).unwrap();
    let tok =
        jan_models::tokenizer::Tok::load(&jan_models::gguf::Meta(content.metadata), &file).unwrap();
    let ids = tok.encode("<tool_call>\n{}</tool_call>").unwrap();
    assert_eq!(ids[0], 151657);
    assert_eq!(tok.decode(&ids).unwrap(), "<tool_call>\n{}</tool_call>");
    // Control tokens are left out of text.
    let ids = tok.encode("<|im_start|>hi").unwrap();
    assert_eq!(tok.decode(&ids).unwrap(), "hi");
}
