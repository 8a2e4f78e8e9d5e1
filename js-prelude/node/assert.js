// node:assert: assertions with Node's AssertionError and deep equality.
"use strict";

const util = require("util");

class AssertionError extends Error {
  constructor(options) {
    const { message, actual, expected, operator } = options;
    super(message ?? `${util.inspect(actual)} ${operator} ${util.inspect(expected)}`);
    this.name = "AssertionError";
    this.code = "ERR_ASSERTION";
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
    this.generatedMessage = message === undefined;
  }
}

function fail(actual, expected, message, operator, defaultMessage) {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message: message ?? defaultMessage, actual, expected, operator });
}

function ok(value, message) {
  if (!value) fail(value, true, message, "==", arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value");
}

const deep = (a, b, strict) => util._deepEqual(a, b, strict, []);

function assert(value, message) {
  if (!value) fail(value, true, message, "==", arguments.length === 0 ? "No value argument passed to `assert.ok()`" : "The expression evaluated to a falsy value");
}

function matchesExpected(err, expected) {
  if (expected === undefined) return true;
  if (typeof expected === "function") {
    if (expected.prototype !== undefined && err instanceof expected) return true;
    if (Error.isPrototypeOf(expected) || expected === Error) return false;
    return expected.call({}, err) === true;
  }
  if (expected instanceof RegExp) return expected.test(String(err?.message ?? err));
  if (typeof expected === "object" && expected !== null) {
    return Object.keys(expected).every((k) =>
      expected[k] instanceof RegExp && typeof err?.[k] === "string" ? expected[k].test(err[k]) : deep(err?.[k], expected[k], true),
    );
  }
  return true;
}

function throws(fn, expected, message) {
  if (typeof expected === "string") [message, expected] = [expected, undefined];
  try {
    fn();
  } catch (e) {
    if (!matchesExpected(e, expected)) {
      if (message) fail(e, expected, message, "throws");
      throw e;
    }
    return;
  }
  fail(undefined, expected, message, "throws", "Missing expected exception.");
}

async function rejects(promiseOrFn, expected, message) {
  if (typeof expected === "string") [message, expected] = [expected, undefined];
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    if (!matchesExpected(e, expected)) {
      if (message) fail(e, expected, message, "rejects");
      throw e;
    }
    return;
  }
  fail(undefined, expected, message, "rejects", "Missing expected rejection.");
}

function doesNotThrow(fn, _expected, message) {
  try {
    fn();
  } catch (e) {
    fail(e, undefined, typeof _expected === "string" ? _expected : message, "doesNotThrow", `Got unwanted exception.\nActual message: "${e?.message}"`);
  }
}

async function doesNotReject(p, _expected, message) {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    fail(e, undefined, typeof _expected === "string" ? _expected : message, "doesNotReject", `Got unwanted rejection.\nActual message: "${e?.message}"`);
  }
}

const methods = {
  ok,
  fail: (message = "Failed") => fail(undefined, undefined, message, "fail"),
  equal: (a, b, m) => (a == b || (a !== a && b !== b)) || fail(a, b, m, "==", `${util.inspect(a)} == ${util.inspect(b)}`),
  notEqual: (a, b, m) => (a != b && !(a !== a && b !== b)) || fail(a, b, m, "!=", `${util.inspect(a)} != ${util.inspect(b)}`),
  strictEqual: (a, b, m) => Object.is(a, b) || fail(a, b, m, "strictEqual", `Expected values to be strictly equal:\n\n${util.inspect(a)} !== ${util.inspect(b)}\n`),
  notStrictEqual: (a, b, m) => !Object.is(a, b) || fail(a, b, m, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${util.inspect(b)}`),
  deepEqual: (a, b, m) => deep(a, b, false) || fail(a, b, m, "deepEqual", "Expected values to be loosely deep-equal"),
  notDeepEqual: (a, b, m) => !deep(a, b, false) || fail(a, b, m, "notDeepEqual", "Expected \"actual\" not to be loosely deep-equal to \"expected\""),
  deepStrictEqual: (a, b, m) => deep(a, b, true) || fail(a, b, m, "deepStrictEqual", "Expected values to be strictly deep-equal"),
  notDeepStrictEqual: (a, b, m) => !deep(a, b, true) || fail(a, b, m, "notDeepStrictEqual", "Expected \"actual\" not to be strictly deep-equal to \"expected\""),
  match: (s, re, m) => re.test(s) || fail(s, re, m, "match", `The input did not match the regular expression ${re}. Input:\n\n${util.inspect(s)}\n`),
  doesNotMatch: (s, re, m) => !re.test(s) || fail(s, re, m, "doesNotMatch", `The input was expected to not match the regular expression ${re}. Input:\n\n${util.inspect(s)}\n`),
  throws,
  doesNotThrow,
  rejects,
  doesNotReject,
  ifError: (v) => {
    if (v !== null && v !== undefined) {
      if (v instanceof Error) throw v;
      fail(v, null, `ifError got unwanted exception: ${util.inspect(v)}`, "ifError");
    }
  },
  AssertionError,
};
for (const [k, f] of Object.entries(methods)) assert[k] = f;

// assert.strict: the loose comparisons are the strict ones.
function strict(value, message) {
  if (!value) fail(value, true, message, "==", "The expression evaluated to a falsy value");
}
for (const [k, f] of Object.entries(methods)) strict[k] = f;
strict.equal = methods.strictEqual;
strict.notEqual = methods.notStrictEqual;
strict.deepEqual = methods.deepStrictEqual;
strict.notDeepEqual = methods.notDeepStrictEqual;
strict.strict = strict;
assert.strict = strict;

module.exports = assert;
module.exports.ok = methods.ok;
module.exports.fail = methods.fail;
module.exports.equal = methods.equal;
module.exports.notEqual = methods.notEqual;
module.exports.strictEqual = methods.strictEqual;
module.exports.notStrictEqual = methods.notStrictEqual;
module.exports.deepEqual = methods.deepEqual;
module.exports.notDeepEqual = methods.notDeepEqual;
module.exports.deepStrictEqual = methods.deepStrictEqual;
module.exports.notDeepStrictEqual = methods.notDeepStrictEqual;
module.exports.match = methods.match;
module.exports.doesNotMatch = methods.doesNotMatch;
module.exports.throws = methods.throws;
module.exports.doesNotThrow = methods.doesNotThrow;
module.exports.rejects = methods.rejects;
module.exports.doesNotReject = methods.doesNotReject;
module.exports.ifError = methods.ifError;
module.exports.AssertionError = AssertionError;
module.exports.strict = strict;
