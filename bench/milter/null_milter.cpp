// The benchmark's baseline: a libmilter milter that decides nothing. It registers the callbacks
// a header-reading milter has (so the MTA sends every step and waits for each reply, as with
// most real milters), answers CONTINUE everywhere and ACCEPT at end of message, and edits
// nothing. Like relaytrust-milter it sets TCP_NODELAY and has a DATA callback (without one,
// Postfix's unanswered DATA macros cost 40 ms per message, see run-bench.sh), so the comparison
// measures relaytrust's own cost and not Nagle.
//
// usage: relaytrust-null-milter inet:PORT@127.0.0.1 [--no-data]
//   --no-data  leave out the DATA callback, to show what that costs
#include <libmilter/mfapi.h>

#include <cstdio>
#include <string_view>

#include "listen_socket.h"

namespace {
sfsistat go_on_connect(SMFICTX*, char*, _SOCK_ADDR*) {
    return SMFIS_CONTINUE;
}
sfsistat go_on_helo(SMFICTX*, char*) {
    return SMFIS_CONTINUE;
}
sfsistat go_on_envelope(SMFICTX*, char**) {
    return SMFIS_CONTINUE;
}
sfsistat go_on_data(SMFICTX*) {
    return SMFIS_CONTINUE;
}
sfsistat go_on_header(SMFICTX*, char*, char*) {
    return SMFIS_CONTINUE;
}
sfsistat go_on_body(SMFICTX*, unsigned char*, size_t) {
    return SMFIS_CONTINUE;
}
sfsistat accept_at_eom(SMFICTX*) {
    return SMFIS_ACCEPT;
}
char kName[] = "relaytrust-null-milter";
}  // namespace

int main(int argc, char** argv) {
    const bool with_data = !(argc == 3 && std::string_view(argv[2]) == "--no-data");
    if (argc != 2 && with_data) {
        std::fprintf(stderr, "usage: relaytrust-null-milter inet:PORT@127.0.0.1 [--no-data]\n");
        return 64;
    }
    smfiDesc desc{};
    desc.xxfi_name = kName;
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_connect = go_on_connect;
    desc.xxfi_helo = go_on_helo;
    desc.xxfi_envfrom = go_on_envelope;
    desc.xxfi_envrcpt = go_on_envelope;
    if (with_data) desc.xxfi_data = go_on_data;
    desc.xxfi_header = go_on_header;
    desc.xxfi_body = go_on_body;
    desc.xxfi_eom = accept_at_eom;
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_opensocket(true) != MI_SUCCESS) {
        std::fprintf(stderr, "relaytrust-null-milter: cannot listen on %s\n", argv[1]);
        return 69;
    }
    relaytrust::milter::enable_tcp_nodelay_on_listeners();
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
