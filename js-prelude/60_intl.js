// Intl with locale data (ICU4X's CLDR, runtime/host/src/intl.rs): the
// engine's own Intl formats every locale like "en". NumberFormat,
// DateTimeFormat, Collator, PluralRules, Segmenter and ListFormat, and the
// toLocaleString family on top of them. Options jan cannot honour throw a
// RangeError that names them rather than being ignored.
const core = globalThis.Deno.core;
const ops = core.ops;
const engineIntl = globalThis.Intl ?? {};
const DEFAULT_LOCALE = "en-US";

function canonical(tag) {
  if (typeof tag !== "string" && !(tag && typeof tag === "object")) {
    throw new TypeError("Language ID should be string or object.");
  }
  try {
    return ops.op_jan_intl_canonical(String(tag));
  } catch {
    throw new RangeError(`Incorrect locale information provided: ${tag}`);
  }
}

function localeList(locales) {
  if (locales === undefined) return [];
  const list = typeof locales === "string" || !locales[Symbol.iterator] ? [locales] : [...locales];
  return [...new Set(list.map(canonical))];
}

function resolveLocale(locales) {
  return localeList(locales)[0] ?? DEFAULT_LOCALE;
}

function unsupported(ctor, option, value) {
  throw new RangeError(`Intl.${ctor}: ${option} ${JSON.stringify(value)} is not supported in jan assistants`);
}

function digits(options, name, min, max, fallback) {
  const v = options[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`${name} value is out of range.`);
  return Math.floor(n);
}

// Minor units of currencies that do not have 2 (ISO 4217).
const CURRENCY_DIGITS = { BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0 };

class NumberFormat {
  #locale;
  #o;
  #sig;
  #sign;
  constructor(locales, options = {}) {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    const style = options.style ?? "decimal";
    if (!["decimal", "percent", "currency"].includes(style)) {
      if (style === "unit") unsupported("NumberFormat", "style", style);
      throw new RangeError(`Value ${style} out of range for Intl.NumberFormat options property style`);
    }
    let currency = null;
    if (style === "currency") {
      if (options.currency === undefined) throw new TypeError("Currency code is required with currency style.");
      currency = String(options.currency).toUpperCase();
      if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`Invalid currency code : ${options.currency}`);
      if (options.currencyDisplay !== undefined && options.currencyDisplay !== "symbol") {
        unsupported("NumberFormat", "currencyDisplay", options.currencyDisplay);
      }
    }
    if (options.notation !== undefined && options.notation !== "standard") unsupported("NumberFormat", "notation", options.notation);
    const cd = currency ? (CURRENCY_DIGITS[currency] ?? 2) : 0;
    // ECMA-402: the defaults give way to what was set (a currency with
    // maximumFractionDigits 0 rounds to whole units).
    const defaultMin = style === "currency" ? cd : 0;
    const defaultMax = style === "currency" ? cd : style === "percent" ? 0 : 3;
    let minFrac = digits(options, "minimumFractionDigits", 0, 100, undefined);
    let maxFrac = digits(options, "maximumFractionDigits", 0, 100, undefined);
    if (minFrac === undefined) minFrac = Math.min(defaultMin, maxFrac ?? defaultMin);
    if (maxFrac === undefined) maxFrac = Math.max(defaultMax, minFrac);
    if (maxFrac < minFrac) throw new RangeError("maximumFractionDigits value is out of range.");
    const minInt = digits(options, "minimumIntegerDigits", 1, 21, 1);
    if (options.maximumSignificantDigits !== undefined || options.minimumSignificantDigits !== undefined) {
      const minSig = digits(options, "minimumSignificantDigits", 1, 21, 1);
      this.#sig = { min: minSig, max: digits(options, "maximumSignificantDigits", minSig, 21, 21) };
    }
    const grouping = options.useGrouping === undefined ? true : options.useGrouping !== false && options.useGrouping !== "false";
    this.#sign = options.signDisplay ?? "auto";
    if (!["auto", "always", "never", "exceptZero", "negative"].includes(this.#sign)) {
      throw new RangeError(`Value ${this.#sign} out of range for Intl.NumberFormat options property signDisplay`);
    }
    this.#o = { style, currency, minInt, minFrac, maxFrac, grouping, currencyDigits: cd };
  }

  format(value) {
    let x = typeof value === "bigint" ? Number(value) : Number(value);
    if (Number.isNaN(x)) return "NaN";
    const negative = x < 0 || Object.is(x, -0);
    const show = this.#sign;
    if (show === "never" || (show === "negative" && x === 0)) x = Math.abs(x);
    let o = this.#o;
    if (this.#sig) {
      const scaled = o.style === "percent" ? x * 100 : x;
      const rounded = scaled === 0 ? 0 : Number(scaled.toPrecision(this.#sig.max));
      const magnitude = rounded === 0 ? 0 : Math.floor(Math.log10(Math.abs(rounded)));
      const maxFrac = Math.max(0, this.#sig.max - 1 - magnitude);
      const minFrac = Math.max(0, this.#sig.min - 1 - magnitude);
      x = o.style === "percent" ? rounded / 100 : rounded;
      o = { ...o, minFrac: Math.min(minFrac, maxFrac), maxFrac };
    }
    if (!Number.isFinite(x)) {
      const inf = (x < 0 ? "-" : "") + "\u221e";
      return o.style === "percent" ? inf + "%" : inf;
    }
    let out = ops.op_jan_intl_number(this.#locale, x, o);
    const zero = x === 0 || /^[^1-9]*$/.test(out);
    if ((show === "always" || (show === "exceptZero" && !zero)) && !negative) out = "+" + out;
    if (show === "exceptZero" && zero) out = out.replace(/^[-\u2212]/, "");
    return out;
  }

  formatToParts(value) {
    const text = this.format(value);
    const decimal = ops.op_jan_intl_number(this.#locale, 1.5, { ...this.#o, style: "decimal", minFrac: 1, maxFrac: 1 }).replace(/\d/g, "");
    const parts = [];
    let seenDecimal = false;
    for (const m of text.matchAll(/\d+|[^\d]+/g)) {
      const t = m[0];
      if (/^\d+$/.test(t)) {
        parts.push({ type: seenDecimal ? "fraction" : "integer", value: t });
      } else if (t === decimal && !seenDecimal && /\d/.test(text.slice(m.index + t.length, m.index + t.length + 1))) {
        seenDecimal = true;
        parts.push({ type: "decimal", value: t });
      } else if (/^[-\u2212]$/.test(t)) {
        parts.push({ type: "minusSign", value: t });
      } else if (t === "+") {
        parts.push({ type: "plusSign", value: t });
      } else if (/^[.,\u00a0\u202f' ]$/.test(t) && parts.length && parts[parts.length - 1].type === "integer" && !seenDecimal) {
        parts.push({ type: "group", value: t });
      } else {
        for (const piece of t.split(/(\s+)/).filter(Boolean)) {
          const type = /^\s+$/.test(piece) ? "literal" : piece.includes("%") ? "percentSign" : this.#o.style === "currency" ? "currency" : "literal";
          parts.push({ type, value: piece });
        }
      }
    }
    return parts;
  }

  resolvedOptions() {
    const o = this.#o;
    return {
      locale: this.#locale,
      numberingSystem: "latn",
      style: o.style,
      ...(o.currency ? { currency: o.currency, currencyDisplay: "symbol", currencySign: "standard" } : {}),
      minimumIntegerDigits: o.minInt,
      minimumFractionDigits: o.minFrac,
      maximumFractionDigits: o.maxFrac,
      ...(this.#sig ? { minimumSignificantDigits: this.#sig.min, maximumSignificantDigits: this.#sig.max } : {}),
      useGrouping: o.grouping ? "auto" : false,
      notation: "standard",
      signDisplay: this.#sign,
      roundingMode: "halfExpand",
    };
  }
}

// Time zones: UTC, or the machine's own (what Date's local methods use),
// under the name resolvedOptions() reports for it.
function zoneOf(options) {
  const tz = options.timeZone;
  if (tz === undefined) return null;
  const name = String(tz);
  if (/^(utc|etc\/utc|gmt|etc\/gmt|z|zulu|etc\/universal|universal)$/i.test(name)) return "UTC";
  if (name === localZoneName()) return null;
  throw new RangeError(`Intl.DateTimeFormat: timeZone "${name}" is not supported in jan assistants (UTC and the machine's own zone, ${localZoneName()}, are)`);
}

// The machine's zone as an offset name ("+05:30"; ECMA-402 accepts
// offset time zones), or UTC.
function localZoneName() {
  const offset = -new Date().getTimezoneOffset();
  if (offset === 0) return "UTC";
  const abs = Math.abs(offset);
  return `${offset > 0 ? "+" : "-"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const DATE_STYLES = ["full", "long", "medium", "short"];

class DateTimeFormat {
  #locale;
  #tag;
  #zone;
  #date;
  #time;
  #options;
  constructor(locales, options = {}, defaults = "date") {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    this.#zone = zoneOf(options);
    for (const name of ["era", "timeZoneName", "fractionalSecondDigits", "dayPeriod", "formatMatcher"]) {
      if (options[name] !== undefined) unsupported("DateTimeFormat", name, options[name]);
    }
    const { dateStyle, timeStyle } = options;
    for (const [name, v] of [["dateStyle", dateStyle], ["timeStyle", timeStyle]]) {
      if (v !== undefined && !DATE_STYLES.includes(v)) throw new RangeError(`Value ${v} out of range for Intl.DateTimeFormat options property ${name}`);
    }
    const has = (k) => options[k] !== undefined;
    const dateFields = ["weekday", "year", "month", "day"].some(has);
    const timeFields = ["hour", "minute", "second"].some(has);
    if ((dateStyle || timeStyle) && (dateFields || timeFields)) {
      throw new TypeError("Can't set option " + ["weekday", "year", "month", "day", "hour", "minute", "second"].find(has) + " when dateStyle/timeStyle is used");
    }
    if (dateStyle || timeStyle) {
      this.#date = dateStyle ?? null;
      this.#time = timeStyle ? (timeStyle === "short" ? "hm" : "hms") : null;
    } else if (dateFields || timeFields) {
      // The closest CLDR length for the fields asked for.
      this.#date = !dateFields ? null : has("weekday") ? "full" : options.month === "long" ? "long" : options.month === "short" ? "medium" : "numeric";
      this.#time = !timeFields ? null : has("second") ? "hms" : "hm";
    } else {
      this.#date = defaults === "time" ? null : "numeric";
      this.#time = defaults === "date" ? null : "hms";
    }
    // 12- or 24-hour clock: a Unicode extension ICU reads.
    let hc = options.hourCycle;
    if (options.hour12 !== undefined) hc = options.hour12 ? "h12" : "h23";
    if (hc !== undefined && !["h11", "h12", "h23", "h24"].includes(hc)) throw new RangeError(`Value ${hc} out of range for Intl.DateTimeFormat options property hourCycle`);
    this.#tag = hc ? `${this.#locale.replace(/-u-.*$/, "")}-u-hc-${hc}` : this.#locale;
    this.#options = { ...options };
  }

  format(date) {
    const t = date === undefined ? Date.now() : Number(date instanceof Date ? date.getTime() : date);
    if (!Number.isFinite(t)) throw new RangeError("Invalid time value");
    const offset = this.#zone === "UTC" ? 0 : -new Date(t).getTimezoneOffset();
    const d = new Date(t + offset * 60000);
    // CLDR puts a narrow no-break space before AM/PM; V8 (and so node and
    // the code written against them) prints a plain space.
    return ops.op_jan_intl_datetime(this.#tag, {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      date: this.#date,
      time: this.#time,
    }).replace(/\u202f/g, " ");
  }

  formatToParts(date) {
    return [{ type: "literal", value: this.format(date) }];
  }

  resolvedOptions() {
    return {
      locale: this.#locale,
      calendar: "gregory",
      numberingSystem: "latn",
      timeZone: this.#zone ?? localZoneName(),
      ...(this.#options.dateStyle ? { dateStyle: this.#options.dateStyle } : {}),
      ...(this.#options.timeStyle ? { timeStyle: this.#options.timeStyle } : {}),
    };
  }
}

class Collator {
  #locale;
  #sensitivity;
  #numeric;
  #compare;
  constructor(locales, options = {}) {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    this.#sensitivity = options.sensitivity ?? "variant";
    if (!["base", "accent", "case", "variant"].includes(this.#sensitivity)) {
      throw new RangeError(`Value ${this.#sensitivity} out of range for Intl.Collator options property sensitivity`);
    }
    this.#numeric = !!options.numeric || /-u-.*kn(-true)?(-|$)/.test(this.#locale);
    if (options.ignorePunctuation) unsupported("Collator", "ignorePunctuation", true);
    const locale = this.#locale;
    const sensitivity = this.#sensitivity;
    const numeric = this.#numeric;
    this.#compare = (a, b) => ops.op_jan_intl_compare(locale, sensitivity, numeric, String(a), String(b));
  }

  get compare() {
    return this.#compare;
  }

  resolvedOptions() {
    return { locale: this.#locale, usage: "sort", sensitivity: this.#sensitivity, ignorePunctuation: false, collation: "default", numeric: this.#numeric, caseFirst: "false" };
  }
}

class PluralRules {
  #locale;
  #ordinal;
  #minFrac;
  #maxFrac;
  constructor(locales, options = {}) {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    const type = options.type ?? "cardinal";
    if (type !== "cardinal" && type !== "ordinal") throw new RangeError(`Value ${type} out of range for Intl.PluralRules options property type`);
    this.#ordinal = type === "ordinal";
    this.#minFrac = digits(options, "minimumFractionDigits", 0, 100, 0);
    this.#maxFrac = digits(options, "maximumFractionDigits", 0, 100, Math.max(this.#minFrac, 3));
  }

  select(n) {
    const x = Number(n);
    if (!Number.isFinite(x)) return "other";
    return ops.op_jan_intl_plural(this.#locale, this.#ordinal, Math.abs(x), this.#minFrac, this.#maxFrac);
  }

  resolvedOptions() {
    const samples = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 20, 21, 22, 23, 100, 101, 102, 1000000, 0.5, 1.5];
    const order = ["zero", "one", "two", "few", "many", "other"];
    const found = new Set(samples.map((x) => this.select(x)));
    return {
      locale: this.#locale,
      type: this.#ordinal ? "ordinal" : "cardinal",
      minimumIntegerDigits: 1,
      minimumFractionDigits: this.#minFrac,
      maximumFractionDigits: this.#maxFrac,
      pluralCategories: order.filter((c) => found.has(c)),
    };
  }
}

class Segmenter {
  #locale;
  #granularity;
  constructor(locales, options = {}) {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    this.#granularity = options.granularity ?? "grapheme";
    if (!["grapheme", "word", "sentence"].includes(this.#granularity)) {
      throw new RangeError(`Value ${this.#granularity} out of range for Intl.Segmenter options property granularity`);
    }
  }

  segment(input) {
    const text = String(input);
    const granularity = this.#granularity;
    const [breaks, wordLike] = ops.op_jan_intl_segment(granularity, text);
    const segments = [];
    for (let i = 1; i < breaks.length; i++) {
      const s = { segment: text.slice(breaks[i - 1], breaks[i]), index: breaks[i - 1], input: text };
      if (granularity === "word") s.isWordLike = wordLike[i - 1];
      segments.push(s);
    }
    return {
      containing(index = 0) {
        const i = Number(index);
        return segments.find((s) => i >= s.index && i < s.index + s.segment.length);
      },
      [Symbol.iterator]() {
        return segments[Symbol.iterator]();
      },
    };
  }

  resolvedOptions() {
    return { locale: this.#locale, granularity: this.#granularity };
  }
}

class ListFormat {
  #locale;
  #type;
  #style;
  constructor(locales, options = {}) {
    options = options ?? {};
    this.#locale = resolveLocale(locales);
    this.#type = options.type ?? "conjunction";
    this.#style = options.style ?? "long";
    if (!["conjunction", "disjunction", "unit"].includes(this.#type)) throw new RangeError(`Value ${this.#type} out of range for Intl.ListFormat options property type`);
    if (!["long", "short", "narrow"].includes(this.#style)) throw new RangeError(`Value ${this.#style} out of range for Intl.ListFormat options property style`);
  }

  format(list) {
    const items = [...(list ?? [])].map((x) => {
      if (typeof x !== "string") throw new TypeError("Iterable yielded " + String(x) + " which is not a string");
      return x;
    });
    return ops.op_jan_intl_list(this.#locale, this.#type, this.#style, items);
  }

  resolvedOptions() {
    return { locale: this.#locale, type: this.#type, style: this.#style };
  }
}

for (const C of [NumberFormat, DateTimeFormat, Collator, PluralRules, Segmenter, ListFormat]) {
  C.supportedLocalesOf = (locales) => localeList(locales);
}

// NumberFormat, DateTimeFormat and Collator may be called without `new`
// (ECMA-402's legacy constructors).
const callable = (cls) => new Proxy(cls, { apply: (target, _this, args) => new target(args[0], args[1]) });

const Intl = {
  ...engineIntl,
  NumberFormat: callable(NumberFormat),
  DateTimeFormat: callable(DateTimeFormat),
  Collator: callable(Collator),
  PluralRules,
  Segmenter,
  ListFormat,
  getCanonicalLocales: (locales) => localeList(locales),
  supportedValuesOf: engineIntl.supportedValuesOf,
};
Object.defineProperty(Intl, Symbol.toStringTag, { value: "Intl", configurable: true });
globalThis.Intl = Intl;

// The toLocaleString family, on the formatters above (one kept for the
// common no-argument case).
let defaultNumber = null;
const numberToLocale = function (locales, options) {
  if (locales === undefined && options === undefined) {
    defaultNumber ??= new NumberFormat();
    return defaultNumber.format(this);
  }
  return new NumberFormat(locales, options).format(this);
};
Object.defineProperty(Number.prototype, "toLocaleString", { value: numberToLocale, writable: true, configurable: true });
Object.defineProperty(BigInt.prototype, "toLocaleString", { value: numberToLocale, writable: true, configurable: true });

const dateToLocale = (defaults) =>
  function (locales, options) {
    if (Number.isNaN(this.getTime())) return "Invalid Date";
    return new DateTimeFormat(locales, options, defaults).format(this);
  };
Object.defineProperty(Date.prototype, "toLocaleString", { value: dateToLocale("all"), writable: true, configurable: true });
Object.defineProperty(Date.prototype, "toLocaleDateString", { value: dateToLocale("date"), writable: true, configurable: true });
Object.defineProperty(Date.prototype, "toLocaleTimeString", { value: dateToLocale("time"), writable: true, configurable: true });

let defaultCollator = null;
Object.defineProperty(String.prototype, "localeCompare", {
  value: function (that, locales, options) {
    if (locales === undefined && options === undefined) {
      defaultCollator ??= new Collator();
      return defaultCollator.compare(String(this), String(that));
    }
    return new Collator(locales, options).compare(String(this), String(that));
  },
  writable: true,
  configurable: true,
});
