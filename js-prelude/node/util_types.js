// node:util/types: what kind of built-in object a value is.
"use strict";

const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
const isObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
const TypedArray = Object.getPrototypeOf(Uint8Array);
const typedTag = (v) => Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get.call(v);
const AsyncFunction = (async () => {}).constructor;
const GeneratorFunction = function* () {}.constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;

function brand(check) {
  return (v) => {
    if (!isObject(v)) return false;
    try {
      check(v);
      return true;
    } catch {
      return false;
    }
  };
}

module.exports = {
  isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer),
  isArrayBuffer: (v) => v instanceof ArrayBuffer,
  isSharedArrayBuffer: (v) => typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer,
  isArrayBufferView: (v) => ArrayBuffer.isView(v),
  isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
  isUint8Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Uint8Array",
  isUint8ClampedArray: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Uint8ClampedArray",
  isUint16Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Uint16Array",
  isUint32Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Uint32Array",
  isInt8Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Int8Array",
  isInt16Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Int16Array",
  isInt32Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Int32Array",
  isFloat32Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Float32Array",
  isFloat64Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "Float64Array",
  isBigInt64Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "BigInt64Array",
  isBigUint64Array: (v) => ArrayBuffer.isView(v) && typedTag(v) === "BigUint64Array",
  isDataView: (v) => v instanceof DataView,
  isDate: brand((v) => Date.prototype.getTime.call(v)),
  isRegExp: brand((v) => Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get.call(v)),
  isMap: brand((v) => Map.prototype.has.call(v)),
  isSet: brand((v) => Set.prototype.has.call(v)),
  isWeakMap: brand((v) => WeakMap.prototype.has.call(v, {})),
  isWeakSet: brand((v) => WeakSet.prototype.has.call(v, {})),
  isPromise: (v) => v instanceof Promise || tag(v) === "Promise",
  isProxy: () => false,
  isNativeError: (v) => v instanceof Error,
  isAsyncFunction: (v) => v instanceof AsyncFunction || v instanceof AsyncGeneratorFunction,
  isGeneratorFunction: (v) => v instanceof GeneratorFunction || v instanceof AsyncGeneratorFunction,
  isGeneratorObject: (v) => tag(v) === "Generator",
  isMapIterator: (v) => tag(v) === "Map Iterator",
  isSetIterator: (v) => tag(v) === "Set Iterator",
  isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt || v instanceof Symbol,
  isNumberObject: (v) => v instanceof Number,
  isStringObject: (v) => v instanceof String,
  isBooleanObject: (v) => v instanceof Boolean,
  isBigIntObject: (v) => v instanceof BigInt,
  isSymbolObject: (v) => v instanceof Symbol,
  isArgumentsObject: (v) => tag(v) === "Arguments",
  isExternal: () => false,
  isModuleNamespaceObject: (v) => tag(v) === "Module",
  isKeyObject: () => false,
  isCryptoKey: (v) => typeof CryptoKey !== "undefined" && v instanceof CryptoKey,
};
