//! Reading GGUF metadata without caring which integer width a converter
//! chose for a field.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use candle_core::quantized::gguf_file::{self, Value};

/// A GGUF file's metadata.
pub struct Meta(pub HashMap<String, Value>);

/// Reads the header (metadata and tensor index, not the weights). The
/// reader is buffered: the header holds tens of thousands of small strings
/// (the vocabulary), and unbuffered each is a system call.
pub fn read_header(
    path: &Path,
) -> anyhow::Result<(gguf_file::Content, std::io::BufReader<std::fs::File>)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut file = std::io::BufReader::new(file);
    let content = guarded(|| {
        let content = gguf_file::Content::read(&mut file)?;
        check_tensors(&content, file.get_ref().metadata()?.len())?;
        Ok(content)
    })
    .map_err(|e| anyhow::anyhow!("{} is not a valid GGUF file: {e:#}", path.display()))?;
    Ok((content, file))
}

/// Checks the tensor index before any tensor is read: Candle multiplies
/// the dimensions unchecked (a forged shape overflows) and views an empty
/// tensor's buffer as blocks (undefined behaviour).
fn check_tensors(content: &gguf_file::Content, file_len: u64) -> anyhow::Result<()> {
    let room = file_len.saturating_sub(content.tensor_data_offset);
    for (name, t) in &content.tensor_infos {
        let dims = t.shape.dims();
        let elems = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d).filter(|_| d > 0))
            .ok_or_else(|| anyhow::anyhow!("tensor '{name}' has the shape {dims:?}"))?;
        let block = t.ggml_dtype.block_size();
        (elems % block == 0)
            .then(|| (elems / block).checked_mul(t.ggml_dtype.type_size()))
            .flatten()
            .filter(|&b| {
                t.offset
                    .checked_add(b as u64)
                    .is_some_and(|end| end <= room)
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "tensor '{name}' ({dims:?} of {:?} at offset {}) does not fit in the file",
                    t.ggml_dtype,
                    t.offset
                )
            })?;
    }
    Ok(())
}

/// Runs Candle's GGUF code on an untrusted file: a panic there (a forged
/// `general.alignment` of 0 divides by zero in Candle 0.11) is an error
/// for this file, not a crash of the request's task.
pub fn guarded<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(anyhow::anyhow!("the file is malformed ({why})"))
    })
}

impl Meta {
    pub fn get(&self, key: &str) -> anyhow::Result<&Value> {
        self.0
            .get(key)
            .with_context(|| format!("GGUF metadata has no `{key}`"))
    }

    pub fn arch(&self) -> anyhow::Result<String> {
        self.str("general.architecture").map(str::to_string)
    }

    pub fn str(&self, key: &str) -> anyhow::Result<&str> {
        match self.get(key)? {
            Value::String(s) => Ok(s),
            v => anyhow::bail!("GGUF metadata `{key}` is not a string: {v:?}"),
        }
    }

    pub fn usize(&self, key: &str) -> anyhow::Result<usize> {
        int(self.get(key)?).with_context(|| format!("GGUF metadata `{key}` is not an integer"))
    }

    pub fn f32(&self, key: &str) -> anyhow::Result<f32> {
        match self.get(key)? {
            Value::F32(v) => Ok(*v),
            Value::F64(v) => Ok(*v as f32),
            v => int(v)
                .map(|i| i as f32)
                .with_context(|| format!("GGUF metadata `{key}` is not a number")),
        }
    }

    pub fn bool(&self, key: &str) -> anyhow::Result<bool> {
        match self.get(key)? {
            Value::Bool(b) => Ok(*b),
            v => int(v)
                .map(|i| i != 0)
                .with_context(|| format!("GGUF metadata `{key}` is not a boolean")),
        }
    }

    pub fn strings(&self, key: &str) -> anyhow::Result<Vec<String>> {
        match self.get(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => anyhow::bail!("GGUF metadata `{key}` holds a non-string"),
                })
                .collect(),
            _ => anyhow::bail!("GGUF metadata `{key}` is not an array"),
        }
    }

    pub fn ints(&self, key: &str) -> anyhow::Result<Vec<i64>> {
        match self.get(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| int(v).map(|i| i as i64).context("not an integer"))
                .collect(),
            _ => anyhow::bail!("GGUF metadata `{key}` is not an array"),
        }
    }

    pub fn floats(&self, key: &str) -> anyhow::Result<Vec<f32>> {
        match self.get(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::F32(f) => Ok(*f),
                    Value::F64(f) => Ok(*f as f32),
                    _ => anyhow::bail!("not a float"),
                })
                .collect(),
            _ => anyhow::bail!("GGUF metadata `{key}` is not an array"),
        }
    }
}

fn int(v: &Value) -> Option<usize> {
    Some(match v {
        Value::U8(x) => *x as usize,
        Value::I8(x) => usize::try_from(*x).ok()?,
        Value::U16(x) => *x as usize,
        Value::I16(x) => usize::try_from(*x).ok()?,
        Value::U32(x) => *x as usize,
        Value::I32(x) => usize::try_from(*x).ok()?,
        Value::U64(x) => usize::try_from(*x).ok()?,
        Value::I64(x) => usize::try_from(*x).ok()?,
        _ => return None,
    })
}
