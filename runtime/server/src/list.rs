//! OpenAI list pagination: `limit` (1–100, default 20), `order` (`asc` or
//! `desc` by `created_at`, default `desc`), `after`/`before` cursors, and
//! `first_id`/`last_id`/`has_more` in the answer.

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};

/// The list query parameters, as every list endpoint takes them. Values
/// are read as text so that a bad one gets OpenAI's error, not a parse
/// failure.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many objects, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `asc` or `desc` (default) by `created_at`.
    #[param(pattern = "^(asc|desc)$")]
    order: Option<String>,
    /// Objects after this id (the previous page's `last_id`).
    after: Option<String>,
    /// Objects before this id.
    before: Option<String>,
}

pub struct Page {
    limit: usize,
    desc: bool,
    after: Option<String>,
    before: Option<String>,
}

impl Page {
    pub fn from_query(q: &ListParams) -> ApiResult<Page> {
        let limit = match &q.limit {
            None => 20,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(Some("limit"), "'limit' must be an integer from 1 to 100")
                })?,
        };
        let desc = match q.order.as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(o) => {
                return Err(ApiError::invalid(
                    Some("order"),
                    format!("'order' must be 'asc' or 'desc', got '{o}'"),
                ));
            }
        };
        Ok(Page {
            limit,
            desc,
            after: q.after.clone(),
            before: q.before.clone(),
        })
    }

    /// One page of `items` (objects with `id` and `created_at`).
    pub fn apply(&self, mut items: Vec<Value>) -> Value {
        items.sort_by(|a, b| {
            let key = |v: &Value| {
                (
                    v["created_at"].as_u64().unwrap_or(0),
                    v["id"].as_str().unwrap_or("").to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        if self.desc {
            items.reverse();
        }
        let pos = |id: &str| items.iter().position(|v| v["id"] == id);
        let start = match &self.after {
            Some(a) => pos(a).map(|i| i + 1).unwrap_or(items.len()),
            None => 0,
        };
        let end = match &self.before {
            Some(b) => pos(b).unwrap_or(0),
            None => items.len(),
        };
        let window: Vec<Value> = if start < end {
            items[start..end].to_vec()
        } else {
            Vec::new()
        };
        let (data, has_more) = if self.before.is_some() && self.after.is_none() {
            // Walking backwards: the items just before the cursor.
            let skip = window.len().saturating_sub(self.limit);
            (window[skip..].to_vec(), skip > 0)
        } else {
            let has_more = window.len() > self.limit;
            (window.into_iter().take(self.limit).collect(), has_more)
        };
        list_object(data, has_more)
    }
}

/// `{object: list, data, first_id, last_id, has_more}`.
pub fn list_object(data: Vec<Value>, has_more: bool) -> Value {
    json!({
        "object": "list",
        "first_id": data.first().map(|v| v["id"].clone()),
        "last_id": data.last().map(|v| v["id"].clone()),
        "has_more": has_more,
        "data": data,
    })
}

/// One page of `items` ordered by their position in the list (first =
/// oldest), whatever their ids and times (a response's input items, a
/// conversation's items).
pub fn by_position(page: &Page, items: Vec<Value>) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            v["created_at"] = (i as u64).into();
            v
        })
        .collect();
    let mut out = page.apply(items);
    for v in out["data"].as_array_mut().into_iter().flatten() {
        if let Some(o) = v.as_object_mut() {
            o.remove("created_at");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: u64) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("x{i:02}"), "created_at": i}))
            .collect()
    }

    fn params(q: &[(&str, &str)]) -> ListParams {
        let q: serde_json::Map<String, Value> = q
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        serde_json::from_value(Value::Object(q)).unwrap()
    }

    fn page(q: &[(&str, &str)]) -> Page {
        Page::from_query(&params(q)).unwrap()
    }

    #[test]
    fn pages_walk_to_the_end() {
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let mut q = vec![("limit", "3"), ("order", "asc")];
            if let Some(a) = &after {
                q.push(("after", a.as_str()));
            }
            let p = page(&q).apply(items(7));
            for v in p["data"].as_array().unwrap() {
                seen.push(v["id"].as_str().unwrap().to_string());
            }
            if !p["has_more"].as_bool().unwrap() {
                break;
            }
            after = p["last_id"].as_str().map(String::from);
        }
        assert_eq!(seen.len(), 7);
        assert_eq!(seen[0], "x00");
    }

    #[test]
    fn desc_is_the_default_and_before_walks_back() {
        let p = page(&[("limit", "2")]).apply(items(5));
        assert_eq!(p["first_id"], "x04");
        assert_eq!(p["has_more"], true);
        let p = page(&[("limit", "2"), ("before", "x01"), ("order", "asc")]).apply(items(5));
        assert_eq!(p["data"].as_array().unwrap().len(), 1);
        assert_eq!(p["first_id"], "x00");
    }

    #[test]
    fn bad_limits_and_orders_are_refused() {
        assert!(Page::from_query(&params(&[("limit", "0")])).is_err());
        assert!(Page::from_query(&params(&[("order", "up")])).is_err());
    }
}
