#include "message_edits.h"

#include <climits>

namespace relaytrust::milter {

namespace {

char* c_text(const std::string& text) {
    return const_cast<char*>(text.c_str());
}

std::string bracketed(const std::string& address) {
    return "<" + address + ">";
}

}  // namespace

unsigned long action_flag_for(Modification::Kind kind) {
    using Kind = Modification::Kind;
    switch (kind) {
        case Kind::AddHeader:
        case Kind::InsertHeader:
            return SMFIF_ADDHDRS;
        case Kind::ChangeHeader:
        case Kind::DeleteHeader:
            return SMFIF_CHGHDRS;
        case Kind::ChangeSender:
            return SMFIF_CHGFROM;
        case Kind::AddRecipient:
            return SMFIF_ADDRCPT;
        case Kind::DeleteRecipient:
            return SMFIF_DELRCPT;
        case Kind::ReplaceBody:
            return SMFIF_CHGBODY;
    }
    return 0;
}

std::string header_value_for_mta(const Connection& connection, const std::string& value) {
    return connection.header_leading_space ? " " + value : value;
}

bool apply_modifications(SMFICTX* ctx, const Connection& connection,
                         const std::vector<Modification>& modifications, std::string& error) {
    using Kind = Modification::Kind;
    for (const Modification& m : modifications) {
        const unsigned long needed = action_flag_for(m.kind);
        if (connection.negotiated && (connection.actions & needed) == 0) {
            error = "the MTA did not grant the action needed to " +
                    std::string(modification_kind_name(m.kind)) + " " + m.name;
            return false;
        }
        int rc = MI_FAILURE;
        const char* call = "";
        switch (m.kind) {
            case Kind::AddHeader: {
                call = "smfi_addheader";
                std::string value = header_value_for_mta(connection, m.value);
                rc = smfi_addheader(ctx, c_text(m.name), c_text(value));
                break;
            }
            case Kind::InsertHeader: {
                call = "smfi_insheader";
                std::string value = header_value_for_mta(connection, m.value);
                rc = smfi_insheader(ctx, m.index, c_text(m.name), c_text(value));
                break;
            }
            case Kind::ChangeHeader: {
                call = "smfi_chgheader";
                std::string value = header_value_for_mta(connection, m.value);
                rc = smfi_chgheader(ctx, c_text(m.name), m.index, c_text(value));
                break;
            }
            case Kind::DeleteHeader:
                call = "smfi_chgheader (delete)";
                rc = smfi_chgheader(ctx, c_text(m.name), m.index, nullptr);
                break;
            case Kind::ChangeSender: {
                call = "smfi_chgfrom";
                std::string sender = bracketed(m.value);
                rc = smfi_chgfrom(ctx, c_text(sender), nullptr);
                break;
            }
            case Kind::AddRecipient: {
                call = "smfi_addrcpt";
                std::string rcpt = bracketed(m.value);
                rc = smfi_addrcpt(ctx, c_text(rcpt));
                break;
            }
            case Kind::DeleteRecipient: {
                call = "smfi_delrcpt";
                std::string rcpt = bracketed(m.value);
                rc = smfi_delrcpt(ctx, c_text(rcpt));
                break;
            }
            case Kind::ReplaceBody:
                call = "smfi_replacebody";
                if (m.value.size() > static_cast<std::size_t>(INT_MAX)) {
                    error = "replacement body too large";
                    return false;
                }
                // libmilter splits the body into protocol-sized packets itself.
                rc = smfi_replacebody(
                    ctx, reinterpret_cast<unsigned char*>(const_cast<char*>(m.value.data())),
                    static_cast<int>(m.value.size()));
                break;
        }
        if (rc != MI_SUCCESS) {
            error = std::string(call) + " failed for " +
                    std::string(modification_kind_name(m.kind)) +
                    (m.name.empty() ? std::string() : " " + m.name);
            return false;
        }
    }
    return true;
}

}  // namespace relaytrust::milter
