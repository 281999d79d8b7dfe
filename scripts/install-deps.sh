#!/usr/bin/env bash
# Installs every build and test dependency of relaytrust on Debian 12, as root.
# Idempotent and non-interactive: packages already present are not touched (naming installed
# packages would make apt upgrade them mid-run).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (it calls apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive

BUILD_PACKAGES=(
    build-essential cmake pkg-config git
    libmilter-dev libpoco-dev libssl-dev libjsoncpp-dev doctest-dev
    libunbound-dev libevent-dev libpsl-dev publicsuffix
    libbenchmark-dev clang libclang-rt-14-dev clang-format
    pandoc  # packaging/: man pages from the Markdown in docs/
)
TEST_PACKAGES=(
    postfix swaks libnet-ssleay-perl miltertest
    unbound dovecot-sieve python3 python3-spf wrk procps iproute2 curl openssl
    m4 libwrap0 libldap-2.5-0  # tests/milter/sendmail_test.sh: .cf build, unpacked sendmail
    sasl2-bin libsasl2-modules  # tests/milter/postfix_test.sh tls: SASL AUTH ({auth_authen})
    man-db groff-base systemd adduser  # tests/packaging: man -w, groff -ww, systemd-analyze
)

missing=()
for p in "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps.sh: all ${#BUILD_PACKAGES[@]}+${#TEST_PACKAGES[@]} packages present"
    exit 0
fi

# Postfix must not configure or start a system instance: tests run private ones under /tmp.
debconf-set-selections <<'PRESEED'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string localhost.localdomain
PRESEED

echo "install-deps.sh: installing ${missing[*]}"
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
