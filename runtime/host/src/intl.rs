//! `Intl` for assistant code, on ICU4X's compiled CLDR data: the engine
//! has no locale data of its own, so `Intl.NumberFormat("de-DE")` would
//! format like "en". The JS side (`js-prelude/60_intl.js`) parses the
//! options as ECMA-402 does and calls these ops; formatters are built once
//! per locale and options and kept for the isolate's thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;
use fixed_decimal::{Decimal, FloatPrecision, SignedRoundingMode, UnsignedRoundingMode};
use icu::locale::Locale;
use serde::Deserialize;
use writeable::Writeable;

fn locale(tag: &str) -> Result<Locale, JsErrorBox> {
    Locale::from_str(tag).map_err(|_| {
        JsErrorBox::range_error(format!("Incorrect locale information provided: {tag}"))
    })
}

fn data_error(e: impl std::fmt::Display) -> JsErrorBox {
    JsErrorBox::range_error(format!("Intl: {e}"))
}

/// The canonical form of a language tag (`en-us` → `en-US`).
#[op2]
#[string]
pub fn op_jan_intl_canonical(#[string] tag: &str) -> Result<String, JsErrorBox> {
    Ok(locale(tag)?.to_string())
}

/// Formatters kept per thread; the keys come from assistant code, so the
/// cache is emptied rather than allowed to grow past this.
const MAX_CACHED: usize = 64;

fn remember<K: std::hash::Hash + Eq, V>(cache: &mut HashMap<K, V>, key: K, value: V) {
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(key, value);
}

// ---- numbers ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberOptions {
    style: String,
    currency: Option<String>,
    min_int: i16,
    min_frac: i16,
    max_frac: i16,
    grouping: bool,
    /// The currency's minor digits (2 for USD, 0 for JPY).
    #[serde(default)]
    currency_digits: i16,
}

enum NumberFormatter {
    Decimal(icu::decimal::DecimalFormatter),
    Percent(
        icu::experimental::dimension::percent::formatter::PercentFormatter<
            icu::decimal::DecimalFormatter,
        >,
    ),
    /// The currency formatter pads to the currency's digits; the decimal
    /// formatter (same locale) lets fewer digits be shown.
    Currency(
        icu::experimental::dimension::currency::formatter::CurrencyFormatter<
            icu::decimal::DecimalFormatter,
        >,
        icu::decimal::DecimalFormatter,
    ),
}

/// What a number formatter depends on: locale, style, currency, grouping.
type NumberKey = (String, String, Option<String>, bool);

thread_local! {
    static NUMBER: RefCell<HashMap<NumberKey, std::rc::Rc<NumberFormatter>>> = RefCell::default();
}

fn number_formatter(
    tag: &str,
    o: &NumberOptions,
) -> Result<std::rc::Rc<NumberFormatter>, JsErrorBox> {
    let key = (
        tag.to_string(),
        o.style.clone(),
        o.currency.clone(),
        o.grouping,
    );
    if let Some(f) = NUMBER.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(f);
    }
    let loc = locale(tag)?;
    let mut options = icu::decimal::options::DecimalFormatterOptions::default();
    options.grouping_strategy = Some(if o.grouping {
        icu::decimal::options::GroupingStrategy::Auto
    } else {
        icu::decimal::options::GroupingStrategy::Never
    });
    let f = match o.style.as_str() {
        "percent" => {
            let decimal = icu::decimal::DecimalFormatter::try_new((&loc).into(), options)
                .map_err(data_error)?;
            NumberFormatter::Percent(
                icu::experimental::dimension::percent::formatter::PercentFormatter::try_new_with_decimal_formatter(
                    (&loc).into(),
                    decimal,
                    Default::default(),
                )
                .map_err(data_error)?,
            )
        }
        "currency" => {
            let code = o.currency.as_deref().unwrap_or("USD").to_ascii_lowercase();
            let currency = icu::experimental::dimension::currency::CurrencyType::try_from_str(
                &code,
            )
            .map_err(|_| JsErrorBox::range_error(format!("Invalid currency code : {code}")))?;
            NumberFormatter::Currency(
                icu::experimental::dimension::currency::formatter::CurrencyFormatter::try_new_symbol(
                    (&loc).into(),
                    currency,
                    Default::default(),
                )
                .map_err(data_error)?,
                icu::decimal::DecimalFormatter::try_new((&loc).into(), options)
                    .map_err(data_error)?,
            )
        }
        _ => NumberFormatter::Decimal(
            icu::decimal::DecimalFormatter::try_new((&loc).into(), options).map_err(data_error)?,
        ),
    };
    let f = std::rc::Rc::new(f);
    NUMBER.with(|c| remember(&mut c.borrow_mut(), key, f.clone()));
    Ok(f)
}

/// `value` rounded the way ECMA-402 does by default (half away from zero)
/// to at most `max_frac` and at least `min_frac` fraction digits.
fn decimal_of(value: f64, o: &NumberOptions) -> Result<Decimal, JsErrorBox> {
    let mut d = Decimal::try_from_f64(value, FloatPrecision::RoundTrip)
        .map_err(|_| JsErrorBox::range_error(format!("Intl: cannot format {value}")))?;
    if o.style == "percent" {
        // Scaled in decimal: 0.145 is 14.5 percent, not 14.499999...
        d.multiply_pow10(2);
    }
    d.round_with_mode(
        -o.max_frac,
        SignedRoundingMode::Unsigned(UnsignedRoundingMode::HalfExpand),
    );
    d.trim_end();
    d.pad_end(-o.min_frac);
    d.pad_start(o.min_int);
    Ok(d)
}

#[op2]
#[string]
pub fn op_jan_intl_number(
    #[string] tag: &str,
    value: f64,
    #[serde] options: NumberOptions,
) -> Result<String, JsErrorBox> {
    let f = number_formatter(tag, &options)?;
    let out = match &*f {
        NumberFormatter::Decimal(f) => f
            .format(&decimal_of(value, &options)?)
            .write_to_string()
            .into_owned(),
        NumberFormatter::Percent(f) => {
            // The percent formatter takes the number of percent.
            let d = decimal_of(value, &options)?;
            f.format(&d).write_to_string().into_owned()
        }
        NumberFormatter::Currency(f, decimal) => {
            let d = decimal_of(value, &options)?;
            let text = f.format_fixed_decimal(&d).write_to_string().into_owned();
            if options.max_frac >= options.currency_digits {
                text
            } else {
                // Fewer digits than the currency has: swap the number the
                // currency formatter padded for the one asked for.
                let mut padded = d.clone();
                padded.pad_end(-options.currency_digits);
                let long = decimal.format(&padded).write_to_string().into_owned();
                let short = decimal.format(&d).write_to_string().into_owned();
                text.replacen(&long, &short, 1)
            }
        }
    };
    Ok(out)
}

// ---- plural rules ------------------------------------------------------------

#[op2]
#[string]
pub fn op_jan_intl_plural(
    #[string] tag: &str,
    ordinal: bool,
    value: f64,
    min_frac: i32,
    max_frac: i32,
) -> Result<String, JsErrorBox> {
    use icu::plurals::{PluralCategory, PluralRules};
    let loc = locale(tag)?;
    let rules = if ordinal {
        PluralRules::try_new_ordinal((&loc).into())
    } else {
        PluralRules::try_new_cardinal((&loc).into())
    }
    .map_err(data_error)?;
    let mut d = Decimal::try_from_f64(value, FloatPrecision::RoundTrip)
        .map_err(|_| JsErrorBox::range_error(format!("Intl: cannot select for {value}")))?;
    d.round_with_mode(
        -(max_frac as i16),
        SignedRoundingMode::Unsigned(UnsignedRoundingMode::HalfExpand),
    );
    d.trim_end();
    d.pad_end(-(min_frac as i16));
    Ok(match rules.category_for(&d) {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
    .to_string())
}

// ---- collation ---------------------------------------------------------------

thread_local! {
    static COLLATORS: RefCell<HashMap<(String, String, bool), std::rc::Rc<icu::collator::CollatorBorrowed<'static>>>> = RefCell::default();
}

/// Compares two strings as `Intl.Collator(tag, {sensitivity, numeric})`.
#[op2(fast)]
pub fn op_jan_intl_compare(
    #[string] tag: &str,
    #[string] sensitivity: &str,
    numeric: bool,
    #[string] a: &str,
    #[string] b: &str,
) -> Result<i32, JsErrorBox> {
    use icu::collator::options::{CaseLevel, CollatorOptions, Strength};
    let key = (tag.to_string(), sensitivity.to_string(), numeric);
    let collator = match COLLATORS.with(|c| c.borrow().get(&key).cloned()) {
        Some(c) => c,
        None => {
            let mut loc = locale(tag)?;
            if numeric {
                loc.extensions.unicode.keywords.set(
                    icu::locale::extensions::unicode::key!("kn"),
                    icu::locale::extensions::unicode::value!("true"),
                );
            }
            let mut options = CollatorOptions::default();
            match sensitivity {
                "base" => options.strength = Some(Strength::Primary),
                "accent" => options.strength = Some(Strength::Secondary),
                "case" => {
                    options.strength = Some(Strength::Primary);
                    options.case_level = Some(CaseLevel::On);
                }
                _ => options.strength = Some(Strength::Tertiary),
            }
            let c = std::rc::Rc::new(
                icu::collator::Collator::try_new((&loc).into(), options).map_err(data_error)?,
            );
            COLLATORS.with(|m| remember(&mut m.borrow_mut(), key, c.clone()));
            c
        }
    };
    Ok(match collator.compare(a, b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    })
}

// ---- segmentation ------------------------------------------------------------

/// Break points of `text` (UTF-16 indices, as JS strings count) for
/// `granularity` grapheme, word or sentence; for words also whether each
/// segment is word-like.
#[op2]
#[serde]
pub fn op_jan_intl_segment(
    state: &mut OpState,
    #[string] granularity: &str,
    #[string] text: &str,
) -> Result<(Vec<usize>, Vec<bool>), JsErrorBox> {
    // The break list costs several bytes per character outside the heap.
    let max = state.borrow::<crate::ext::Ctx>().max_bytes / 16;
    if text.len() > max {
        return Err(JsErrorBox::range_error(format!(
            "Intl.Segmenter: the text is longer than {max} bytes (a sixteenth of the assistant's heap limit)"
        )));
    }
    use icu::segmenter::{GraphemeClusterSegmenter, SentenceSegmenter, WordSegmenter};
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let mut breaks = Vec::new();
    let mut word_like = Vec::new();
    match granularity {
        "grapheme" => breaks.extend(GraphemeClusterSegmenter::new().segment_utf16(&utf16)),
        "sentence" => {
            breaks.extend(SentenceSegmenter::new(Default::default()).segment_utf16(&utf16))
        }
        "word" => {
            let mut it = WordSegmenter::new_auto(Default::default()).segment_utf16(&utf16);
            while let Some(b) = it.next() {
                if b > 0 {
                    word_like.push(it.is_word_like());
                }
                breaks.push(b);
            }
        }
        other => {
            return Err(JsErrorBox::range_error(format!(
                "Value {other} out of range for Intl.Segmenter options property granularity"
            )));
        }
    }
    Ok((breaks, word_like))
}

// ---- lists -------------------------------------------------------------------

#[op2]
#[string]
pub fn op_jan_intl_list(
    #[string] tag: &str,
    #[string] kind: &str,
    #[string] style: &str,
    #[serde] items: Vec<String>,
) -> Result<String, JsErrorBox> {
    use icu::list::{ListFormatter, options::ListFormatterOptions, options::ListLength};
    let loc = locale(tag)?;
    let length = match style {
        "short" => ListLength::Short,
        "narrow" => ListLength::Narrow,
        _ => ListLength::Wide,
    };
    let options = ListFormatterOptions::default().with_length(length);
    let f = match kind {
        "disjunction" => ListFormatter::try_new_or((&loc).into(), options),
        "unit" => ListFormatter::try_new_unit((&loc).into(), options),
        _ => ListFormatter::try_new_and((&loc).into(), options),
    }
    .map_err(data_error)?;
    Ok(f.format(items.iter().map(String::as_str))
        .write_to_string()
        .into_owned())
}

// ---- dates and times -----------------------------------------------------------

/// A wall-clock time (already shifted to the wanted time zone by the JS
/// side) and which fields to show.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeRequest {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    /// "full", "long", "medium", "short", "numeric" (short with the full
    /// year), or none.
    date: Option<String>,
    /// "hm" or "hms", or none.
    time: Option<String>,
}

#[op2]
#[string]
pub fn op_jan_intl_datetime(
    #[string] tag: &str,
    #[serde] r: DateTimeRequest,
) -> Result<String, JsErrorBox> {
    use icu::datetime::DateTimeFormatter;
    use icu::datetime::fieldsets::enums::{
        CompositeDateTimeFieldSet, DateAndTimeFieldSet, DateFieldSet, TimeFieldSet,
    };
    use icu::datetime::fieldsets::{self, T, YMD, YMDE};
    use icu::datetime::input::{Date, DateTime, Time};
    use icu::datetime::options::{Length, TimePrecision, YearStyle};
    let loc = locale(tag)?;
    let date = Date::try_new_iso(r.year, r.month, r.day).map_err(data_error)?;
    let time = Time::try_new(r.hour, r.minute, r.second, 0).map_err(data_error)?;
    let precision = match r.time.as_deref() {
        Some("hm") => Some(TimePrecision::Minute),
        Some(_) => Some(TimePrecision::Second),
        None => None,
    };
    let date_set = r.date.as_deref().map(|style| match style {
        "full" => DateFieldSet::YMDE(YMDE::long()),
        "long" => DateFieldSet::YMD(YMD::long()),
        "medium" => DateFieldSet::YMD(YMD::medium()),
        "short" => DateFieldSet::YMD(YMD::short()),
        _ => DateFieldSet::YMD(YMD::short().with_year_style(YearStyle::Full)),
    });
    let set = match (date_set, precision) {
        (Some(d), None) => CompositeDateTimeFieldSet::Date(d),
        (None, Some(p)) => {
            CompositeDateTimeFieldSet::Time(TimeFieldSet::T(T::short().with_time_precision(p)))
        }
        (Some(d), Some(p)) => CompositeDateTimeFieldSet::DateTime(match d {
            DateFieldSet::YMDE(f) => DateAndTimeFieldSet::YMDET(f.with_time(p)),
            DateFieldSet::YMD(f) => DateAndTimeFieldSet::YMDT(f.with_time(p)),
            _ => DateAndTimeFieldSet::YMDT(YMD::short().with_time(p)),
        }),
        (None, None) => CompositeDateTimeFieldSet::Date(DateFieldSet::YMD(
            YMD::short().with_year_style(YearStyle::Full),
        )),
    };
    let _ = (Length::Short, fieldsets::YMD::short());
    let f = DateTimeFormatter::try_new((&loc).into(), set).map_err(data_error)?;
    Ok(f.format(&DateTime { date, time })
        .write_to_string()
        .into_owned())
}
