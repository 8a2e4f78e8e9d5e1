// node:fs/promises: the promise forms from node:fs.
"use strict";

const p = require("fs").promises;

module.exports = {
  readFile: p.readFile,
  writeFile: p.writeFile,
  appendFile: p.appendFile,
  stat: p.stat,
  lstat: p.lstat,
  access: p.access,
  readdir: p.readdir,
  mkdir: p.mkdir,
  rm: p.rm,
  rmdir: p.rmdir,
  unlink: p.unlink,
  rename: p.rename,
  copyFile: p.copyFile,
  realpath: p.realpath,
  mkdtemp: p.mkdtemp,
  open: p.open,
  constants: p.constants,
};
