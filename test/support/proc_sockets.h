// TcpSocketsOnPort: how many TCP sockets on this machine have local port `port` and are in
// the kernel state `state` (/proc/net/tcp and tcp6; e.g. kCloseWait for a connection the
// peer closed and the owner has not), for tests that check a daemon frees its sockets.
#pragma once

namespace halo::testing {

inline constexpr int kTcpEstablished = 0x01;
inline constexpr int kTcpCloseWait = 0x08;

int TcpSocketsOnPort(int port, int state);

}  // namespace halo::testing
