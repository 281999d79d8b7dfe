// Daemon chores: detaching, the pid file, dropping root.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace relaytrust::milter {

struct UserIds {
    uid_t uid;
    gid_t gid;
    std::string name;
};

// Looks the user up (before chroot-like surprises or dropping root). nullopt + error if unknown.
std::optional<UserIds> find_user(const std::string& name, std::string& error);

// Detaches from the terminal (fork, setsid, fork) with stdin/stdout/stderr on /dev/null. The
// original process exits 0 once the daemon runs. Returns false + error if a fork failed.
bool daemonize(std::string& error);

// Writes the pid file (mode 0644). The caller removes it on exit.
bool write_pidfile(const std::string& path, std::string& error);

// Switches to the user's uid, gid and supplementary groups for good.
bool drop_privileges(const UserIds& user, std::string& error);

}  // namespace relaytrust::milter
