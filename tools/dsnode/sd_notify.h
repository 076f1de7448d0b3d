// systemd's readiness protocol (sd_notify(3)) without libsystemd: when $NOTIFY_SOCKET is set,
// one AF_UNIX datagram per state change ("READY=1", "STOPPING=1") goes to that socket.
// Why hand-written instead of libsystemd's sd_notify: see docs/decisions.md.
#pragma once

#include <string>

namespace dstk::tools {

// Sends `state` (newline-separated KEY=VALUE lines) to $NOTIFY_SOCKET. Returns "" when sent
// or when $NOTIFY_SOCKET is unset (not under systemd: nothing to do), else why it failed.
// A path starting with '@' names a Linux abstract socket, as in systemd.
std::string NotifySystemd(const std::string& state);

}  // namespace dstk::tools
