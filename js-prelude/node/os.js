// node:os: a harmless subset. The home folder is $HOME only when HOME is
// granted in permissions.env; otherwise it is the assistant's own folder
// (packages such as langsmith look for config files under it).
"use strict";

function homedir() {
  return globalThis.process.env.HOME ?? globalThis.process.cwd();
}

module.exports = {
  EOL: "\n",
  devNull: "/dev/null",
  arch: () => jan.os.arch,
  platform: () => jan.os.platform,
  type: () => jan.os.type,
  release: () => "",
  version: () => "",
  machine: () => jan.os.arch,
  endianness: () => "LE",
  hostname: () => "localhost",
  homedir,
  tmpdir: () => globalThis.process.env.TMPDIR ?? "/tmp",
  availableParallelism: () => jan.os.cpus,
  cpus: () => Array.from({ length: jan.os.cpus }, () => ({ model: "", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } })),
  loadavg: () => [0, 0, 0],
  uptime: () => 0,
  freemem: () => 0,
  totalmem: () => 0,
  networkInterfaces: () => ({}),
  userInfo: () => {
    throw new Error("os.userInfo() is not available in jan assistants");
  },
  constants: { signals: {}, errno: {}, priority: {} },
};
