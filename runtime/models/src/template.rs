//! Chat templates: the GGUF's `tokenizer.chat_template` (Jinja), rendered
//! with minijinja the way Hugging Face renders them (`trim_blocks`,
//! `lstrip_blocks`, loop controls, Python string methods, `raise_exception`).

use minijinja::{Environment, Error, ErrorKind, context};
use serde_json::Value;

/// Used when neither the GGUF nor model.json has a template: ChatML.
pub const FALLBACK: &str = "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// The fallback for Gemma vocabularies (`<start_of_turn>`), whose base
/// models ship without a template: Gemma's turn format, with system text
/// put at the start of the next user turn, as Gemma's own template does.
pub const GEMMA_FALLBACK: &str = "{{ bos_token }}{% set ns = namespace(sys='') %}{% for message in messages %}{% if message.role == 'system' %}{% set ns.sys = ns.sys + message.content + '\n\n' %}{% else %}<start_of_turn>{{ 'model' if message.role == 'assistant' else 'user' }}\n{{ ns.sys }}{{ message.content | trim }}<end_of_turn>\n{% set ns.sys = '' %}{% endif %}{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}";

/// The documented fallback for a vocabulary: Gemma's format where its turn
/// tokens exist, ChatML otherwise.
pub fn fallback(has_token: impl Fn(&str) -> bool) -> &'static str {
    if has_token("<start_of_turn>") && has_token("<end_of_turn>") {
        GEMMA_FALLBACK
    } else {
        FALLBACK
    }
}

pub struct ChatTemplate {
    env: Environment<'static>,
}

impl ChatTemplate {
    pub fn new(source: &str) -> anyhow::Result<ChatTemplate> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_function("strftime_now", |fmt: String| -> String {
            // Templates use it for "today's date"; a fixed UTC rendering of
            // the common formats is enough.
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let days = secs / 86_400;
            let (y, m, d) = civil_from_days(days as i64);
            const MONTHS: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            fmt.replace("%Y", &y.to_string())
                .replace("%m", &format!("{m:02}"))
                .replace("%d", &format!("{d:02}"))
                .replace("%B", MONTHS[(m - 1) as usize])
                .replace("%b", &MONTHS[(m - 1) as usize][..3])
        });
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| anyhow::anyhow!("invalid chat template: {e}"))?;
        Ok(ChatTemplate { env })
    }

    /// Renders the prompt for `messages`, ending with the assistant's turn.
    pub fn render(
        &self,
        messages: &[Value],
        tools: Option<&Value>,
        bos: Option<&str>,
        eos: Option<&str>,
    ) -> anyhow::Result<String> {
        let tmpl = self.env.get_template("chat")?;
        tmpl.render(context! {
            messages => messages,
            tools => tools,
            add_generation_prompt => true,
            bos_token => bos.unwrap_or_default(),
            eos_token => eos.unwrap_or_default(),
        })
        .map_err(|e| anyhow::anyhow!("chat template: {e}"))
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_hf_style_templates() {
        // SmolLM2's template, as its GGUF carries it.
        let src = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        let t = ChatTemplate::new(src).unwrap();
        let out = t
            .render(
                &[json!({"role": "user", "content": "Hi"})],
                None,
                None,
                None,
            )
            .unwrap();
        assert_eq!(
            out,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_methods_bos_and_raise_exception() {
        let src = "{{ bos_token }}{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('bad role ' + m.role) }}{% endif %}{{ m.content.strip() | upper }}|{% endfor %}";
        let t = ChatTemplate::new(src).unwrap();
        let out = t
            .render(
                &[json!({"role": "user", "content": "  a "})],
                None,
                Some("<s>"),
                None,
            )
            .unwrap();
        assert_eq!(out, "<s>A|");
        let err = t
            .render(&[json!({"role": "tool", "content": "x"})], None, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad role tool"), "{err}");
    }

    #[test]
    fn fallback_is_chatml() {
        let t = ChatTemplate::new(FALLBACK).unwrap();
        let out = t
            .render(&[json!({"role": "user", "content": "x"})], None, None, None)
            .unwrap();
        assert_eq!(
            out,
            "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn gemma_fallback_folds_the_system_turn_into_the_user_turn() {
        let t = ChatTemplate::new(GEMMA_FALLBACK).unwrap();
        let out = t
            .render(
                &[
                    json!({"role": "system", "content": "Be brief."}),
                    json!({"role": "user", "content": "Hi"}),
                    json!({"role": "assistant", "content": "Hello."}),
                    json!({"role": "user", "content": "Bye"}),
                ],
                None,
                Some("<bos>"),
                None,
            )
            .unwrap();
        assert_eq!(
            out,
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"
        );
        assert_eq!(fallback(|t| t.ends_with("_of_turn>")), GEMMA_FALLBACK);
        assert_eq!(fallback(|_| false), FALLBACK);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_418), (2025, 11, 26));
    }
}
