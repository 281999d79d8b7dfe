#include "listen_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relaytrust::milter {

int enable_tcp_nodelay_on_listeners() {
    rlimit limit{};
    int max_fd = 1024;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        // Only a handful of descriptors exist this early; the cap keeps a huge limit cheap.
        max_fd = static_cast<int>(limit.rlim_cur < 65536 ? limit.rlim_cur : 65536);
    }
    int changed = 0;
    for (int fd = 0; fd < max_fd; ++fd) {
        int listening = 0;
        socklen_t length = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || !listening) {
            continue;
        }
        sockaddr_storage address{};
        socklen_t address_length = sizeof address;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) continue;
        if (address.ss_family != AF_INET && address.ss_family != AF_INET6) continue;
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++changed;
    }
    return changed;
}

bool set_unix_socket_access(const std::string& path, mode_t mode, uid_t uid, gid_t gid,
                            std::string& error) {
    if (uid != static_cast<uid_t>(-1) && chown(path.c_str(), uid, gid) != 0) {
        error = "chown " + path + ": " + std::strerror(errno);
        return false;
    }
    if (chmod(path.c_str(), mode) != 0) {
        error = "chmod " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

}  // namespace relaytrust::milter
