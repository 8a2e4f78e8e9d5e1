//! Chat templates: the GGUF's `tokenizer.chat_template` (Jinja), rendered
//! with minijinja the way Hugging Face renders them (`trim_blocks`,
//! `lstrip_blocks`, loop controls, Python string methods, `raise_exception`).
//!
//! A GGUF's template is untrusted input: a downloaded file could carry one
//! that loops forever, recurses without end or prints gigabytes. Rendering
//! is bounded: [`FUEL`] instructions (loops and recursion), minijinja's
//! recursion limit, [`MAX_SOURCE`] bytes of template and [`MAX_OUTPUT`]
//! bytes of prompt. Not bounded: strings built in memory rather than
//! written to the prompt (a string concatenated with itself in a loop, or
//! `'x' * 10**8` repeated in a loop inside a macro or `{% set %}` block,
//! whose output is captured): minijinja offers no hook to bound a value's
//! size.

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

/// Instructions one rendering may run: real templates take well under a
/// hundred per message; this allows thousands of messages with tools.
pub const FUEL: u64 = 20_000_000;
/// The longest template accepted (the largest real ones are about 20 KB).
pub const MAX_SOURCE: usize = 1 << 20;
/// The longest prompt a template may produce: far past any context window.
pub const MAX_OUTPUT: usize = 16 << 20;

pub struct ChatTemplate {
    env: Environment<'static>,
}

impl ChatTemplate {
    pub fn new(source: &str) -> anyhow::Result<ChatTemplate> {
        anyhow::ensure!(
            source.len() <= MAX_SOURCE,
            "invalid chat template: {} bytes, more than {MAX_SOURCE}",
            source.len()
        );
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
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
        let mut out = Capped(Vec::new(), false);
        tmpl.render_captured_to(
            context! {
                messages => messages,
                tools => tools,
                add_generation_prompt => true,
                bos_token => bos.unwrap_or_default(),
                eos_token => eos.unwrap_or_default(),
            },
            &mut out,
        )
        .map_err(|e| match out.1 {
            true => anyhow::anyhow!("chat template: the prompt is longer than {MAX_OUTPUT} bytes"),
            false => anyhow::anyhow!("chat template: {e}"),
        })?;
        String::from_utf8(out.0).map_err(|e| anyhow::anyhow!("chat template: {e}"))
    }
}

/// A prompt buffer that refuses to grow past [`MAX_OUTPUT`] (and says
/// that it did: minijinja's error loses the cause).
struct Capped(Vec<u8>, bool);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            self.1 = true;
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    fn hostile_templates_end_with_an_error() {
        let msgs = [json!({"role": "user", "content": "Hi"})];
        for (src, says) in [
            // Loops: 10^10 iterations.
            (
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                "fuel",
            ),
            // Recursion without end.
            (
                "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
                "recursion",
            ),
            // A recursive loop without end.
            (
                "{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}",
                "recursion",
            ),
            // 10 GB of output.
            (
                "{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}",
                "longer than",
            ),
        ] {
            let err = ChatTemplate::new(src)
                .and_then(|t| t.render(&msgs, None, None, None))
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{src}: {err}");
        }
        let huge = "x".repeat(MAX_SOURCE + 1);
        assert!(ChatTemplate::new(&huge).is_err());
    }

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
