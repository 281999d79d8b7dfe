// String building for the engine's per-message texts (reasons, header values) in a single
// allocation: a chain of operator+ makes a temporary, and often a reallocation, per piece.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace relaytrust {

inline void append_all(std::string& out, std::initializer_list<std::string_view> parts) {
    std::size_t size = out.size();
    for (const std::string_view part : parts)
        size += part.size();
    out.reserve(size);
    for (const std::string_view part : parts)
        out.append(part);
}

inline std::string concat(std::initializer_list<std::string_view> parts) {
    std::string out;
    append_all(out, parts);
    return out;
}

}  // namespace relaytrust
