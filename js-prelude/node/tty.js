// node:tty: assistants have no terminal.
"use strict";

module.exports = {
  isatty: () => false,
  ReadStream: class ReadStream {},
  WriteStream: class WriteStream {},
};
