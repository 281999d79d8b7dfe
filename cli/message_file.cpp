#include "message_file.h"

#include <algorithm>

#include "headers/verdict_header_parser.h"

namespace relaytrust::cli {

namespace {
// Reads one physical line without its line end; returns false at EOF with nothing read.
bool read_line(std::ifstream& in, std::string& line, bool& had_cr) {
    if (!std::getline(in, line)) return false;
    had_cr = !line.empty() && line.back() == '\r';
    if (had_cr) line.pop_back();
    return true;
}
}  // namespace

MessageFile::MessageFile(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) {
        error_ = "cannot open " + path;
        return;
    }
    std::string line;
    bool had_cr = false;
    bool first = true;
    while (true) {
        const std::streamoff line_start = in_.tellg();
        if (!read_line(in_, line, had_cr)) {
            body_offset_ = -1;  // headers only, no body
            break;
        }
        if (first) {
            line_end_ = had_cr ? "\r\n" : "\n";
            first = false;
            // An mbox "From " line is not a header; skip it as MTAs never see it.
            if (line.rfind("From ", 0) == 0) continue;
        }
        if (line.empty()) {
            body_offset_ = in_.tellg();
            break;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (headers_.empty()) {
                error_ = "message starts with a continuation line";
                return;
            }
            headers_.back().raw_value += line_end_ + line;
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0) {
            // Not a header: RFC 5322 says the header block ended without a blank line. Treat
            // this line as the first body line, as Postfix does.
            body_offset_ = line_start;
            break;
        }
        std::string name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
            name.pop_back();
        headers_.push_back({std::move(name), line.substr(colon + 1)});
    }
}

bool MessageFile::stream_body(const std::function<void(std::string_view)>& sink,
                              std::size_t chunk_size) {
    if (body_offset_ < 0) return true;
    in_.clear();
    in_.seekg(body_offset_);
    std::string buf(chunk_size, '\0');
    while (in_) {
        in_.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = in_.gcount();
        if (n > 0) sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    return in_.eof();
}

void apply_modifications(const std::vector<Modification>& mods, EditedMessage& message) {
    using Kind = Modification::Kind;
    auto& hs = message.headers;
    // Position of the index-th header named `name`, or hs.end().
    auto nth = [&](const std::string& name, int index) {
        int seen = 0;
        for (auto it = hs.begin(); it != hs.end(); ++it) {
            if (headers::iequals(it->name, name) && ++seen == index) return it;
        }
        return hs.end();
    };
    auto raw = [&](const Modification& m) {
        return make_raw_value(m.name, m.value, message.line_end);
    };
    for (const auto& m : mods) {
        switch (m.kind) {
            case Kind::AddHeader:
                hs.push_back({m.name, raw(m)});
                break;
            case Kind::InsertHeader:
                hs.insert(hs.begin() +
                              std::min<std::size_t>(static_cast<std::size_t>(m.index), hs.size()),
                          {m.name, raw(m)});
                break;
            case Kind::ChangeHeader:
                if (auto it = nth(m.name, m.index); it != hs.end()) {
                    it->raw_value = raw(m);
                } else {
                    hs.push_back({m.name, raw(m)});  // milter: change of a missing one adds
                }
                break;
            case Kind::DeleteHeader:
                if (auto it = nth(m.name, m.index); it != hs.end()) hs.erase(it);
                break;
            case Kind::ChangeSender:
                message.mail_from = m.value;
                break;
            case Kind::AddRecipient:
                message.recipients.push_back(m.value);
                break;
            case Kind::DeleteRecipient:
                std::erase(message.recipients, m.value);
                break;
            case Kind::ReplaceBody:
                message.body_replaced = true;
                message.new_body += m.value;
                break;
        }
    }
}

std::string serialize_headers(const std::vector<Header>& headers, const std::string& line_end) {
    std::string out;
    for (const auto& h : headers) {
        out += h.name;
        out += ':';
        out += h.raw_value;
        out += line_end;
    }
    return out;
}

std::string make_raw_value(std::string_view name, std::string_view value,
                           const std::string& line_end) {
    // Fold at spaces so no line exceeds 78 characters where possible.
    std::string out;
    std::size_t col = name.size() + 1;
    std::size_t pos = 0;
    while (pos < value.size()) {
        std::size_t next = value.find(' ', pos + 1);
        if (next == std::string_view::npos) next = value.size();
        std::string_view word = value.substr(pos, next - pos);
        if (!out.empty() && col + word.size() > 78 && word.front() == ' ') {
            // Fold by putting a line end before the space, so unfolding restores the text.
            out += line_end;
            col = 0;
        } else if (out.empty() && word.front() != ' ') {
            out += ' ';
            ++col;
        }
        out += word;
        col += word.size();
        pos = next;
    }
    if (out.empty()) out = " ";
    return out;
}

}  // namespace relaytrust::cli
