#include "header_edit_translation.h"

#include <algorithm>
#include <optional>

#include "headers/verdict_header_parser.h"

namespace relaytrust::hookd {

namespace {

using headers::iequals;
using Kind = Modification::Kind;
using Type = HookModification::Type;

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    });
    return out;
}

// Rust's u8::is_ascii_whitespace, which Stalwart uses to decide between "Name:" and "Name: ".
bool starts_with_ascii_whitespace(std::string_view value) {
    if (value.empty()) return false;
    const char c = value.front();
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// Stalwart's header list as it evolves while it applies our modifications in order. Only
// headers Stalwart can address are in `block`; appended headers wait in `appended` until the
// end, when they are glued to the last header.
// Names and values are views of the original headers and of the engine's edits, which both
// outlive the Translator: the header list is tracked without copying a single header.
class Translator {
  public:
    Translator(const std::vector<Header>& original, std::size_t edit_count) : original_(original) {
        block_.reserve(original.size() + edit_count);
        for (const auto& h : original)
            block_.push_back({h.name, h.raw_value, std::nullopt});
        out_.reserve(edit_count + 1);  // one edit each, and one for appended headers
    }

    void apply(const Modification& edit) {
        switch (edit.kind) {
            case Kind::InsertHeader:
                emit({Type::InsertHeader, 0, edit.name, edit.value});
                block_.insert(block_.begin(), Entry{edit.name, edit.value, out_.size() - 1});
                break;
            case Kind::AddHeader:
                appended_.push_back({edit.name, edit.value});
                break;
            case Kind::ChangeHeader:
                change(edit.name, std::max(edit.index, 1), edit.value);
                break;
            case Kind::DeleteHeader:
                change(edit.name, std::max(edit.index, 1), "");
                break;
            case Kind::ChangeSender:
                // Stalwart maps "<>" to the null sender; a bare "" would be an empty address.
                emit({Type::ChangeFrom, 0, "", edit.value.empty() ? "<>" : edit.value});
                break;
            case Kind::AddRecipient:
                emit({Type::AddRecipient, 0, "", edit.value});
                break;
            case Kind::DeleteRecipient:
                // Stalwart compares the value with lowercased addresses without lowercasing it.
                emit({Type::DeleteRecipient, 0, "", lowercase(edit.value)});
                break;
            case Kind::ReplaceBody:
                emit({Type::ReplaceContents, 0, "", edit.value});
                break;
        }
    }

    std::vector<HookModification> finish() {
        if (!appended_.empty()) flush_appended();
        prefer_add_header();
        return std::move(out_);
    }

  private:
    struct Entry {
        std::string_view name;
        std::string_view value;
        std::optional<std::size_t> inserted_by;  // index into out_ of our insertHeader
    };
    struct Appended {
        std::string_view name;
        std::string_view value;
    };

    void emit(HookModification m) { out_.push_back(std::move(m)); }

    bool in_original(std::string_view name) const {
        return std::any_of(original_.begin(), original_.end(),
                           [&](const Header& h) { return iequals(h.name, name); });
    }

    // Position of the occurrence-th header called name in block_, and how many there are.
    std::pair<std::optional<std::size_t>, int> find(std::string_view name, int occurrence) const {
        int count = 0;
        std::optional<std::size_t> found;
        for (std::size_t i = 0; i < block_.size(); ++i) {
            if (!iequals(block_[i].name, name)) continue;
            if (++count == occurrence) found = i;
        }
        return {found, count};
    }

    void change(std::string_view name, int occurrence, std::string_view value) {
        auto [position, count] = find(name, occurrence);
        if (!position) {
            change_appended(name, occurrence - count, value);
            return;
        }
        Entry& entry = block_[*position];
        if (value.empty()) {
            // Stalwart deletes any addressable occurrence, inserted ones included.
            emit({Type::DeleteHeader, static_cast<std::uint32_t>(occurrence), std::string(name),
                  ""});
            block_.erase(block_.begin() + static_cast<std::ptrdiff_t>(*position));
        } else if (in_original(name)) {
            emit({Type::ChangeHeader, static_cast<std::uint32_t>(occurrence), std::string(name),
                  std::string(value)});
            entry.value = value;
        } else {
            // Stalwart's changeHeader of a name the original message lacks adds a new header
            // on top instead; the entry is one we inserted, so rewrite that insert.
            out_[*entry.inserted_by].value = value;
            entry.value = value;
        }
    }

    // The milter rule: editing an occurrence past the block's end addresses the appended
    // headers, and changing one that does not exist at all adds it at the end.
    void change_appended(std::string_view name, int occurrence, std::string_view value) {
        int count = 0;
        for (auto it = appended_.begin(); it != appended_.end(); ++it) {
            if (!iequals(it->name, name) || ++count != occurrence) continue;
            if (value.empty()) {
                appended_.erase(it);
            } else {
                it->value = value;
            }
            return;
        }
        if (!value.empty()) appended_.push_back({name, value});
    }

    void flush_appended() {
        if (block_.empty()) {
            // Nothing to attach to: top and bottom are the same place.
            for (auto it = appended_.rbegin(); it != appended_.rend(); ++it) {
                emit({Type::InsertHeader, 0, std::string(it->name), std::string(it->value)});
            }
            return;
        }
        Entry& last = block_.back();
        // Stalwart writes "Name:" + value when the value starts with whitespace, else
        // "Name: " + value, then CRLF: continuation lines after the last value become
        // headers of their own, byte for byte.
        std::string glued(last.value);
        for (const auto& a : appended_) {
            glued += "\r\n";
            glued += a.name;
            glued += ": ";
            glued += a.value;
        }
        if (last.inserted_by) {
            out_[*last.inserted_by].value = std::move(glued);
        } else {
            const int occurrence = find(last.name, INT32_MAX).second;
            emit({Type::ChangeHeader, static_cast<std::uint32_t>(occurrence),
                  std::string(last.name), std::move(glued)});
        }
    }

    // When the only header edits are inserts on top, send them as addHeaders: then Stalwart
    // keeps the received header block byte for byte instead of re-serializing it (which adds
    // a space after "Name:" where the sender wrote none). addHeaders alone are written in list
    // order, so they go in reverse to match "each insert on top in turn".
    void prefer_add_header() {
        std::vector<HookModification*> header_edits;
        for (auto& m : out_) {
            switch (m.type) {
                case Type::InsertHeader:
                    // "Name: value" is written either way only if value has no leading WSP.
                    if (m.index != 0 || starts_with_ascii_whitespace(m.value)) {
                        return;
                    }
                    header_edits.push_back(&m);
                    break;
                case Type::AddHeader:
                case Type::ChangeHeader:
                case Type::DeleteHeader:
                    return;
                default:
                    break;
            }
        }
        for (std::size_t i = 0, j = header_edits.size(); i + 1 < j; ++i, --j) {
            std::swap(*header_edits[i], *header_edits[j - 1]);
        }
        for (auto* m : header_edits)
            m->type = Type::AddHeader;
    }

    const std::vector<Header>& original_;
    std::vector<Entry> block_;
    std::vector<Appended> appended_;
    std::vector<HookModification> out_;
};

}  // namespace

std::vector<HookModification> translate_modifications(const std::vector<Modification>& engine_edits,
                                                      const std::vector<Header>& original_headers) {
    Translator translator(original_headers, engine_edits.size());
    for (const auto& edit : engine_edits)
        translator.apply(edit);
    return translator.finish();
}

}  // namespace relaytrust::hookd
