#include "process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace relaytrust::milter {

namespace {
std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}
}  // namespace

std::optional<UserIds> find_user(const std::string& name, std::string& error) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    int rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc != 0 || found == nullptr) {
        error = "unknown user " + name + (rc != 0 ? std::string(": ") + std::strerror(rc) : "");
        return std::nullopt;
    }
    return UserIds{found->pw_uid, found->pw_gid, found->pw_name};
}

bool daemonize(std::string& error) {
    pid_t pid = fork();
    if (pid < 0) {
        error = errno_text("fork");
        return false;
    }
    if (pid > 0) _exit(0);
    if (setsid() < 0) {
        error = errno_text("setsid");
        return false;
    }
    // A second fork: the daemon is no session leader and can never regain a terminal.
    pid = fork();
    if (pid < 0) {
        error = errno_text("fork");
        return false;
    }
    if (pid > 0) _exit(0);
    if (chdir("/") != 0) {
        error = errno_text("chdir /");
        return false;
    }
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0) {
        error = errno_text("open /dev/null");
        return false;
    }
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        dup2(null_fd, fd);
    if (null_fd > STDERR_FILENO) close(null_fd);
    return true;
}

bool write_pidfile(const std::string& path, std::string& error) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = errno_text("open " + path);
        return false;
    }
    std::string text = std::to_string(getpid()) + "\n";
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (!ok) error = errno_text("write " + path);
    close(fd);
    return ok;
}

bool drop_privileges(const UserIds& user, std::string& error) {
    if (initgroups(user.name.c_str(), user.gid) != 0) {
        error = errno_text("initgroups " + user.name);
        return false;
    }
    if (setgid(user.gid) != 0) {
        error = errno_text("setgid");
        return false;
    }
    if (setuid(user.uid) != 0) {
        error = errno_text("setuid");
        return false;
    }
    // Paranoia: a process that can become root again has not dropped anything.
    if (user.uid != 0 && setuid(0) == 0) {
        error = "could regain root after setuid";
        return false;
    }
    return true;
}

}  // namespace relaytrust::milter
